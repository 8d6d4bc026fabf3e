"""One run at a time on an SQLite ML Metadata store.

SQLite takes one writer at a time and TFX's local runner does not wait on a busy database, so two
runs recording into one file would fail part-way, or leave a run half recorded. Runs on the same
store take turns instead: an flock beside the file, held for the whole run and dropped by the
kernel when the process ends however it ends. MySQL stores need none of this.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from typing import Callable, Iterator

SUFFIX = ".run-lock"


@contextlib.contextmanager
def one_run_at_a_time(sqlite_path: str, say: Callable[[str], None]) -> Iterator[None]:
    path = sqlite_path + SUFFIX
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            say(f"Waiting: {holder} is running on {sqlite_path}; runs on one SQLite store take "
                "turns (use MySQL for runs side by side)")
            fcntl.flock(handle, fcntl.LOCK_EX)
            say("The other run has finished; starting.")
        handle.seek(0)
        handle.truncate()
        handle.write(f"a run (pid {os.getpid()} on {socket.gethostname()}, started "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        handle.flush()
        yield
