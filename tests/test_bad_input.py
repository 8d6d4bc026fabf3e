"""Bad input gets one clear message naming the problem, a non-zero exit, and nothing pushed."""

from __future__ import annotations

from pathlib import Path

import pytest
import tensorflow as tf

from tests.conftest import run_cli


def _example(**features) -> bytes:
    feature = {}
    for key, value in features.items():
        if isinstance(value[0], float):
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=value))
        else:
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=value))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _write_records(path: Path, records: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return path


def _good(n: int = 20) -> list[bytes]:
    return [_example(image_floats=[float(i % 16)] * 64, image_class=[i % 10]) for i in range(n)]


def _assert_refused(result, *phrases: str, home: Path) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert not (home / "publish").exists() or not any((home / "publish").rglob("saved_model.pb"))


def _run_until(home: Path, marker: str, *args: str):
    """`mlops run --home HOME ARGS` in the background, read until a stdout line holding `marker`;
    returns the process and that line ('' if the run ended first)."""
    import os
    import subprocess

    from tests.conftest import MLOPS

    proc = subprocess.Popen([MLOPS, "run", "--home", str(home), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")})
    for line in proc.stdout:
        if marker in line:
            return proc, line
    return proc, ""


def test_wrong_data_path(tmp_path):
    missing = tmp_path / "no-such-dir"
    result = run_cli("run", "--home", str(tmp_path / "home"), "--data", str(missing))
    _assert_refused(result, "data path does not exist", str(missing), home=tmp_path / "home")


def test_empty_data_directory(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("run", "--home", str(tmp_path / "home"), "--data", str(empty))
    _assert_refused(result, "data directory is empty", str(empty), home=tmp_path / "home")


def test_malformed_tfrecord(tmp_path):
    data = tmp_path / "data"
    good = _write_records(data / "part-0.tfrecord", _good()).read_bytes()
    (data / "part-0.tfrecord").write_bytes(good[: len(good) // 2] + b"\x00garbage")
    result = run_cli("run", "--home", str(tmp_path / "home"), "--data", str(data))
    _assert_refused(result, "malformed TFRecord", "part-0.tfrecord", home=tmp_path / "home")


def test_feature_missing_from_the_data(tmp_path):
    records = _good() + [_example(image_class=[3])]
    data = _write_records(tmp_path / "data" / "part-0.tfrecord", records).parent
    result = run_cli("run", "--home", str(tmp_path / "home"), "--data", str(data))
    _assert_refused(result, "feature 'image_floats' is missing", "record 21",
                    home=tmp_path / "home")


@pytest.mark.parametrize("label", [10, -1])
def test_label_outside_the_classes(tmp_path, label):
    records = _good() + [_example(image_floats=[1.0] * 64, image_class=[label])]
    data = _write_records(tmp_path / "data" / "part-0.tfrecord", records).parent
    result = run_cli("run", "--home", str(tmp_path / "home"), "--data", str(data))
    _assert_refused(result, f"label 'image_class' is {label}", "outside the classes 0-9",
                    home=tmp_path / "home")


def test_unknown_cli_flag(tmp_path):
    result = run_cli("run", "--home", str(tmp_path / "home"), "--no-such-flag")
    _assert_refused(result, "No such option", "--no-such-flag", home=tmp_path / "home")


def test_unknown_config_key(tmp_path):
    config = tmp_path / "mlops.yaml"
    config.write_text("label_kee: image_class\n")
    result = run_cli("run", "--config", str(config), "--home", str(tmp_path / "home"))
    _assert_refused(result, "unknown config key 'label_kee'", home=tmp_path / "home")


def test_a_mistyped_sqlite_path_is_an_error_and_creates_nothing(tmp_path):
    store = tmp_path / "nonexistent-dir" / "x.sqlite"
    result = run_cli("run", "--home", str(tmp_path / "home"), "--metadata", f"sqlite://{store}")
    _assert_refused(result, f"no ML Metadata store at {store}", "--create-metadata",
                    home=tmp_path / "home")
    assert not store.parent.exists()


@pytest.mark.parametrize("source, expected", [
    ("def run_fn(fn_args):\n    return (\n", "does not parse: line 2, column 12"),
    ("def preprocessing_fn(inputs):\n    return inputs\n",
     "defines no run_fn (the Trainer calls it)"),
    ("def run_fn(fn_args):\n    pass\n", "defines no preprocessing_fn (Transform calls it)"),
])
def test_a_broken_module_is_refused_before_the_pipeline_starts(tmp_path, source, expected):
    module = tmp_path / "my_trainer.py"
    module.write_text(source)
    result = run_cli("run", "--home", str(tmp_path / "home"), "--module-file", str(module))
    _assert_refused(result, f"module_file {module} {expected}", home=tmp_path / "home")
    assert "ImportExampleGen" not in result.stdout  # nothing ran


def test_an_interrupted_run_is_marked_canceled_not_left_running(tmp_path):
    import signal

    home = tmp_path / "home"
    proc, _ = _run_until(home, "] Transform ... started")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "interrupted during Transform" in err and "marked CANCELED" in err
    runs = run_cli("runs", "--home", str(home), "--format", "json")
    (run,) = __import__("json").loads(runs.stdout)
    assert run["status"] == "CANCELED"


def test_a_module_reading_a_feature_the_data_lacks_is_refused_before_the_run(tmp_path):
    module = tmp_path / "my_trainer.py"
    module.write_text("def preprocessing_fn(inputs):\n"
                      "    return {'x': inputs['image_floats'] * inputs['petal_colour']}\n\n\n"
                      "def run_fn(fn_args):\n    pass\n")
    result = run_cli("run", "--home", str(tmp_path / "home"), "--module-file", str(module))
    _assert_refused(result, f"module_file {module}, line 2: preprocessing_fn reads "
                    "inputs['petal_colour'], which the input data does not have (its features: "
                    "image_class, image_floats)", home=tmp_path / "home")
    assert "ImportExampleGen" not in result.stdout


def test_an_invalid_curated_schema_is_named_before_the_run(tmp_path):
    """ImportSchemaGen would fail mid-run with "7:5 : ..." and no file name."""
    import time

    home = tmp_path / "home"
    schema = home / "schema" / "digits-pipeline.pbtxt"
    schema.parent.mkdir(parents=True)
    schema.write_text('feature {\n  name: "image_floats"\n  type: FLAOT\n}\n')
    started = time.monotonic()
    result = run_cli("run", "--home", str(home))
    _assert_refused(result, f"the curated schema {schema} is not a valid Schema proto in text "
                    "format: 3:9 : ", "FLAOT", "nothing was run", home=home)
    assert "ImportSchemaGen" not in result.stdout
    assert time.monotonic() - started < 60  # before any component


def test_a_home_that_is_a_file_is_named(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a directory")
    result = run_cli("run", "--home", str(home))
    _assert_refused(result, f"--home {home} is a file, not a directory", home=tmp_path / "x")
    assert home.read_text() == "not a directory"


def test_a_publishing_path_that_is_a_file_is_refused_before_training(tmp_path):
    blocker = tmp_path / "models"
    blocker.write_text("not a directory")
    result = run_cli("run", "--home", str(tmp_path / "home"), "--serving-dir",
                     str(blocker / "serving"))
    _assert_refused(result, f"TF Serving: cannot publish to {blocker / 'serving'}: not a "
                    f"directory ({blocker} is a file); nothing was run", home=tmp_path / "home")
    assert "ImportExampleGen" not in result.stdout
    assert blocker.read_text() == "not a directory"


def test_a_bucket_without_credentials_is_refused_before_training(tmp_path):
    # No Application Default Credentials anywhere, and no probing for a GCE metadata server.
    env = {"GOOGLE_APPLICATION_CREDENTIALS": "", "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
           "NO_GCE_CHECK": "true", "STORAGE_EMULATOR_HOST": "",
           "CLOUD_STORAGE_EMULATOR_ENDPOINT": ""}
    result = run_cli("run", "--home", str(tmp_path / "home"), "--mobile-dir",
                     "gs://mlops-models/mobile", env=env)
    _assert_refused(result, "mobile model bucket: cannot publish to gs://mlops-models/mobile: no "
                    "Google credentials", home=tmp_path / "home")
    assert "ImportExampleGen" not in result.stdout
    assert not (tmp_path / "home/publish").exists()


def test_a_second_run_on_one_sqlite_store_waits_for_the_first(tmp_path):
    """Runs on one SQLite store take turns (SQLite has one writer at a time). The held lock is
    the test's; the waiting run is refused for its empty data once it may go on."""
    import fcntl
    import time


    home, empty = tmp_path / "home", tmp_path / "empty"
    empty.mkdir()
    (home / "metadata").mkdir(parents=True)
    with open(home / "metadata/metadata.sqlite.run-lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write('{"pipeline": "digits-pipeline", "pid": 1, "host": "elsewhere", '
                   '"started": "2026-12-01 10:00:00", "state": "running"}')
        held.flush()
        proc, waiting = _run_until(home, "Waiting:", "--data", str(empty))
        assert ("a run of digits-pipeline (pid 1 on elsewhere, started 2026-12-01 10:00:00) is "
                "running on") in waiting and "take turns" in waiting
        time.sleep(2)
        assert proc.poll() is None  # still waiting: the data has not been looked at
        held.seek(0)
        held.truncate()
        held.write('{"pipeline": "digits-pipeline", "state": "finished"}')  # as a run ends
        held.flush()
    out, err = proc.communicate(timeout=120)
    assert "The other run has finished; starting." in out
    assert proc.returncode != 0 and "data directory is empty" in err


def test_a_killed_run_is_marked_canceled_by_the_next_one(tmp_path):
    """SIGKILL leaves no chance to record anything; the next run on the store finds the lock
    file still saying `running` and marks that run CANCELED."""
    import json
    import signal


    home, empty = tmp_path / "home", tmp_path / "empty"
    empty.mkdir()
    proc, _ = _run_until(home, "] StatisticsGen ... started")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    runs = run_cli("runs", "--home", str(home), "--format", "json")
    assert [r["status"] for r in json.loads(runs.stdout)] != ["CANCELED"]  # nothing said so yet

    # The next run (refused for its data once it has the store) marks the killed one.
    result = run_cli("run", "--home", str(home), "--data", str(empty))
    assert "The previous run of digits-pipeline" in result.stdout
    assert "was killed before it finished; it is marked CANCELED." in result.stdout
    runs = run_cli("runs", "--home", str(home), "--format", "json")
    assert [r["status"] for r in json.loads(runs.stdout)] == ["CANCELED"]
    # A run that finished (even refused) leaves nothing for the one after it to cancel.
    again = run_cli("run", "--home", str(home), "--data", str(empty))
    assert "was killed before it finished" not in again.stdout
