"""For every test, here and beside the components: temporary files go under pytest's own directory
(mlops.tempdir says why), which pytest prunes (it keeps its last three runs), instead of piling up
in /tmp run after run until the disk is full. Subprocesses inherit TMPDIR."""

from __future__ import annotations

import pytest

from mlops.tempdir import temporary_files_in


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_under_pytest(tmp_path_factory):
    with temporary_files_in(str(tmp_path_factory.mktemp("tmpdir"))):
        yield
