"""Progress lines come from TFX's own log records."""

import io
import logging

from mlops.progress import ProgressHandler


def _record(message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("absl", logging.INFO, __file__, 1, message, args, None)


def test_start_end_duration_and_cache_hits():
    now = iter([100.0, 112.5, 200.0, 200.25])
    out = io.StringIO()
    handler = ProgressHandler(out, clock=lambda: next(now))
    handler.emit(_record("Component %s is running.", "Trainer"))
    assert handler.current == "Trainer"
    handler.emit(_record("Component %s is finished.", "Trainer"))
    handler.emit(_record("Component %s is running.", "Pusher"))
    handler.emit(_record("A cached execution %d is used.", 7))
    handler.emit(_record("Component %s is finished.", "Pusher"))
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("Trainer ... started")
    assert lines[1].endswith("Trainer ... done in 12.5s")
    assert lines[3].endswith("Pusher ... done in 0.2s (cached)")
    assert handler.durations == {"Trainer": 12.5, "Pusher": 0.25}
    assert handler.current is None


def test_a_long_component_reports_time_data_read_memory_and_time_left():
    """Beam prints nothing inside a stage: the heartbeat says it is alive and how far along."""
    now = iter([0.0, 10.0, 95.0])
    reads = iter([(1_000_000_000, 2**30), (1_300_000_000, 3 * 2**30)])
    out = io.StringIO()
    handler = ProgressHandler(out, clock=lambda: next(now), previous={"Transform": 130.0},
                              usage=lambda: next(reads))
    assert handler.heartbeat() is None  # nothing running
    handler.emit(_record("Component %s is running.", "Transform"))
    line = handler.heartbeat()
    assert "Transform ... running 10s" in line
    assert "300 MB read (30.0 MB/s)" in line and "3.0 GiB resident" in line
    assert "about 2m00s left (last run 2m10s)" in line
    handler.emit(_record("A cached execution %d is used.", 3))
    assert handler.heartbeat() is None  # a cache hit is quick: no heartbeat

