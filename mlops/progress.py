"""Progress of a local run, printed as components start and finish, and while a long one runs.

TFX's LocalDagRunner logs "Component X is running." / "Component X is finished." through absl; a
logging handler turns those lines into progress output, without patching TFX. Beam's direct runner
reports nothing from inside a stage, so while a component runs a heartbeat line every
`heartbeat_seconds` says how long it has run, how much data the process (and its Beam workers)
has read meanwhile and how fast, the resident memory, and the time left if the same component's
last uncached run is known (`previous`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from typing import Callable, Iterator, Optional, TextIO

_RUNNING = re.compile(r"^Component (\S+) is running\.$")
_FINISHED = re.compile(r"^Component (\S+) is finished\.$")
_CACHED = re.compile(r"^A cached execution \d+ is used\.$")
_SKIPPED = re.compile(r"^Skipping (?:component|execution for) (\S+)")


class ProgressHandler(logging.Handler):
    """Prints one line when a component starts and one when it ends, with its duration."""

    def __init__(self, out: TextIO = sys.stdout, clock: Callable[[], float] = time.monotonic,
                 previous: Optional[dict[str, float]] = None,
                 usage: Callable[[], tuple[int, int]] = None):
        super().__init__(level=logging.INFO)
        self.out = out
        self.clock = clock
        self.current: Optional[str] = None
        self.started_at = 0.0
        self.cached = False
        self.durations: dict[str, float] = {}
        self.previous = previous or {}
        self.usage = usage or process_usage
        self.read_at_start = 0

    def heartbeat(self) -> Optional[str]:
        """One line on the running component, or None between components or on a cache hit."""
        node, started = self.current, self.started_at
        if node is None or self.cached:
            return None
        elapsed = self.clock() - started
        read, resident = self.usage()
        read -= self.read_at_start
        line = (f"[{time.strftime('%H:%M:%S')}] {node} ... running {_clock(elapsed)}, "
                f"{read / 1e6:,.0f} MB read ({read / 1e6 / max(elapsed, 1e-9):,.1f} MB/s), "
                f"{resident / 2**30:.1f} GiB resident")
        if node in self.previous:
            left = self.previous[node] - elapsed
            line += (f", about {_clock(left)} left (last run {_clock(self.previous[node])})"
                     if left > 0 else f", longer than last run ({_clock(self.previous[node])})")
        return line

    def beat_every(self, seconds: float) -> None:
        """Prints heartbeat() every `seconds` from a daemon thread (a component that started
        less than `seconds` ago is left alone)."""
        import threading

        def loop() -> None:
            while True:
                time.sleep(seconds)
                if self.current is not None and self.clock() - self.started_at >= seconds:
                    line = self.heartbeat()
                    if line:
                        self._print(line)

        threading.Thread(target=loop, name="progress-heartbeat", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call elsewhere must not break the run
            return
        if match := _RUNNING.match(message):
            self.read_at_start = self.usage()[0]
            self.current, self.started_at, self.cached = match.group(1), self.clock(), False
            self._print(f"[{time.strftime('%H:%M:%S')}] {self.current} ... started")
        elif _CACHED.match(message):
            self.cached = True
        elif match := _FINISHED.match(message):
            node = match.group(1)
            elapsed = self.clock() - self.started_at
            self.durations[node] = elapsed
            note = " (cached)" if self.cached else ""
            self._print(f"[{time.strftime('%H:%M:%S')}] {node} ... done in {elapsed:.1f}s{note}")
            self.current = None
        elif match := _SKIPPED.match(message):
            self._print(f"[{time.strftime('%H:%M:%S')}] {match.group(1)} ... skipped")

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def process_usage() -> tuple[int, int]:
    """(bytes read so far, resident bytes) of this process and its children (Beam's workers in
    multi-processing mode), from /proc; (0, 0) where there is no /proc."""
    try:
        import psutil

        me = psutil.Process()
        read = resident = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                with open(f"/proc/{proc.pid}/io") as handle:
                    read += int(next(l for l in handle if l.startswith("rchar:")).split()[1])
                resident += proc.memory_info().rss
            except (OSError, StopIteration, psutil.Error):
                continue
        return read, resident
    except Exception:  # progress must never break a run
        return 0, 0


@contextlib.contextmanager
def output_to(log_file: Optional[str]) -> Iterator[TextIO]:
    """Sends file descriptors 1 and 2 to `log_file` (None: leave them), yields the terminal."""
    if log_file is None:
        yield sys.stdout
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    with open(log_file, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


HEARTBEAT_SECONDS = 30.0


def install(log_file: Optional[str] = None, out: TextIO = sys.stdout, verbose: bool = False,
            previous: Optional[dict[str, float]] = None,
            heartbeat_seconds: float = HEARTBEAT_SECONDS) -> ProgressHandler:
    """Routes TFX's logs: progress to `out`, everything to `log_file`, all of it too if verbose.
    `previous`: seconds of each component's last uncached run, for the time left."""
    handler = ProgressHandler(out, previous=previous)
    if heartbeat_seconds:
        handler.beat_every(heartbeat_seconds)
    from absl import logging as absl_logging

    # Through absl, not Logger.setLevel: TensorFlow lowers and later restores absl's verbosity
    # flag while saving models, which would undo a level set on the logger directly.
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger("absl").addHandler(handler)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_file:
        file_handler = logging.FileHandler(log_file)
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    if verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(formatter)
        root.addHandler(console)
    return handler
