"""Cold run, cached rerun (--force: TFX's cache decides) and a run with nothing new (the platform's
own check, without TFX) of the whole pipeline; prints each component's duration.

Durations come from ML Metadata's execution timestamps (create -> last update), so they are what
the orchestrator recorded. Numbers are printed, never asserted.

    .venv/bin/python benchmarks/bench_pipeline.py [--home DIR] [--keep] [extra `mlops run` flags]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlops  # noqa: F401  (environment for TensorFlow)
from mlops import metadata
from mlops.config import load_config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="MLOPS_HOME to use (default: a fresh temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args, run_flags = parser.parse_known_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="mlops-bench-"))
    mlops_cli = str(Path(sys.executable).with_name("mlops"))

    walls = []
    for label, flags in (("cold", []), ("cached", ["--force"]), ("nothing new", [])):
        print(f"== {label} run in {home}", flush=True)
        started = time.monotonic()
        proc = subprocess.run([mlops_cli, "run", "--home", str(home), *flags, *run_flags])
        walls.append(time.monotonic() - started)
        if proc.returncode != 0:
            print(f"{label} run failed (exit {proc.returncode})", file=sys.stderr)
            return proc.returncode

    config = load_config(overrides={"home": str(home)})
    store = metadata.open_store(config.metadata_target())
    runs = metadata.pipeline_runs(store, config.pipeline_name)[-2:]
    cold, cached = (metadata.run_executions(store, run, config.pipeline_name) for run in runs)
    cached_by_node = {e.node_id: e for e in cached}

    print(f"\n{'component':<23} {'cold s':>8} {'rerun s':>8}  rerun state")
    for record in cold:
        again = cached_by_node.get(record.node_id)
        print(f"{record.node_id:<23} {record.seconds:8.1f} "
              f"{again.seconds if again else float('nan'):8.1f}  {again.state if again else '-'}")
    print(f"{'sum of components':<23} {sum(e.seconds for e in cold):8.1f} "
          f"{sum(e.seconds for e in cached):8.1f}")
    print(f"{'wall clock (CLI)':<23} {walls[0]:8.1f} {walls[1]:8.1f}")
    print(f"nothing new (no --force): {walls[2]:.2f} s wall clock, TFX not started "
          "(target <= 3 s)")
    if not args.home and not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
