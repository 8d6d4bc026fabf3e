"""The newest span and its input fingerprint, as TFX's ExampleGen driver finds them, without
TensorFlow or TFX (which take most of a look-up task's time to import).

Covers patterns with one plain `{SPAN}` and no range config (what the platform's pipelines use);
anything else (`{SPAN:width}`, `{VERSION}`, dates, a static range) is left to TFX's resolver. The
result must equal TFX's `calculate_splits_fingerprint_span_and_version` exactly: ExampleGen refuses
data whose fingerprint differs from the one LatestSpan handed it (newest_test.py compares both).
"""

from __future__ import annotations

import json
import os
import re
from typing import Optional

from components.common import files

SPAN_SPEC = "{SPAN}"
_ONLY_TFX_RESOLVES = re.compile(r"\{SPAN:|\{VERSION|\{YYYY\}|\{MM\}|\{DD\}")


def _glob_to_regex(pattern: str) -> str:
    """TFX's ExampleGen utils._glob_to_regex."""
    for plain, escaped in (("\\", "\\\\"), (".", r"\."), ("+", r"\+"), ("*", r"[^\\/]*"),
                           ("?", r"[^\\/]"), ("(", r"\("), (")", r"\)")):
        pattern = pattern.replace(plain, escaped)
    return pattern


def _newest_span_token(pattern: str) -> str:
    """The span text (as written in the path, zero padding kept) of the highest span number."""
    regex = _glob_to_regex(pattern).replace(SPAN_SPEC, "(?P<span>.*)")
    newest: Optional[tuple[int, str]] = None
    for path in files.glob(pattern.replace(SPAN_SPEC, "*")):
        match = re.search(regex, path)
        if match is None:
            raise ValueError("Glob pattern does not match regex pattern")
        try:
            number = int(match.group("span"))
        except ValueError:
            raise ValueError(f"Cannot find span number from {path} based on {regex}") from None
        if newest is None or number > newest[0]:
            newest = (number, match.group("span"))
    if newest is None:
        raise ValueError(f"Cannot find matching for pattern {pattern}")
    return newest[1]


def _fingerprint(split_name: str, pattern: str) -> str:
    """TFX's io_utils.generate_fingerprint."""
    matched = files.glob(pattern)
    total_bytes = xor_checksum = sum_checksum = 0
    for path in matched:
        size, mtime = files.size_and_mtime(path)
        total_bytes += size
        xor_checksum ^= mtime
        sum_checksum += mtime
    return (f"split:{split_name},num_files:{len(matched)},total_bytes:{total_bytes},"
            f"xor_checksum:{xor_checksum},sum_checksum:{sum_checksum}")


def newest_span(input_base: str, input_config: str,
                range_config: Optional[str] = None) -> Optional[tuple[str, int]]:
    """(fingerprint, span) of the newest span under `input_base` for ExampleGen's JSON
    `input_config`; None when the patterns or a range config need TFX's resolver."""
    splits = json.loads(input_config).get("splits", [])
    if range_config or not splits or any(
            split["pattern"].count(SPAN_SPEC) != 1 or _ONLY_TFX_RESOLVES.search(split["pattern"])
            for split in splits):
        return None
    span, fingerprints = None, []
    for split in splits:
        pattern = os.path.join(input_base, split["pattern"])
        token = _newest_span_token(pattern)
        if span is not None and int(token) != span:
            raise ValueError("Latest span should be the same for each split")
        span = int(token)
        fingerprints.append(_fingerprint(split["name"], pattern.replace(SPAN_SPEC, token)))
    return "\n".join(fingerprints), span
