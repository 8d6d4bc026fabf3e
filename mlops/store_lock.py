"""One run at a time on an SQLite ML Metadata store, and the run that was killed.

SQLite takes one writer at a time and TFX's local runner does not wait on a busy database, so two
runs recording into one file would fail part-way, or leave a run half recorded. Runs on the same
store take turns instead: an flock beside the file, held for the whole run and dropped by the
kernel when the process ends however it ends. The lock file also says which run holds it and
whether that run finished: a run that finds a record still saying `running` knows its holder was
killed (SIGKILL, a lost machine) without recording anything. MySQL stores need none of this.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from typing import Callable, Iterator, Optional

SUFFIX = ".run-lock"


def _describe(record: dict) -> str:
    return (f"a run of {record.get('pipeline', '?')} (pid {record.get('pid', '?')} on "
            f"{record.get('host', '?')}, started {record.get('started', '?')})")


def _read(handle) -> dict:
    handle.seek(0)
    try:
        return json.loads(handle.read() or "{}")
    except ValueError:
        return {}


def _write(handle, record: dict) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(record))
    handle.flush()


@contextlib.contextmanager
def one_run_at_a_time(sqlite_path: str, pipeline_name: str,
                      say: Callable[[str], None]) -> Iterator[Optional[dict]]:
    """Holds the store for a run; yields the record of a previous run that was killed while it
    held the store (None when the last holder finished)."""
    with open(sqlite_path + SUFFIX, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"Waiting: {_describe(_read(handle))} is running on {sqlite_path}; runs on one "
                "SQLite store take turns (use MySQL for runs side by side)")
            fcntl.flock(handle, fcntl.LOCK_EX)
            say("The other run has finished; starting.")
        previous = _read(handle)
        killed = previous if previous.get("state") == "running" else None
        record = {"pipeline": pipeline_name, "pid": os.getpid(), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "started_ms": int(time.time() * 1000), "state": "running"}
        _write(handle, record)
        try:
            yield killed
        finally:
            _write(handle, {**record, "state": "finished"})
