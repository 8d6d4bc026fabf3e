"""The commands that read what runs left: schema, skew, report, ui, runs, lineage, production,
rollback and the resolved configuration. Each returns what to print or raises PlatformError."""

from __future__ import annotations

import json
import os
from typing import Callable, Optional

from mlops.commands.common import destinations, open_metadata, report_path
from mlops.config import Config
from mlops.data import DataError
from mlops.errors import PlatformError


def schema(config: Config, promote: bool, force: bool) -> str:
    from components.data_gate.executor import all_splits
    from mlops import schema as schemas

    uri, statistics_uri = schemas.latest_schema_uri(open_metadata(config, must_exist=True),
                                                    config.pipeline_name)
    if uri is None:
        raise PlatformError(f"no run of {config.pipeline_name} has produced a schema yet: "
                            "`mlops run` first")
    current = schemas.read(uri)
    lines = [f"Schema of the latest run: {uri}\n{schemas.describe(current)}"]
    if os.path.isfile(config.schema_path):
        lines.append(f"Curated schema (imported by every run): {config.schema_path}")
    if promote:
        try:
            path = schemas.promote(current, config.schema_path, config.label_key, force=force,
                                   statistics=all_splits(statistics_uri) if statistics_uri else [])
        except schemas.SchemaError as err:
            raise PlatformError(str(err)) from None
        lines.append(f"Promoted to {path}: later runs import it instead of inferring a schema. "
                     "Edit it (domains, presence, ranges) and keep it under version control.")
    return "\n".join(lines)


def skew(config: Config, requests_path: str) -> tuple[str, bool]:
    """(the report, whether the requests are skewed or broke the schema)."""
    from mlops import data
    from mlops import skew as skews
    from pipelines.runner_args import drift_thresholds

    try:
        data_format = data.detect_format(data.data_files(requests_path), config.data_format)
        report = skews.check(requests_path, data_format, destinations(config),
                             config.schema_path, config.label_key, drift_thresholds(config))
    except (skews.SkewError, DataError) as err:
        raise PlatformError(f"cannot check skew: {err}") from None
    return report.text(), bool(report.skewed or report.problems)


def report(config: Config, run_name: str, output: Optional[str]) -> str:
    from mlops import report_page, run_report

    store = open_metadata(config, must_exist=True)
    try:
        page = run_report.collect(store, config.pipeline_name, run_name)
    except run_report.ReportError as err:
        raise PlatformError(str(err)) from None
    return report_page.write(page, output or report_path(config, page.run_name))


def ui(config: Config, host: str, port: int, echo: Callable[[str], None]) -> None:
    from mlops import ui as browser

    try:
        browser.check_loopback(host)
        open_metadata(config, must_exist=True)  # one clear error now, not on the first page
        target = config.metadata_target()
        browser.serve(lambda: browser.read_only_store(target), config.pipeline_name, host, port,
                      ready=lambda url: echo(f"Runs browser: {url} (Ctrl-C stops it)"))
    except browser.UIError as err:
        raise PlatformError(str(err)) from None
    except OSError as err:
        raise PlatformError(f"cannot serve on {host}:{port}: {err.strerror or err}") from None
    except KeyboardInterrupt:
        pass


def runs(config: Config, output_format: str) -> str:
    from mlops import report as reports

    store = open_metadata(config, must_exist=True)
    rows = reports.list_runs(store, config.pipeline_name)
    if output_format == "json":
        return json.dumps(rows, indent=2)
    if rows:
        return reports.format_runs(rows)
    others = reports.pipeline_names(store)
    return (f"No runs of {config.pipeline_name} recorded yet."
            + (f" The store holds runs of: {', '.join(others)} (choose one with "
               "--config or MLOPS_PIPELINE_NAME)." if others else ""))


def lineage(config: Config, artifact_id: Optional[int], pushed_version: Optional[str],
            published_path: Optional[str], output_format: str, graph_file: Optional[str]) -> str:
    from mlops import lineage as lineages
    from mlops import lineage_view

    if sum(x is not None for x in (artifact_id, pushed_version, published_path)) > 1:
        raise PlatformError("give at most one of --artifact-id, --version, --path")
    store = open_metadata(config, must_exist=True)
    try:
        trace = lineages.trace(store, config.pipeline_name, artifact_id=artifact_id,
                               version=pushed_version, path=published_path)
        if graph_file:
            lineage_view.render(trace, graph_file)
    except lineages.LineageError as err:
        raise PlatformError(str(err)) from None
    return (json.dumps(trace.to_json(), indent=2) if output_format == "json"
            else lineage_view.format_text(trace))


def rollback(config: Config, version: int, echo: Callable[[str], None]) -> None:
    """Pins `version` everywhere, saying each destination as it is done."""
    from components.pusher.destinations.base import PublishError

    chosen = destinations(config)
    missing = [d.name for d in chosen if version not in d.versions()]
    if missing:  # check every destination first: a rollback is all or nothing
        raise PlatformError(f"version {version} is not published in {', '.join(missing)}")
    for destination in chosen:
        try:
            changed = destination.pin(version)
        except PublishError as err:
            raise PlatformError(str(err)) from None
        echo(f"{destination.name}: version {version}"
             + (f" ({changed})" if changed else " (no pointer: clients pick versions)"))


def production(config: Config) -> str:
    from components.baseline.production import BaselineError, production_model

    try:
        found = production_model(destinations(config))
    except BaselineError as err:
        raise PlatformError(str(err)) from None
    if found is None:
        return "Nothing is in production yet."
    return f"Version {found.version} ({found.destination}): model {found.model_uri}"


def resolved_config(config: Config) -> str:
    import dataclasses

    import yaml

    from mlops.metadata import redact_url

    values = dataclasses.asdict(config)
    values["metadata"] = redact_url(values["metadata"])
    return "\n".join([yaml.safe_dump(values, sort_keys=False).rstrip(),
                      f"# pipeline_root: {config.pipeline_root}",
                      f"# metadata: {redact_url(config.metadata_url)}",
                      *(f"# {spec['kind']}: {spec['root']}" for spec in config.destination_specs)])
