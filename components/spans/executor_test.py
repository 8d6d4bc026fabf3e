"""The ExampleGen executors resolve `{SPAN}` themselves where no driver did (Kubeflow)."""

from __future__ import annotations

import json

from components.spans.executor import resolve_span


def test_example_gen_executor_resolves_the_newest_span_when_no_driver_did(tmp_path):
    root = tmp_path / "data"
    for span in (1, 2, 10):
        (root / f"span-{span}").mkdir(parents=True)
        (root / f"span-{span}" / "part.tfrecord").write_bytes(b"x" * span)
    unresolved = {"input_base": str(root),
                  "input_config": json.dumps({"splits": [{"name": "single_split",
                                                          "pattern": "span-{SPAN}/*"}]})}
    resolved = resolve_span(unresolved)
    assert resolved["span"] == 10  # numeric order, not text order
    assert json.loads(resolved["input_config"])["splits"][0]["pattern"] == "span-10/*"
    assert "num_files:1,total_bytes:10" in resolved["input_fingerprint"]
    # A pattern a driver already resolved (local runs) is left alone.
    assert resolve_span(resolved) is resolved
