"""A real Beam-based TFX executor builds no TFX package for the DirectRunner, and still gets TFX's
own package (or the named image) for Dataflow."""

import glob
import tempfile

import pytest
from tfx.components.statistics_gen.executor import Executor as StatisticsGenExecutor
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.utils import dependency_utils

from components.common import beam_dependencies

DATAFLOW = ["--runner=DataflowRunner", "--project=p", "--region=europe-west1",
            "--temp_location=gs://b/tmp"]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The temporary directory TFX would build its package in."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(dependency_utils, "make_beam_dependency_flags",
                        dependency_utils.make_beam_dependency_flags)  # undone after the test
    beam_dependencies.package_tfx_only_for_remote_runners()
    beam_dependencies.package_tfx_only_for_remote_runners()  # twice is once
    return tmp_path


def _beam_args(args):
    """The arguments a real StatisticsGen executor runs Beam with."""
    context = BaseBeamExecutor.Context(beam_pipeline_args=args)
    return StatisticsGenExecutor(context)._beam_pipeline_args


@pytest.mark.parametrize("args", [
    ["--direct_running_mode=in_memory", "--direct_num_workers=1"],
    ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"],
])
def test_direct_runner_gets_no_tfx_package_and_leaves_nothing_behind(scratch, args):
    used = _beam_args(args)
    assert not [a for a in used if a.startswith("--extra_package")]
    assert used[:len(args)] == args
    assert list(scratch.iterdir()) == []


def test_dataflow_still_gets_tfx_package(scratch, monkeypatch):
    built = []

    def build():  # TFX's real build takes seconds; what matters is that it is asked for
        built.append(1)
        return "/tmp/tfx_ephemeral-1.16.0.tar.gz"

    monkeypatch.setattr(dependency_utils, "build_ephemeral_package", build)
    used = _beam_args(DATAFLOW)
    assert built == [1]
    assert "--extra_package=/tmp/tfx_ephemeral-1.16.0.tar.gz" in used


def test_dataflow_with_the_pipeline_image_needs_no_package(scratch):
    image = "--sdk_container_image=europe-west1-docker.pkg.dev/p/mlops/pipeline:latest"
    used = _beam_args([*DATAFLOW, image])
    assert image in used and not [a for a in used if a.startswith("--extra_package")]
    assert glob.glob(str(scratch / "*")) == []


@pytest.mark.parametrize("args, local", [
    ([], True), (["--runner=direct"], True), (["--runner=DirectRunner"], True),
    (["--runner=SwitchingDirectRunner"], True), (DATAFLOW, False),
    (["--runner=FlinkRunner"], False), (["--runner=PortableRunner"], False),
])
def test_runs_locally(args, local):
    assert beam_dependencies.runs_locally(args) is local
