"""The light span look-up finds what TFX's resolver finds, to the fingerprint: ExampleGen refuses
data whose fingerprint differs from the one LatestSpan handed it."""

from __future__ import annotations

import json

import pytest

from components.spans.executor import resolve_span
from components.spans.newest import newest_span


def _config(*patterns: str) -> str:
    return json.dumps({"splits": [{"name": f"split{i}", "pattern": p}
                                  for i, p in enumerate(patterns)]})


def _by_tfx(root, config: str) -> tuple[str, int]:
    resolved = resolve_span({"input_base": str(root), "input_config": config}, always=True)
    return resolved["input_fingerprint"], resolved["span"]


@pytest.fixture
def spans(tmp_path):
    root = tmp_path / "data"
    for span, name in ((1, "span-1"), (2, "span-02"), (10, "span-10"), (3, "span-3")):
        for split in ("train", "eval"):
            (root / name / split).mkdir(parents=True)
            (root / name / split / "part.tfrecord").write_bytes(b"x" * span)
    (root / "span-10" / "notes").mkdir()  # a directory matches a `*` too, as in TFX
    return root


@pytest.mark.parametrize("patterns", [("span-{SPAN}/*",), ("span-{SPAN}/*/*",),
                                      ("span-{SPAN}/train/*", "span-{SPAN}/eval/*")])
def test_the_newest_span_and_its_fingerprint_are_tfxs(spans, patterns):
    config = _config(*patterns)
    assert newest_span(str(spans), config) == _by_tfx(spans, config)
    assert newest_span(str(spans), config)[1] == 10  # numeric order, not text order


def test_a_zero_padded_span_is_read_as_written(tmp_path):
    (tmp_path / "span-07").mkdir()
    (tmp_path / "span-07" / "part").write_bytes(b"xyz")
    config = _config("span-{SPAN}/*")
    found = newest_span(str(tmp_path), config)
    assert found == _by_tfx(tmp_path, config)
    assert found[1] == 7 and "num_files:1,total_bytes:3" in found[0]


@pytest.mark.parametrize("pattern", ["span-{SPAN:2}/*", "span-{SPAN}/v{VERSION}/*",
                                     "{YYYY}-{MM}-{DD}/*", "plain/*"])
def test_patterns_only_tfx_resolves_are_left_to_it(spans, pattern):
    assert newest_span(str(spans), _config(pattern)) is None


def test_a_range_config_is_left_to_tfx(spans):
    range_config = json.dumps({"static_range": {"start_span_number": 1, "end_span_number": 1}})
    assert newest_span(str(spans), _config("span-{SPAN}/*"), range_config) is None


def test_no_span_at_all_fails_as_tfx_does(tmp_path):
    with pytest.raises(ValueError, match="Cannot find matching"):
        newest_span(str(tmp_path), _config("span-{SPAN}/*"))
