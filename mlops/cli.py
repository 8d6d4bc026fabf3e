"""`mlops`: the command line behind every make target."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import time
from typing import Any

import click

from mlops.config import Config, ConfigError, load_config
from mlops.data import DataError


class PlatformError(click.ClickException):
    """An expected failure: printed as one line naming the problem, exit code 1, no traceback."""

    def format_message(self) -> str:
        return self.message


def _config_options(func):
    """Flags that override configuration keys; None means 'not given'."""
    options = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="YAML config file (also MLOPS_CONFIG)."),
        click.option("--home", help="Where all state lives (MLOPS_HOME, default ./mlops-home)."),
        click.option("--data", help="Directory or file of TFRecord/CSV input (MLOPS_DATA)."),
        click.option("--data-format", type=click.Choice(["auto", "tfrecord", "csv"])),
        click.option("--label-key"),
        click.option("--feature-keys", help="Comma-separated features the model needs."),
        click.option("--task", type=click.Choice(["multiclass", "binary", "regression"])),
        click.option("--num-classes", type=int),
        click.option("--slices", help="Comma-separated features to evaluate apart (per value)."),
        click.option("--model-name"),
        click.option("--module-file", help="Python file with preprocessing_fn and run_fn."),
        click.option("--train-steps", type=int),
        click.option("--eval-steps", type=int),
        click.option("--accuracy-threshold", type=float,
                     help="Lower bound on accuracy for both evaluators."),
        click.option("--max-accuracy-drop", type=float,
                     help="How much less accurate than the model in production a candidate may be."),
        click.option("--tflite-accuracy-budget", type=float,
                     help="Accuracy points a TFLite variant may lose against float32 and still "
                          "be published."),
        click.option("--serving-dir", help="TF Serving root (local path or gs://)."),
        click.option("--hub-dir", help="TF Hub root (local path or gs://)."),
        click.option("--mobile-dir", help="Mobile model bucket root (local path or gs://)."),
        click.option("--serving/--no-serving", "publish_serving", default=None),
        click.option("--hub/--no-hub", "publish_hub", default=None),
        click.option("--mobile/--no-mobile", "publish_mobile", default=None),
        click.option("--pipeline-root", "pipeline_root_dir"),
        click.option("--kfp-endpoint", help="KFP API/UI URL (MLOPS_KFP_ENDPOINT)."),
        click.option("--schedule-cron", help="6-field cron, seconds first (KFP)."),
        click.option("--metadata", help="ML Metadata store: sqlite:///PATH or "
                     "mysql://USER@HOST:PORT/DB (MLOPS_METADATA; password from "
                     "MLOPS_METADATA_PASSWORD or MLOPS_METADATA_PASSWORD_FILE)."),
        click.option("--cache/--no-cache", "enable_cache", default=None),
        click.option("--schema-file", help="The curated schema (.pbtxt); runs import it when it "
                     "exists (MLOPS_SCHEMA_FILE)."),
        click.option("--accept-drift", is_flag=True, default=None,
                     help="Let a span that drifted from the production model's span through "
                          "(recorded in lineage)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """A TFX platform: data in, a gated model out, published where it is used."""


@main.command()
@_config_options
@click.option("-v", "--verbose", is_flag=True, help="Also print TFX's logs.")
@click.option("--create-metadata", is_flag=True,
              help="Start a new SQLite ML Metadata store at --metadata if none is there.")
def run(config_file: str | None, verbose: bool, create_metadata: bool, **overrides: Any) -> None:
    """Run the whole pipeline locally (LocalDagRunner, Beam DirectRunner, SQLite metadata)."""
    config = resolve_config(config_file, overrides)
    run_locally(config, verbose=verbose, create_metadata=create_metadata)


def run_locally(config: Config, verbose: bool = False, create_metadata: bool = False) -> None:
    from mlops import progress

    started = time.monotonic()
    (config.home_path / "logs").mkdir(parents=True, exist_ok=True)
    log_file = config.home_path / "logs" / f"run-{time.strftime('%Y%m%d-%H%M%S')}.log"

    # TensorFlow, TFX, Beam, pip and Keras write to the process's stdout/stderr directly (from
    # subprocesses too): that goes to the log file unless --verbose; the terminal gets progress.
    with progress.output_to(None if verbose else str(log_file)) as terminal, \
            contextlib.ExitStack() as held:
        def say(line: str) -> None:
            print(line, file=terminal, flush=True)

        say(f"Full log: {log_file}")
        check_module(config)
        store = open_metadata(config, create=create_metadata)  # fail fast, before any component
        target = config.metadata_target()
        if target.kind == "sqlite":
            from mlops.store_lock import one_run_at_a_time

            held.enter_context(one_run_at_a_time(target.path, say))
        data_format, input_pattern, input_bytes = prepare_data(config, say)
        check_destinations(config)
        if not config.beam_args:
            from pipelines.runner_args import direct_runner_args

            config = dataclasses.replace(config, beam_args=direct_runner_args(config, input_bytes))
            switch = (f"multi-processing from {config.beam_multiprocessing_mb} MB"
                      if config.beam_multiprocessing_mb > 0 else "beam_multiprocessing_mb: 0")
            say(f"Beam: DirectRunner {' '.join(config.beam_args)} ({input_bytes / 2**20:,.1f} MB "
                f"of input; {switch})")
        from mlops import metadata

        say(f"ML Metadata: {config.metadata_target().describe()}")
        handler = progress.install(str(log_file), out=terminal, verbose=verbose,
                                   previous=metadata.last_durations(store, config.pipeline_name))
        from pipelines import local_runner

        say(f"Running {config.pipeline_name} (pipeline root {config.pipeline_root})")
        signal.signal(signal.SIGTERM, _interrupt)  # a stopped container ends like Ctrl-C
        run_started_ms = int(time.time() * 1000)
        try:
            local_runner.run(config, data_format, input_pattern)
        except KeyboardInterrupt:
            from mlops import run_report

            run_report.cancel_unfinished(store, config.pipeline_name, run_started_ms)
            raise PlatformError(f"interrupted during {handler.current or 'the run'}; its "
                                "execution is marked CANCELED, nothing was pushed, and the next "
                                "run reuses what finished") from None
        except Exception as err:  # any component failure: report it, never a traceback
            component = handler.current or "the pipeline"
            first_lines = "\n".join(str(err).strip().splitlines()[:12]) or type(err).__name__
            message = f"{component} failed: {first_lines}"
            # The whole traceback goes to the run's log; the terminal names the user's line.
            import traceback

            traceback.print_exception(err, file=sys.stderr)
            sys.stderr.flush()
            where = user_code_line(err, config.resolved_module_file)
            if where:
                message += f"\n{where}"
            from mlops import run_report

            run_report.record_error(store, config.pipeline_name, message)
            write_report(config, store, say)
            raise PlatformError(f"{message}\nNothing was pushed. Full log: {log_file}") from None
        say(summary_text(config, time.monotonic() - started))
        write_report(config, store, say)


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def user_code_line(err: BaseException, module_file: str) -> str:
    """'In your module FILE, line N: CODE' for the innermost frame of the user's module in the
    traceback ('' if the failure is not in it). TFX runs a copy of the module installed from a
    wheel, so frames are matched by file name; the copy's line numbers are the file's."""
    import traceback

    name = os.path.basename(module_file)
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if os.path.basename(f.filename) == name]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"In your module {module_file}, line {frame.lineno}, in {frame.name}{code}"


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


def check_module(config: Config) -> None:
    from mlops import module_check

    try:
        module_check.check(config.resolved_module_file)
    except module_check.ModuleError as err:
        raise PlatformError(str(err)) from None


def check_destinations(config: Config) -> None:
    """Every publishing destination can be written, known before anything trains."""
    from components.pusher.destinations.base import PublishError
    from components.pusher.destinations.writable import check_writable

    for destination in _destinations(config):
        try:
            check_writable(destination.root)
        except PublishError as err:
            raise PlatformError(f"{destination.name}: {err}; nothing was run") from None


def prepare_data(config: Config, say) -> tuple[str, str, int]:
    """Writes the default dataset if it is the one in use and checks the input the run will read
    (the newest span). Returns (format, ExampleGen input pattern, bytes of input)."""
    from mlops import data

    if config.uses_default_data and not data.spans(config.data_root):
        say(f"Default dataset: scikit-learn digits, span 1 at {data.write_digits(config.data_root)}")
    files, pattern = data.input_location(config.data_root)
    checked = check_input(config, files)
    say(f"Input: {files} ({checked['format']}, {len(checked['files'])} file(s), "
        f"{checked['records_checked']} records checked)")
    from mlops import module_check

    try:
        module_check.check_feature_reads(config.resolved_module_file, checked["columns"])
    except module_check.ModuleError as err:
        raise PlatformError(str(err)) from None
    return checked["format"], pattern, sum(os.path.getsize(f) for f in checked["files"])


def check_input(config: Config, path: str) -> dict:
    from mlops import data

    try:
        slice_features = [name.split("=", 1)[0].strip() for name in config.slices]
        features = list(dict.fromkeys([*config.feature_keys, *slice_features]))
        return data.preflight(path, config.data_format, config.label_key, features,
                              config.classes, config.preflight_records, task=config.task)
    except DataError as err:
        raise PlatformError(f"bad input data: {err}") from None


def summary_text(config: Config, seconds: float) -> str:
    from mlops import report

    summary = report.summarize(open_metadata(config), config.pipeline_name)
    if summary is None:
        return "No run recorded in ML Metadata."
    return report.format_summary(summary, seconds)


@main.command()
@_config_options
@click.option("--source", type=click.Path(),
              help="TFRecord/CSV file or directory to add as the next span (default: the next "
                   "demo span of the digits data).")
def ingest(config_file: str | None, source: str | None, **overrides: Any) -> None:
    """Add the next data span (<data>/span-N) for the next run to train on."""
    from mlops import data

    config = resolve_config(config_file, overrides)
    source_format = "tfrecord"
    if source is not None:
        source_format = check_input(config, source)["format"]
    elif not config.uses_default_data:
        raise PlatformError("--source is required: the demo spans exist only for the default "
                            "digits data")
    try:
        span, span_dir = data.ingest(config.data_root, source, source_format)
    except DataError as err:
        raise PlatformError(f"cannot ingest: {err}") from None
    click.echo(f"Span {span}: {span_dir}")


def _compile_options(func):
    options = [
        click.option("--engine", type=click.Choice(["kfp", "vertex"]), default="kfp",
                     show_default=True, help="Kubeflow Pipelines v2, or Vertex AI Pipelines."),
        click.option("--image", help="Pipeline image every task runs in (config key: image)."),
        click.option("--output-dir", default="build/pipeline", show_default=True),
        click.option("--allow-local-root", is_flag=True,
                     help="Accept a pipeline root that is not gs:// (local harnesses only)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command("compile")
@_config_options
@_compile_options
def compile_command(config_file: str | None, engine: str, image: str | None, output_dir: str,
                    allow_local_root: bool, **overrides: Any) -> None:
    """Compile the pipeline for Kubeflow Pipelines v2 (YAML PipelineSpec + Vertex JSON)."""
    config = resolve_config(config_file, {**overrides, "image": image})
    paths = compile_for_cluster(config, output_dir, allow_local_root)
    click.echo(f"KFP PipelineSpec: {paths['kfp']}\nVertex PipelineJob: {paths['vertex']}")


def compile_for_cluster(config: Config, output_dir: str, allow_local_root: bool) -> dict:
    """Compiles both forms (KFP YAML, Vertex JSON); returns their paths."""
    # TFX packages the user module as a wheel under the pipeline root at compile time, and every
    # task reads it from there: on a cluster that has to be shared object storage.
    if not config.pipeline_root.startswith("gs://") and not allow_local_root:
        raise PlatformError(
            f"pipeline root {config.pipeline_root} is not shared object storage: tasks on a "
            "cluster read the module wheels TFX writes there at compile time; pass "
            "--pipeline-root gs://BUCKET/PATH (or set pipeline_root_dir)")
    from mlops import progress

    log_file = os.path.join(output_dir, "compile.log")
    os.makedirs(output_dir, exist_ok=True)
    with progress.output_to(log_file):
        from pipelines import kubeflow_runner  # TFX warns loudly at import time

        try:
            paths = kubeflow_runner.compile_pipeline(config, output_dir, config.image)
        except Exception as err:
            raise PlatformError(f"compile failed: {err} (log: {log_file})") from None
    return paths


def _remote(config_file, engine, image, output_dir, allow_local_root, dry_run, overrides,
            action: str) -> None:
    """deploy / schedule / run-remote: compile, then the engine's calls (printed first)."""
    from mlops import kfp_deploy, vertex_deploy

    config = resolve_config(config_file, {**overrides, "image": image})
    paths = compile_for_cluster(config, output_dir, allow_local_root)
    click.echo(f"Compiled: {paths['kfp']} (KFP), {paths['vertex']} (Vertex)")
    plan = kfp_deploy.Plan(dry_run=dry_run)
    experiment = config.kfp_experiment or config.pipeline_name
    try:
        if engine == "vertex":
            common = dict(display_name=config.pipeline_name, pipeline_root=config.pipeline_root,
                          project=config.vertex_project, region=config.vertex_region,
                          service_account=config.vertex_service_account)
            if action == "deploy":
                plan.calls.append("(nothing to upload: Vertex takes the PipelineJob JSON per run)")
                result = paths["vertex"]
            elif action == "schedule":
                result = vertex_deploy.schedule(plan, paths["vertex"], cron=config.schedule_cron,
                                                timezone=config.schedule_timezone, **common)
            else:
                result = vertex_deploy.run_now(plan, paths["vertex"], **common)
        else:
            client = None if dry_run else kfp_deploy.connect(
                config.kfp_endpoint, config.kfp_namespace, config.kfp_iap_client_id,
                os.environ.get("MLOPS_KFP_TOKEN", ""))
            if action == "deploy":
                ids = kfp_deploy.deploy(client, plan, paths["kfp"], config.pipeline_name,
                                        kfp_deploy.version_name(config.pipeline_name))
                result = (f"pipeline {ids[0]}, version {ids[1]}: {config.kfp_endpoint}"
                          f"/#/pipelines/details/{ids[0]}/version/{ids[1]}")
            else:
                ids = kfp_deploy.latest_version(client, plan, config.pipeline_name)
                if action == "schedule":
                    result = "recurring run " + kfp_deploy.schedule(
                        client, plan, *ids, experiment=experiment,
                        namespace=config.kfp_namespace,
                        job_name=f"{config.pipeline_name}-retraining", cron=config.schedule_cron)
                else:
                    result = "run " + kfp_deploy.run_now(
                        client, plan, *ids, experiment=experiment,
                        namespace=config.kfp_namespace,
                        run_name=kfp_deploy.version_name(config.pipeline_name))
    except kfp_deploy.DeployError as err:
        raise PlatformError(str(err)) from None
    except Exception as err:  # the KFP/Vertex client's own errors: name the step, no traceback
        done = plan.calls[-1] if plan.calls else action
        raise PlatformError(f"{engine} {action} failed at {done}: "
                            f"{kfp_deploy.first_line(err)}") from None
    heading = "Would call:" if dry_run else "Called:"
    click.echo("\n".join([heading, *(f"  {c}" for c in plan.calls)]))
    if not dry_run:
        click.echo(f"Done: {result}")


def _remote_command(action: str, help_text: str):
    @_config_options
    @_compile_options
    @click.option("--dry-run", is_flag=True, help="Compile and print the calls; change nothing.")
    def command(config_file, engine, image, output_dir, allow_local_root, dry_run, **overrides):
        _remote(config_file, engine, image, output_dir, allow_local_root, dry_run, overrides,
                action)
    command.__doc__ = help_text
    return main.command(action)(command)


_remote_command("deploy", "Compile and upload the pipeline to KFP (a new version if it exists).")
_remote_command("schedule", "Create or replace the recurring retraining run (latest version).")
_remote_command("run-remote", "Start one run of the latest uploaded version now.")


@main.command("schema")
@_config_options
@click.option("--promote", is_flag=True,
              help="Make the latest run's schema the project's curated schema (schema_file).")
@click.option("--force", is_flag=True, help="With --promote: replace an existing schema file.")
def schema_command(config_file: str | None, promote: bool, force: bool, **overrides: Any) -> None:
    """Show the schema the latest run validated its data with; --promote curates it."""
    from mlops import schema

    config = resolve_config(config_file, overrides)
    uri = schema.latest_schema_uri(open_metadata(config, must_exist=True), config.pipeline_name)
    if uri is None:
        raise PlatformError(f"no run of {config.pipeline_name} has produced a schema yet: "
                            "`mlops run` first")
    current = schema.read(uri)
    click.echo(f"Schema of the latest run: {uri}\n{schema.describe(current)}")
    if os.path.isfile(config.schema_path):
        click.echo(f"Curated schema (imported by every run): {config.schema_path}")
    if promote:
        try:
            path = schema.promote(current, config.schema_path, config.label_key, force=force)
        except schema.SchemaError as err:
            raise PlatformError(str(err)) from None
        click.echo(f"Promoted to {path}: later runs import it instead of inferring a schema. "
                   "Edit it (domains, presence, ranges) and keep it under version control.")


@main.command("skew")
@_config_options
@click.option("--requests", "requests_path", required=True, type=click.Path(exists=True),
              help="A sample of serving requests: TFRecord of tf.Example or CSV (file or dir).")
def skew_command(config_file: str | None, requests_path: str, **overrides: Any) -> None:
    """Compare serving requests with the span the model in production was trained on."""
    from mlops import data, skew
    from pipelines.runner_args import drift_thresholds

    config = resolve_config(config_file, overrides)
    try:
        data_format = data.detect_format(data.data_files(requests_path), config.data_format)
        report = skew.check(requests_path, data_format, _destinations(config), config.schema_path,
                            config.label_key, drift_thresholds(config))
    except (skew.SkewError, DataError) as err:
        raise PlatformError(f"cannot check skew: {err}") from None
    click.echo(report.text())
    if report.skewed or report.problems:
        sys.exit(1)


@main.command("report")
@_config_options
@click.option("--run", "run_name", default="", help="Run id (`mlops runs`); default the latest.")
@click.option("--output", type=click.Path(dir_okay=False),
              help="Where to write the page (default <home>/reports/<run>.html).")
def report_command(config_file: str | None, run_name: str, output: str | None,
                   **overrides: Any) -> None:
    """Write a run's report page: verdict, data, gate, TFLite variants, lineage, timings."""
    from mlops import report_page, run_report

    config = resolve_config(config_file, overrides)
    store = open_metadata(config, must_exist=True)
    try:
        page = run_report.collect(store, config.pipeline_name, run_name)
    except run_report.ReportError as err:
        raise PlatformError(str(err)) from None
    click.echo(report_page.write(page, output or report_path(config, page.run_name)))


@main.command("ui")
@_config_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address to bind (anything else is refused).")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
def ui_command(config_file: str | None, host: str, port: int, **overrides: Any) -> None:
    """Browse runs, reports and lineage on localhost (read-only)."""
    from mlops import ui

    config = resolve_config(config_file, overrides)
    try:
        ui.check_loopback(host)
        open_metadata(config, must_exist=True)  # one clear error now, not on the first page
        target = config.metadata_target()
        ui.serve(lambda: ui.read_only_store(target), config.pipeline_name, host, port,
                 ready=lambda url: click.echo(f"Runs browser: {url} (Ctrl-C stops it)"))
    except ui.UIError as err:
        raise PlatformError(str(err)) from None
    except OSError as err:
        raise PlatformError(f"cannot serve on {host}:{port}: {err.strerror or err}") from None
    except KeyboardInterrupt:
        pass


@main.command("runs")
@_config_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def runs_command(config_file: str | None, output_format: str, **overrides: Any) -> None:
    """List pipeline runs recorded in ML Metadata: status, blessed, pushed version, duration."""
    import json

    from mlops import report

    config = resolve_config(config_file, overrides)
    store = open_metadata(config, must_exist=True)
    rows = report.list_runs(store, config.pipeline_name)
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
    elif rows:
        click.echo(report.format_runs(rows))
    else:
        others = report.pipeline_names(store)
        click.echo(f"No runs of {config.pipeline_name} recorded yet."
                   + (f" The store holds runs of: {', '.join(others)} (choose one with "
                      "--config or MLOPS_PIPELINE_NAME)." if others else ""))


@main.command("lineage")
@_config_options
@click.option("--artifact-id", type=int, help="A model (or pushed model) artifact id.")
@click.option("--version", "pushed_version", help="A pushed version (as in TF Serving's layout).")
@click.option("--path", "published_path", help="A published file or directory (local or gs://).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--graph", "graph_file", help="Also render the graph to FILE.svg or FILE.html.")
def lineage_command(config_file: str | None, artifact_id: int | None, pushed_version: str | None,
                    published_path: str | None, output_format: str, graph_file: str | None,
                    **overrides: Any) -> None:
    """Trace a model back to its input span (default: the latest pushed model)."""
    import json

    from mlops import lineage

    if sum(x is not None for x in (artifact_id, pushed_version, published_path)) > 1:
        raise PlatformError("give at most one of --artifact-id, --version, --path")
    config = resolve_config(config_file, overrides)
    store = open_metadata(config, must_exist=True)
    try:
        trace = lineage.trace(store, config.pipeline_name, artifact_id=artifact_id,
                              version=pushed_version, path=published_path)
        if graph_file:
            lineage.render(trace, graph_file)
    except lineage.LineageError as err:
        raise PlatformError(str(err)) from None
    click.echo(json.dumps(trace.to_json(), indent=2) if output_format == "json"
               else lineage.format_text(trace))
    if graph_file:
        click.echo(f"Graph: {graph_file}", err=output_format == "json")


def _destinations(config: Config):
    from components.pusher.executor import destinations_from
    from pipelines.runner_args import pipeline_args

    return destinations_from(pipeline_args(config, "tfrecord", "*"))


@main.command("rollback")
@_config_options
@click.option("--version", "version", type=int, required=True,
              help="The published version to put back in production.")
def rollback_command(config_file: str | None, version: int, **overrides: Any) -> None:
    """Point production back at an earlier published version (TF Serving's models.config pins it,
    the mobile bucket's latest.json names it). The next run gates its candidate against it."""
    from components.pusher.destinations.base import PublishError

    config = resolve_config(config_file, overrides)
    destinations = _destinations(config)
    missing = [d.name for d in destinations if version not in d.versions()]
    if missing:  # check every destination first: a rollback is all or nothing
        raise PlatformError(f"version {version} is not published in {', '.join(missing)}")
    for destination in destinations:
        try:
            changed = destination.pin(version)
        except PublishError as err:
            raise PlatformError(str(err)) from None
        click.echo(f"{destination.name}: version {version}"
                   + (f" ({changed})" if changed else " (no pointer: clients pick versions)"))


@main.command("production")
@_config_options
def production_command(config_file: str | None, **overrides: Any) -> None:
    """Which version is in production, and the model (and baseline) it came from."""
    from components.baseline.production import BaselineError, production_model

    config = resolve_config(config_file, overrides)
    try:
        production = production_model(_destinations(config))
    except BaselineError as err:
        raise PlatformError(str(err)) from None
    if production is None:
        click.echo("Nothing is in production yet.")
        return
    click.echo(f"Version {production.version} ({production.destination}): "
               f"model {production.model_uri}")


@main.command("config")
@_config_options
def show_config(config_file: str | None, **overrides: Any) -> None:
    """Print the resolved configuration."""
    import dataclasses

    import yaml

    config = resolve_config(config_file, overrides)
    from mlops.metadata import redact_url

    values = dataclasses.asdict(config)
    values["metadata"] = redact_url(values["metadata"])
    click.echo(yaml.safe_dump(values, sort_keys=False).rstrip())
    click.echo(f"# pipeline_root: {config.pipeline_root}\n"
               f"# metadata: {redact_url(config.metadata_url)}\n"
               f"# serving: {config.serving_root if config.publish_serving else 'off'}\n"
               f"# hub: {config.hub_root if config.publish_hub else 'off'}\n"
               f"# mobile: {config.mobile_root if config.publish_mobile else 'off'}")


if __name__ == "__main__":
    sys.exit(main())
