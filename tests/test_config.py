"""Configuration: one file plus environment and flags that override it, in that order."""

from __future__ import annotations

import pytest

from mlops.config import DEFAULT_MODULE_FILE, ConfigError, load_config


def test_defaults_use_the_packaged_digits_and_home(tmp_path):
    config = load_config(environ={})
    assert config.uses_default_data
    assert config.resolved_module_file == str(DEFAULT_MODULE_FILE)
    assert config.accuracy_threshold == 0.85
    assert [(d["kind"], d["root"]) for d in config.destination_specs] == [
        (kind, str(config.home_path / "publish" / kind)) for kind in ("serving", "hub", "mobile")]


def test_destinations_are_one_list_that_flags_and_environment_change(tmp_path):
    config = load_config(overrides={"serving_dir": "gs://models/serving", "publish_hub": False},
                         environ={"MLOPS_MOBILE_DIR": str(tmp_path / "phones")})
    assert config.destination_specs == [{"kind": "serving", "root": "gs://models/serving"},
                                        {"kind": "mobile", "root": str(tmp_path / "phones")}]
    # A config file lists them; a relative root is relative to the file.
    config_file = tmp_path / "mlops.yaml"
    config_file.write_text("destinations:\n  - {kind: hub, root: models/hub, publisher: acme}\n")
    config = load_config(str(config_file), environ={})
    assert config.destination_specs == [
        {"kind": "hub", "root": str(tmp_path / "models/hub"), "publisher": "acme"}]
    # Switched back on by a flag, a kind comes with its default options.
    config = load_config(str(config_file), overrides={"publish_serving": True}, environ={})
    assert [d["kind"] for d in config.destinations] == ["hub", "serving"]
    config = load_config(str(config_file), overrides={"mobile_dir": "/phones"}, environ={})
    assert config.destinations[-1] == {"kind": "mobile", "root": "/phones"}


@pytest.mark.parametrize("text, message", [
    ("destinations:\n  - {kind: ftp, root: /x}\n", "kind must be one of serving, hub, mobile"),
    ("destinations:\n  - {kind: hub, root: /x}\n",
     "hub destination: options must be exactly publisher, got (none)"),
    ("destinations:\n  - {kind: serving, root: /x, colour: red}\n",
     "serving destination: options must be exactly (none), got colour"),
    ("destinations:\n  - {kind: serving, root: /a}\n  - {kind: serving, root: /b}\n",
     "each kind at most once"),
    ("destinations: []\n", "every publishing destination is switched off"),
    ("serving_dir: /x\n", "'serving_dir' in config file"),
])
def test_a_destination_list_that_cannot_work_is_refused(tmp_path, text, message):
    config_file = tmp_path / "mlops.yaml"
    config_file.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(str(config_file), environ={})


def test_file_then_environment_then_flags(tmp_path):
    module = tmp_path / "my_module.py"
    module.write_text("")
    config_file = tmp_path / "mlops.yaml"
    config_file.write_text(
        "model_name: from-file\nlabel_key: y\nmodule_file: my_module.py\ntrain_steps: 5\n")
    config = load_config(
        str(config_file),
        overrides={"train_steps": 7, "label_key": None},
        environ={"MLOPS_MODEL_NAME": "from-env", "MLOPS_HOME": str(tmp_path / "h"),
                 "MLOPS_ENABLE_CACHE": "false", "MLOPS_FEATURE_KEYS": "a, b"},
    )
    assert config.label_key == "y"  # file; a flag left unset does not override
    assert config.model_name == "from-env"  # environment beats file
    assert config.train_steps == 7  # flag beats file
    assert config.enable_cache is False
    assert config.feature_keys == ["a", "b"]
    assert config.resolved_module_file == str(module)  # relative to the config file
    assert config.pipeline_root.startswith(str(tmp_path / "h"))


def test_config_file_from_environment(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("accuracy_threshold: 0.5\n")
    assert load_config(environ={"MLOPS_CONFIG": str(config_file)}).accuracy_threshold == 0.5


@pytest.mark.parametrize("overrides, message", [
    ({"train_steps": "many"}, "train_steps' must be of type int"),
    ({"accuracy_threshold": 1.5}, "accuracy_threshold must be between 0 and 1"),
    ({"data_format": "parquet"}, "data_format must be auto, tfrecord or csv"),
    ({"module_file": "/nowhere/module.py"}, "module_file not found"),
    ({"colour": "blue"}, "unknown config key 'colour'"),
    ({"tflite_variants": ["float32", "int4"]}, "only name known variants"),
    ({"tflite_variants": ["int8"]}, "must include float32"),
    ({"tflite_accuracy_budget": -1}, "tflite_accuracy_budget is in accuracy points"),
    # a typo would fail in the Evaluator minutes later with a Keras custom_object_scope message
    ({"metrics": [{"name": "AUCC", "lower_bound": 0.7}]},
     r"metrics: metric 'AUCC' is not a metric TFMA knows \(did you mean AUC\?\)"),
    ({"missing_increase_threshold": 0}, "missing_increase_threshold must be above 0"),
    ({"drift_numeric_threshold": -1}, "drift_numeric_threshold must be above 0"),
])
def test_bad_values_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=overrides, environ={})


def test_missing_config_file():
    with pytest.raises(ConfigError, match="config file not found: /nowhere.yaml"):
        load_config("/nowhere.yaml", environ={})


def test_beam_mode_follows_the_input_size_or_the_configured_arguments():
    import os

    from pipelines.runner_args import direct_runner_args

    in_memory = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    switching = load_config(overrides={"beam_multiprocessing_mb": 256}, environ={})
    assert direct_runner_args(switching, 255 * 2**20) == in_memory
    assert direct_runner_args(switching, 256 * 2**20) == [
        "--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count()}"]
    never = load_config(overrides={"beam_multiprocessing_mb": 0}, environ={})
    assert direct_runner_args(never, 10 * 2**30) == in_memory
    assert direct_runner_args(load_config(environ={}), 1797 * 300) == in_memory  # the demo
    given = load_config(overrides={"beam_args": ["--runner=DataflowRunner"]}, environ={})
    assert direct_runner_args(given, 1) == ["--runner=DataflowRunner"]
