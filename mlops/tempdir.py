"""Where temporary files go. TFX and TensorFlow leave files in the temporary directory that nothing
removes (a module's wheel builds and installs, AutoGraph's generated code); pointing TMPDIR at a
directory of one's own keeps them where they can be removed."""

from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def temporary_files_in(directory: str):
    """TMPDIR is `directory` while the block runs, for this process's `tempfile` and for the
    subprocesses it starts (Beam's workers, `mlops` runs in tests); restored afterwards."""
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = directory
    tempfile.tempdir = None  # tempfile caches the directory it chose first
    try:
        yield directory
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before
        tempfile.tempdir = None
