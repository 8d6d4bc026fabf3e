"""`mlops run`: the whole pipeline on this machine (TFX's LocalDagRunner, Beam's DirectRunner),
with everything that can be known before the first component checked first; and `mlops ingest`."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import time

from mlops.commands.common import check_input, destinations, open_metadata, write_report
from mlops.config import Config
from mlops.data import DataError
from mlops.errors import PlatformError


def run(config: Config, verbose: bool = False, create_metadata: bool = False,
        force: bool = False) -> None:
    from mlops import progress, run_fingerprint

    started = time.monotonic()
    as_given = config  # before the Beam arguments are chosen: what the fingerprint covers
    if not force:
        last = run_fingerprint.unchanged_since(config, run_fingerprint.fingerprint(config))
        if last is not None:
            version = last.get("production_version")
            print(f"Nothing changed since run {last['run']} (the same span, configuration, module, "
                  "schema, platform and published models): nothing to do. "
                  + (f"Version {version} is in production. " if version else
                     "Nothing is in production. ") + "--force runs anyway.", flush=True)
            return
    (config.home_path / "logs").mkdir(parents=True, exist_ok=True)
    log_file = config.home_path / "logs" / f"run-{time.strftime('%Y%m%d-%H%M%S')}.log"

    # TensorFlow, TFX, Beam, pip and Keras write to the process's stdout/stderr directly (from
    # subprocesses too): that goes to the log file unless --verbose; the terminal gets progress.
    with progress.output_to(None if verbose else str(log_file)) as terminal, \
            contextlib.ExitStack() as held:
        def say(line: str) -> None:
            print(line, file=terminal, flush=True)

        say(f"Full log: {log_file}")
        held.enter_context(_run_scratch(config.home_path / "tmp"))
        check_module(config)
        store = open_metadata(config, create=create_metadata)  # fail fast, before any component
        _hold_store(config, store, held, say)
        data_format, input_pattern, input_bytes = prepare_data(config, say)
        check_destinations(config)
        check_curated_schema(config)
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
        _record_fingerprint(as_given, store)


def _record_fingerprint(config: Config, store) -> None:
    """What the next run compares itself with (mlops/run_fingerprint.py)."""
    from components.baseline.production import production_model
    from mlops import metadata, run_fingerprint

    run = metadata.latest_run(store, config.pipeline_name)
    try:
        production = production_model(destinations(config))
        run_fingerprint.record(config, run.name if run is not None else "?",
                               production.version if production is not None else None)
    except Exception as err:  # the run's result stands; the next run then simply runs
        print(f"Run fingerprint not recorded: {type(err).__name__}: {err}", file=sys.stderr)


def _hold_store(config: Config, store, held: contextlib.ExitStack, say) -> None:
    """Runs on one SQLite store take turns (held until the run ends); a run that was killed while
    it held the store is marked CANCELED now (mlops/store_lock.py)."""
    target = config.metadata_target()
    if target.kind != "sqlite":
        return
    from mlops.store_lock import one_run_at_a_time

    killed = held.enter_context(one_run_at_a_time(target.path, config.pipeline_name, say))
    if killed:
        from mlops import run_report

        run_report.cancel_unfinished(store, killed.get("pipeline", ""), killed.get("started_ms", 0))
        say(f"The previous run of {killed.get('pipeline')} (started {killed.get('started')}) was "
            "killed before it finished; it is marked CANCELED.")


@contextlib.contextmanager
def _run_scratch(parent):
    """The run's own temporary directory (mlops.tempdir), removed when the run ends."""
    import shutil
    import tempfile

    from mlops.tempdir import temporary_files_in

    parent.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="run-", dir=parent)
    try:
        with temporary_files_in(scratch):
            yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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

    for destination in destinations(config):
        try:
            check_writable(destination.root)
        except PublishError as err:
            raise PlatformError(f"{destination.name}: {err}; nothing was run") from None


def check_curated_schema(config: Config) -> None:
    """A curated schema ImportSchemaGen could not read is named now, not mid-run."""
    if not os.path.isfile(config.schema_path):
        return
    from mlops.config import ConfigError
    from pipelines.runner_args import check_schema_text

    with open(config.schema_path, "rb") as handle:
        try:
            check_schema_text(config.schema_path, handle.read())
        except ConfigError as err:
            raise PlatformError(f"{err}; nothing was run") from None


def prepare_data(config: Config, say) -> tuple[str, str, int]:
    """Writes the default dataset if it is the one in use and checks the input the run will read
    (the newest span). Returns (format, ExampleGen input pattern, bytes of input)."""
    from mlops import data

    if config.uses_default_data and not data.spans(config.data_root):
        say("Default dataset: scikit-learn digits, span 1 at "
            f"{data.write_digits(config.data_root)}")
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


def summary_text(config: Config, seconds: float) -> str:
    from mlops import report

    summary = report.summarize(open_metadata(config), config.pipeline_name)
    if summary is None:
        return "No run recorded in ML Metadata."
    return report.format_summary(summary, seconds)


def ingest(config: Config, source: str | None) -> str:
    """Adds the next data span; returns what to print."""
    from mlops import data

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
    return f"Span {span}: {span_dir}"
