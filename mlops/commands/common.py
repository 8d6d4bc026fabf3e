"""What several commands need: the configuration, the ML Metadata store, the destinations."""

from __future__ import annotations

import os
from typing import Any

from mlops.config import Config, ConfigError, load_config
from mlops.data import DataError
from mlops.errors import PlatformError


def resolve_config(config_file: str | None, overrides: dict[str, Any]) -> Config:
    try:
        return load_config(config_file, overrides)
    except ConfigError as err:
        raise PlatformError(f"configuration error: {err}") from None


def open_metadata(config: Config, must_exist: bool = False, create: bool = False):
    """The configured ML Metadata store, or one clear error naming it (never the password).
    A SQLite store is created only where none is configured (<home>/metadata) or with `create`:
    a mistyped --metadata path is an error, as a missing MySQL database is."""
    from mlops import metadata

    try:
        target = config.metadata_target()
        if target.kind == "sqlite" and not os.path.exists(target.path):
            if must_exist:
                raise PlatformError(f"no ML Metadata store at {target.path}: nothing has run")
            if config.metadata and not create:
                raise PlatformError(
                    f"no ML Metadata store at {target.path}: check --metadata (MLOPS_METADATA), "
                    "or pass --create-metadata to start a new, empty store there")
        return metadata.open_store(target)
    except metadata.MetadataError as err:
        raise PlatformError(str(err)) from None


def destinations(config: Config):
    """The configured publishing destinations, as the Pusher builds them."""
    from components.pusher.destinations import registry

    return registry.build(config.destination_specs, config.model_name)


def check_input(config: Config, path: str) -> dict:
    from mlops import data

    try:
        slice_features = [name.split("=", 1)[0].strip() for name in config.slices]
        features = list(dict.fromkeys([*config.feature_keys, *slice_features]))
        return data.preflight(path, config.data_format, config.label_key, features,
                              config.classes, config.preflight_records, task=config.task,
                              label_from=config.label_from)
    except DataError as err:
        raise PlatformError(f"bad input data: {err}") from None


def report_path(config: Config, run_name: str) -> str:
    return str(config.home_path / "reports" / f"{run_name.replace(':', '-')}.html")


def write_report(config: Config, store, say) -> None:
    """The run's report page; a failure to write it is said, never fatal to the run."""
    from mlops import report_page, run_report

    try:
        page = run_report.collect(store, config.pipeline_name)
        say(f"Report: {report_page.write(page, report_path(config, page.run_name))}")
    except Exception as err:  # the run's own result stands; the page is a view of it
        say(f"Report not written: {type(err).__name__}: {err}")
