"""KFP task: the newest span's input fingerprint, as an output parameter of its own.

Open-source KFP skips TFX's ExampleGen driver (a `lifecycle` hook) and keys its cache on input
parameter values: ExampleGen's inputs are constants (`span-{SPAN}/*`), so without this every
scheduled run would reuse the first run's examples. The Kubeflow compiler (pipelines/kfp_spec.py)
puts this task, never cached, in front of ExampleGen and hands its fingerprint to ExampleGen as one
more parameter: new data (a new span, or changed files) changes ExampleGen's cache key, and the
same data keeps it, so nothing downstream reruns.

A look-up, so it stays light: the platform's `{SPAN}` patterns are resolved without TensorFlow or
TFX (newest.py); only patterns that need TFX's resolver import it.
"""

from __future__ import annotations

from typing import Any

from components.common import kfp_io
from components.spans.newest import newest_span

FINGERPRINT_OUTPUT = "input_fingerprint"
SPAN_OUTPUT = "span"
# ExampleGen's parameters this task reads, copied from the ExampleGen task.
INPUT_PARAMETERS = ("input_base", "input_config", "range_config")


def find(params: dict[str, Any], executor_input: dict) -> dict[str, Any]:
    given = {k: v for k, v in params.items() if v not in (None, "", "null")}
    found = newest_span(given["input_base"], given["input_config"], given.get("range_config"))
    if found is None:
        found = _resolved_by_tfx(given)
    fingerprint, span = found
    print(f"span {span}: {fingerprint}", flush=True)
    return {FINGERPRINT_OUTPUT: fingerprint, SPAN_OUTPUT: span}


def _resolved_by_tfx(params: dict[str, Any]) -> tuple[str, int]:
    from tfx.components.example_gen import utils

    from components.spans.executor import resolve_span

    resolved = resolve_span(params, always=True)
    return resolved[utils.FINGERPRINT_PROPERTY_NAME], resolved[utils.SPAN_PROPERTY_NAME]


if __name__ == "__main__":
    kfp_io.main(find, __doc__)
