"""`mlops`: the command line behind every make target. It parses flags and prints; what each
command does lives in `mlops/commands/` (the local run, the cluster engines, the read-side views).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from mlops.commands import local_run, remote, views
from mlops.commands.common import resolve_config
from mlops.commands.options import compile_options, config_options


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """A TFX platform: data in, a gated model out, published where it is used."""


@main.command()
@config_options
@click.option("-v", "--verbose", is_flag=True, help="Also print TFX's logs.")
@click.option("--create-metadata", is_flag=True,
              help="Start a new SQLite ML Metadata store at --metadata if none is there.")
@click.option("--force", is_flag=True,
              help="Run even when nothing changed since the last completed run.")
def run(config_file: str | None, verbose: bool, create_metadata: bool, force: bool,
        **overrides: Any) -> None:
    """Run the whole pipeline locally (LocalDagRunner, Beam DirectRunner, SQLite metadata)."""
    config = resolve_config(config_file, overrides)
    local_run.run(config, verbose=verbose, create_metadata=create_metadata, force=force)


@main.command()
@config_options
@click.option("--source", type=click.Path(),
              help="TFRecord/CSV file or directory to add as the next span (default: the next "
                   "demo span of the digits data).")
def ingest(config_file: str | None, source: str | None, **overrides: Any) -> None:
    """Add the next data span (<data>/span-N) for the next run to train on."""
    click.echo(local_run.ingest(resolve_config(config_file, overrides), source))


@main.command("compile")
@config_options
@compile_options
def compile_command(config_file: str | None, engine: str, image: str | None, output_dir: str,
                    allow_local_root: bool, **overrides: Any) -> None:
    """Compile the pipeline for Kubeflow Pipelines v2 (YAML PipelineSpec + Vertex JSON)."""
    config = resolve_config(config_file, {**overrides, "image": image})
    paths = remote.compile_for_cluster(config, output_dir, allow_local_root)
    click.echo(f"KFP PipelineSpec: {paths['kfp']}\nVertex PipelineJob: {paths['vertex']}")


def _remote_command(action: str, help_text: str) -> None:
    @config_options
    @compile_options
    @click.option("--dry-run", is_flag=True, help="Compile and print the calls; change nothing.")
    def command(config_file, engine, image, output_dir, allow_local_root, dry_run, **overrides):
        config = resolve_config(config_file, {**overrides, "image": image})
        remote.remote(config, engine, action, output_dir, allow_local_root, dry_run, click.echo)
    command.__doc__ = help_text
    main.command(action)(command)


_remote_command("deploy", "Compile and upload the pipeline to KFP (a new version if it exists).")
_remote_command("schedule", "Create or replace the recurring retraining run (latest version).")
_remote_command("run-remote", "Start one run of the latest uploaded version now.")


@main.command("schema")
@config_options
@click.option("--promote", is_flag=True,
              help="Make the latest run's schema the project's curated schema (schema_file).")
@click.option("--force", is_flag=True, help="With --promote: replace an existing schema file.")
def schema_command(config_file: str | None, promote: bool, force: bool, **overrides: Any) -> None:
    """Show the schema the latest run validated its data with; --promote curates it."""
    click.echo(views.schema(resolve_config(config_file, overrides), promote, force))


@main.command("skew")
@config_options
@click.option("--requests", "requests_path", required=True, type=click.Path(exists=True),
              help="A sample of serving requests: TFRecord of tf.Example or CSV (file or dir).")
def skew_command(config_file: str | None, requests_path: str, **overrides: Any) -> None:
    """Compare serving requests with the span the model in production was trained on."""
    text, skewed = views.skew(resolve_config(config_file, overrides), requests_path)
    click.echo(text)
    if skewed:
        sys.exit(1)


@main.command("report")
@config_options
@click.option("--run", "run_name", default="", help="Run id (`mlops runs`); default the latest.")
@click.option("--output", type=click.Path(dir_okay=False),
              help="Where to write the page (default <home>/reports/<run>.html).")
def report_command(config_file: str | None, run_name: str, output: str | None,
                   **overrides: Any) -> None:
    """Write a run's report page: verdict, data, gate, TFLite variants, lineage, timings."""
    click.echo(views.report(resolve_config(config_file, overrides), run_name, output))


@main.command("ui")
@config_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address to bind (anything else is refused).")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
def ui_command(config_file: str | None, host: str, port: int, **overrides: Any) -> None:
    """Browse runs, reports and lineage on localhost (read-only)."""
    views.ui(resolve_config(config_file, overrides), host, port, click.echo)


@main.command("runs")
@config_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def runs_command(config_file: str | None, output_format: str, **overrides: Any) -> None:
    """List pipeline runs recorded in ML Metadata: status, blessed, pushed version, duration."""
    click.echo(views.runs(resolve_config(config_file, overrides), output_format))


@main.command("lineage")
@config_options
@click.option("--artifact-id", type=int, help="A model (or pushed model) artifact id.")
@click.option("--version", "pushed_version", help="A pushed version (as in TF Serving's layout).")
@click.option("--path", "published_path", help="A published file or directory (local or gs://).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--graph", "graph_file", help="Also render the graph to FILE.svg or FILE.html.")
def lineage_command(config_file: str | None, artifact_id: int | None, pushed_version: str | None,
                    published_path: str | None, output_format: str, graph_file: str | None,
                    **overrides: Any) -> None:
    """Trace a model back to its input span (default: the latest pushed model)."""
    click.echo(views.lineage(resolve_config(config_file, overrides), artifact_id, pushed_version,
                             published_path, output_format, graph_file))
    if graph_file:
        click.echo(f"Graph: {graph_file}", err=output_format == "json")


@main.command("rollback")
@config_options
@click.option("--version", "version", type=int, required=True,
              help="The published version to put back in production.")
def rollback_command(config_file: str | None, version: int, **overrides: Any) -> None:
    """Point production back at an earlier published version (TF Serving's models.config pins it,
    the mobile bucket's latest.json names it). The next run gates its candidate against it."""
    views.rollback(resolve_config(config_file, overrides), version, click.echo)


@main.command("production")
@config_options
def production_command(config_file: str | None, **overrides: Any) -> None:
    """Which version is in production, and the model (and baseline) it came from."""
    click.echo(views.production(resolve_config(config_file, overrides)))


@main.command("config")
@config_options
def show_config(config_file: str | None, **overrides: Any) -> None:
    """Print the resolved configuration."""
    click.echo(views.resolved_config(resolve_config(config_file, overrides)))


if __name__ == "__main__":
    sys.exit(main())
