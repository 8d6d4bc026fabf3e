"""Progress of a local run, printed as components start and finish.

TFX's LocalDagRunner logs "Component X is running." / "Component X is finished." through absl; a
logging handler turns those lines into progress output, without patching TFX.
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

    def __init__(self, out: TextIO = sys.stdout, clock: Callable[[], float] = time.monotonic):
        super().__init__(level=logging.INFO)
        self.out = out
        self.clock = clock
        self.current: Optional[str] = None
        self.started_at = 0.0
        self.cached = False
        self.durations: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call elsewhere must not break the run
            return
        if match := _RUNNING.match(message):
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


def install(log_file: Optional[str] = None, out: TextIO = sys.stdout,
            verbose: bool = False) -> ProgressHandler:
    """Routes TFX's logs: progress to `out`, everything to `log_file`, all of it too if verbose."""
    handler = ProgressHandler(out)
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
