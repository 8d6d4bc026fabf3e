"""For every test, here and beside the components: temporary files go under pytest's own directory.

TFX and TensorFlow leave files in the temporary directory that nothing removes (each pipeline's
module wheels and their build directories, AutoGraph's generated code; before
components.common.beam_dependencies, 52 MB of TFX sdist per Beam component run). Under pytest's
directory they go when pytest prunes its old runs (it keeps three), instead of piling up in /tmp
run after run until the disk is full. Subprocesses inherit TMPDIR."""

from __future__ import annotations

import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_under_pytest(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("tmpdir")
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = None  # tempfile caches the directory it chose first
    yield
    if before is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before
    tempfile.tempdir = None
