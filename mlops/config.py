"""The platform's configuration, in one place.

Sources, last wins: packaged defaults (defaults.yaml) < a config file < MLOPS_<KEY> environment
variables < explicit overrides (command-line flags). Runners receive a resolved `Config` and pass
plain values into the pure pipeline definition, which reads no environment itself.
"""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from components.common import tasks

ENV_PREFIX = "MLOPS_"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODULE_FILE = PACKAGE_ROOT / "components" / "trainer" / "digits" / "digits_trainer.py"


class ConfigError(ValueError):
    """A configuration value is missing, unknown or malformed."""


@dataclasses.dataclass(frozen=True)
class Config:
    home: str
    pipeline_name: str
    data: str
    data_format: str
    label_key: str
    label_from: list[str]
    feature_keys: list[str]
    task: str
    prediction_key: str
    num_classes: int
    preflight_records: int
    train_buckets: int
    eval_buckets: int
    schema_file: str
    drift_numeric_threshold: float
    drift_categorical_threshold: float
    drift_thresholds: dict
    accept_drift: bool
    missing_increase_threshold: float
    model_name: str
    module_file: str
    train_steps: int
    eval_steps: int
    batch_size: int
    learning_rate: float
    accuracy_threshold: float
    max_accuracy_drop: float
    metrics: list
    slices: list[str]
    tflite_variants: list[str]
    tflite_accuracy_budget: float
    tflite_eval_examples: int
    allow_select_tf_ops: bool
    representative_examples: int
    int8_io: bool
    on_device_training: bool
    destinations: list[dict]
    labels: list[str]
    pipeline_root_dir: str
    metadata: str
    metadata_password_file: str
    image: str
    kfp_endpoint: str
    kfp_namespace: str
    kfp_iap_client_id: str
    kfp_token_file: str
    kfp_experiment: str
    schedule_cron: str
    schedule_timezone: str
    vertex_project: str
    vertex_region: str
    vertex_service_account: str
    enable_cache: bool
    beam_args: list[str]
    beam_multiprocessing_mb: int

    # Derived locations. Everything the platform writes lives under `home`.
    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve()

    @property
    def uses_default_data(self) -> bool:
        return not self.data

    @property
    def data_root(self) -> str:
        return self.data or str(self.home_path / "data" / "digits")

    @property
    def input_base(self) -> str:
        """ExampleGen's input_base: the data directory, or the directory of the one file named
        (its pattern is then the file's name: data.input_location)."""
        root = self.data_root
        return os.path.dirname(os.path.abspath(root)) if os.path.isfile(root) else root

    @property
    def pipeline_root(self) -> str:
        return self.pipeline_root_dir or str(self.home_path / "pipelines" / self.pipeline_name)

    @property
    def metadata_url(self) -> str:
        return self.metadata or f"sqlite://{self.home_path / 'metadata' / 'metadata.sqlite'}"

    def metadata_target(self):
        """Where ML Metadata lives, with the password resolved (MLOPS_METADATA_PASSWORD or file)."""
        from mlops.metadata import parse_url

        return parse_url(self.metadata_url, self.metadata_password_file)

    def kfp_token(self) -> str:
        """The bearer token for the KFP endpoint, if it wants one: MLOPS_KFP_TOKEN, else the file
        `kfp_token_file` (MLOPS_KFP_TOKEN_FILE) names. Like the metadata password, never a value
        in a config file."""
        token = os.environ.get("MLOPS_KFP_TOKEN", "")
        if token or not self.kfp_token_file:
            return token
        try:
            with open(self.kfp_token_file) as handle:
                return handle.read().strip()
        except OSError as err:
            raise ConfigError(f"kfp_token_file {self.kfp_token_file}: {err.strerror}") from None

    @property
    def schema_path(self) -> str:
        """The curated schema's file (it may not exist yet: then each run infers one)."""
        return self.schema_file or str(self.home_path / "schema" / f"{self.pipeline_name}.pbtxt")

    @property
    def destination_specs(self) -> list[dict]:
        """Where to publish, each {kind, root, options} with its root resolved (an empty root is
        <home>/publish/<kind>)."""
        return [{**spec, "root": spec.get("root") or str(self.home_path / "publish" / spec["kind"])}
                for spec in self.destinations]

    @property
    def class_labels(self) -> list[str]:
        if self.task == tasks.REGRESSION:
            return []
        return self.labels or [str(i) for i in range(self.classes)]

    @property
    def classes(self) -> int:
        """How many label values a classifier has (2 for binary); 0 for regression."""
        return {tasks.BINARY: 2, tasks.REGRESSION: 0}.get(self.task, self.num_classes)

    @property
    def metric_gates(self) -> list[tasks.MetricGate]:
        """The gate's metrics, primary first: `metrics` as configured, or the task's defaults
        (built from accuracy_threshold and max_accuracy_drop for classifiers)."""
        if self.metrics:
            return tasks.parse_metrics(self.metrics)
        return tasks.default_metrics(self.task, self.accuracy_threshold, self.max_accuracy_drop)

    @property
    def resolved_module_file(self) -> str:
        return self.module_file or str(DEFAULT_MODULE_FILE)

    def trainer_custom_config(self) -> dict[str, Any]:
        """Values the user module's run_fn receives as fn_args.custom_config."""
        return {
            "label_key": self.label_key,
            "label_from": self.label_from,
            "task": self.task,
            "prediction_key": self.prediction_key,
            "num_classes": self.classes,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            # For the Trainer executor (TFLite; the pipeline adds tflite_variants) and
            # export_models.
            "allow_select_tf_ops": self.allow_select_tf_ops,
            "representative_examples": self.representative_examples,
            "int8_io": self.int8_io,
            "on_device_training": self.on_device_training,
        }


FIELDS = {f.name: f for f in dataclasses.fields(Config)}
# Lists of mappings: YAML in a config file; JSON (or comma-separated names) in the environment.
STRUCTURED_KEYS = ("metrics", "destinations")
# Flags and environment variables that change one kind's entry in `destinations`: a root, or
# whether the kind is published to at all.
DESTINATION_SHORTCUTS = {"serving_dir": ("serving", "root"), "hub_dir": ("hub", "root"),
                         "mobile_dir": ("mobile", "root"), "publish_serving": ("serving", "on"),
                         "publish_hub": ("hub", "on"), "publish_mobile": ("mobile", "on")}


def _structured(key: str, value: Any) -> list:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as err:
                raise ConfigError(f"config key '{key}' is not valid JSON: {err}") from None
        else:
            value = [item.strip() for item in text.split(",") if item.strip()]
    if not isinstance(value, list):
        raise ConfigError(f"config key '{key}' must be a list, got {value!r}")
    return value


def _defaults() -> dict[str, Any]:
    text = resources.files("mlops").joinpath("defaults.yaml").read_text()
    return yaml.safe_load(text)


def _mapping(key: str, value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value.strip() or "{}")
        except json.JSONDecodeError as err:
            raise ConfigError(f"config key '{key}' is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"config key '{key}' must be a mapping, got {value!r}")
    return value


def _coerce(key: str, value: Any, like: Any) -> Any:
    """Converts `value` (often a string from env or a flag) to the type of the default `like`."""
    if key in STRUCTURED_KEYS:
        return _structured(key, value)
    if isinstance(like, dict):
        return _mapping(key, value)
    try:
        if isinstance(like, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(like, int):
            return int(value)
        if isinstance(like, float):
            return float(value)
        if isinstance(like, list):
            if isinstance(value, str):
                return [item.strip() for item in value.split(",") if item.strip()]
            return [str(item) for item in value]
        return "" if value is None else str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"config key '{key}' must be of type {type(like).__name__}, got {value!r}"
        ) from None


def _read_file(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        values = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values")
    # Paths in a config file are relative to the file, so a project can carry its own config.
    for key in ("home", "data", "module_file", "schema_file", "pipeline_root_dir",
                "metadata_password_file", "kfp_token_file"):
        if (values.get(key) and not os.path.isabs(str(values[key]))
                and "://" not in str(values[key])):
            values[key] = str((file.parent / str(values[key])).resolve())
    for spec in values.get("destinations") or []:
        root = spec.get("root") if isinstance(spec, dict) else None
        if root and not os.path.isabs(str(root)) and "://" not in str(root):
            spec["root"] = str((file.parent / str(root)).resolve())
    return values


def load_config(
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolves the configuration from defaults, a file, the environment and overrides."""
    environ = os.environ if environ is None else environ
    defaults = _defaults()
    values = dict(defaults)

    config_file = config_file or environ.get(ENV_PREFIX + "CONFIG")
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if config_file:
        layers.append((f"config file {config_file}", _read_file(config_file)))
    known = set(FIELDS) | set(DESTINATION_SHORTCUTS)
    layers.append((
        "environment",
        {k[len(ENV_PREFIX):].lower(): v for k, v in environ.items()
         if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX):].lower() in known},
    ))
    layers.append(("overrides", {k: v for k, v in (overrides or {}).items() if v is not None}))

    for source, layer in layers:
        for key, value in layer.items():
            if key in DESTINATION_SHORTCUTS:
                if source.startswith("config file"):
                    raise ConfigError(f"'{key}' in {source} is a flag (and environment) shortcut; "
                                      "a config file lists `destinations` (see defaults.yaml)")
                values["destinations"] = _shortcut(values["destinations"], key, value)
                continue
            if key not in FIELDS:
                raise ConfigError(f"unknown config key '{key}' in {source}")
            values[key] = _coerce(key, value, defaults[key])

    config = Config(**values)
    _validate(config)
    return config


def _shortcut(destinations: list, key: str, value: Any) -> list:
    """`destinations` with one kind's root set, or the kind added or removed."""
    kind, what = DESTINATION_SHORTCUTS[key]
    existing = [dict(spec) for spec in destinations]
    if what == "on" and not _coerce(key, value, True):
        return [spec for spec in existing if spec.get("kind") != kind]
    if not any(spec.get("kind") == kind for spec in existing):  # a kind the list left out
        defaults = {spec["kind"]: spec for spec in _defaults()["destinations"]}
        existing.append(dict(defaults[kind]))
    if what == "root":
        for spec in existing:
            if spec.get("kind") == kind:
                spec["root"] = str(value)
    return existing


def _validate(config: Config) -> None:
    if os.path.isfile(config.home):  # every path under it would fail with a raw OSError
        raise ConfigError(f"--home {config.home} is a file, not a directory (home is where "
                          "runs keep data, metadata, pipelines and what they publish)")
    if config.task not in tasks.TASKS:
        raise ConfigError(f"task must be one of {', '.join(tasks.TASKS)}, got '{config.task}'")
    try:
        gates = config.metric_gates
    except ValueError as err:
        raise ConfigError(f"metrics: {err}") from None
    if not any(g.lower_bound is not None or g.upper_bound is not None or g.max_change is not None
               for g in gates):
        raise ConfigError("metrics: no metric has a bound or max_change, so the gate would bless "
                          "every model; give the primary metric one")
    known = set(config.feature_keys)
    for name in [*config.slices, *(s for g in gates for s in g.slices)]:
        feature = name.split("=", 1)[0].strip()
        if known and feature not in known:
            raise ConfigError(f"slice '{name}': '{feature}' is not one of feature_keys "
                              f"({', '.join(config.feature_keys)})")
    if config.data_format not in ("auto", "tfrecord", "csv"):
        raise ConfigError(f"data_format must be auto, tfrecord or csv, got '{config.data_format}'")
    if not 0.0 <= config.accuracy_threshold <= 1.0:
        raise ConfigError(
            f"accuracy_threshold must be between 0 and 1, got {config.accuracy_threshold}")
    if not 0.0 <= config.max_accuracy_drop <= 1.0:
        raise ConfigError(
            f"max_accuracy_drop must be between 0 and 1, got {config.max_accuracy_drop}")
    from components.common.names import TFLITE_VARIANTS

    unknown = [v for v in config.tflite_variants if v not in TFLITE_VARIANTS]
    if unknown or "float32" not in config.tflite_variants:
        raise ConfigError(f"tflite_variants must include float32 and only name known variants "
                          f"({', '.join(TFLITE_VARIANTS)}), got {config.tflite_variants}")
    if not 0.0 <= config.tflite_accuracy_budget <= 100.0:
        raise ConfigError("tflite_accuracy_budget is in accuracy points, between 0 and 100, got "
                          f"{config.tflite_accuracy_budget}")
    if config.tflite_eval_examples < 0:
        raise ConfigError("tflite_eval_examples must be 0 (every eval example) or a number of "
                          f"examples, got {config.tflite_eval_examples}")
    if config.beam_multiprocessing_mb < 0:
        raise ConfigError("beam_multiprocessing_mb must be 0 (never) or a size in MB, got "
                          f"{config.beam_multiprocessing_mb}")
    for key in ("num_classes", "train_steps", "eval_steps", "batch_size", "train_buckets",
                "eval_buckets", "representative_examples"):
        if getattr(config, key) < 1:
            raise ConfigError(f"{key} must be at least 1, got {getattr(config, key)}")
    if config.labels and len(config.labels) != config.classes:
        raise ConfigError(f"labels has {len(config.labels)} names for {config.classes} classes"
                          + (" (a regression model has no labels)"
                             if config.task == tasks.REGRESSION else ""))
    if not config.destinations:
        raise ConfigError("every publishing destination is switched off")
    from components.pusher.destinations import registry

    if not all(isinstance(spec, dict) and spec.get("kind") for spec in config.destinations):
        raise ConfigError("destinations must be a list of mappings, each with a kind and a root, "
                          f"got {config.destinations!r}")
    for spec in config.destination_specs:
        try:
            registry.check(spec)
        except registry.DestinationSpecError as err:
            raise ConfigError(f"destinations: {err}") from None
    kinds = [spec["kind"] for spec in config.destinations]
    if len(set(kinds)) != len(kinds):
        raise ConfigError(f"destinations: each kind at most once, got {', '.join(kinds)}")
    if len(config.schedule_cron.split()) != 6:
        raise ConfigError(f"schedule_cron {config.schedule_cron!r} must have 6 fields, seconds "
                          "first, as KFP wants (e.g. '0 0 3 * * *' for 03:00 every day)")
    for key in ("drift_categorical_threshold", "missing_increase_threshold"):
        if not 0.0 < getattr(config, key) <= 1.0:
            raise ConfigError(f"{key} must be above 0 and at most 1 (1 switches the check off), "
                              f"got {getattr(config, key)}")
    if not config.drift_numeric_threshold > 0.0:  # a distance, not a share: it has no top
        raise ConfigError("drift_numeric_threshold must be above 0, got "
                          f"{config.drift_numeric_threshold}")
    for feature, threshold in config.drift_thresholds.items():
        if not isinstance(threshold, (int, float)) or not threshold > 0.0:
            raise ConfigError(f"drift_thresholds: '{feature}' must be a number above 0, got "
                              f"{threshold!r}")
    if not config.label_key:
        raise ConfigError("label_key must not be empty")
    if config.label_key in config.label_from:
        raise ConfigError(f"label_from lists the raw columns preprocessing_fn makes the label "
                          f"'{config.label_key}' from; it cannot list '{config.label_key}' itself")
    if config.metadata and not config.metadata.startswith(("sqlite:///", "mysql://")):
        raise ConfigError("metadata must be sqlite:///ABSOLUTE/PATH or "
                          "mysql://USER@HOST:PORT/DATABASE")
    module = config.resolved_module_file
    if not module.endswith(".py") or not os.path.isfile(module):
        raise ConfigError(f"module_file not found (must be a .py file): {module}")
