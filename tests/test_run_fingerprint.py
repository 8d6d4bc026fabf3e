"""What makes a run new (mlops/run_fingerprint.py): any change to the span's files, the resolved
configuration, the module's directory, the curated schema or what is published; object storage is
never taken as unchanged."""

from __future__ import annotations

from mlops import run_fingerprint
from mlops.config import load_config


def _config(tmp_path, **overrides):
    return load_config(overrides={"home": str(tmp_path / "home"), "data": str(tmp_path / "data"),
                                  "module_file": str(tmp_path / "module" / "trainer.py"),
                                  **overrides}, environ={})


def test_each_input_of_a_run_changes_the_fingerprint(tmp_path):
    (tmp_path / "data/span-1").mkdir(parents=True)
    (tmp_path / "data/span-1/a.csv").write_text("x,label\n1,0\n")
    (tmp_path / "module").mkdir()
    (tmp_path / "module/trainer.py").write_text("def preprocessing_fn(i):\n    return i\n")
    config = _config(tmp_path)
    first = run_fingerprint.fingerprint(config)
    assert first == run_fingerprint.fingerprint(config)  # nothing changed

    seen = {first}

    def changed(config=config) -> None:
        now = run_fingerprint.fingerprint(config)
        assert now not in seen
        seen.add(now)

    (tmp_path / "data/span-2").mkdir()
    (tmp_path / "data/span-2/a.csv").write_text("x,label\n1,0\n")
    changed()  # a new span (the same rows)
    (tmp_path / "data/span-2/a.csv").write_text("x,label\n2,0\n")
    changed()  # the newest span's content
    (tmp_path / "module/helpers.py").write_text("SCALE = 2\n")
    changed()  # a file beside the module
    schema = tmp_path / "home/schema/digits-pipeline.pbtxt"
    schema.parent.mkdir(parents=True)
    schema.write_text('feature { name: "x" type: FLOAT }\n')
    changed()  # the curated schema
    (tmp_path / "home/publish/serving/digits/1").mkdir(parents=True)
    (tmp_path / "home/publish/serving/digits/1/saved_model.pb").write_bytes(b"model")
    changed()  # what is published (another run's push, a rollback)
    changed(_config(tmp_path, train_steps=7))  # the configuration

    run_fingerprint.record(config, "run-1", 1)
    assert run_fingerprint.unchanged_since(config, run_fingerprint.fingerprint(config))["run"] \
        == "run-1"
    assert run_fingerprint.unchanged_since(_config(tmp_path, train_steps=7),
                                           run_fingerprint.fingerprint(
                                               _config(tmp_path, train_steps=7))) is None


def test_object_storage_is_never_taken_as_unchanged(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/a.csv").write_text("x,label\n1,0\n")
    (tmp_path / "module").mkdir()
    (tmp_path / "module/trainer.py").write_text("")
    assert run_fingerprint.fingerprint(_config(tmp_path, serving_dir="gs://bucket/serving")) \
        is None
    assert run_fingerprint.fingerprint(_config(tmp_path, data="gs://bucket/data")) is None
