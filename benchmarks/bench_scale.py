"""The whole chain at N rows, beside stock TFDV and the stock TFX chain on the same files.

    make bench-scale ROWS=1000000 [ARGS="--train-steps 200 --skip-stock"]

Writes N synthetic digits-like rows (64 floats in [0, 16], 10 classes: a real 8x8 digit plus seeded
noise, so the model has something to learn) as 8 TFRecord shards of one span, once per N (kept in
--dir). Then, each in a fresh process and a fresh home:
1. the platform (`mlops run`, few training steps);
2. stock TFDV, `tfdv.generate_statistics_from_tfrecord` on the same files;
3. the stock TFX chain (benchmarks/stock_tfx.py: stock components, same module and steps).
Per component it prints wall time, rows per second (of the rows the component reads: all of them
for ExampleGen, StatisticsGen and Transform, the eval split for the Evaluators) and peak memory
(resident set of the process and its children, sampled every 0.2 s), and the platform/stock ratio.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

SHARDS = 8
EVAL_FRACTION = 1 / 5  # the platform's and stock chain's split: 4 train buckets, 1 eval
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MLOPS = str(Path(PYTHON).with_name("mlops"))
_PROGRESS = re.compile(r"\] (\S+) \.\.\. (started|done in ([0-9.]+)s( \(cached\))?)")
# Components that read every row, and those that read the eval split.
READS_ALL = ("ImportExampleGen", "StatisticsGen", "Transform")


def write_rows(data_dir: Path, rows: int, seed: int = 0) -> Path:
    """N digits-like tf.Examples in SHARDS files of span 1; reused when already complete."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    span = data_dir / "span-1"
    done = data_dir / ".complete"
    if done.exists() and done.read_text() == f"{rows} {seed}":
        print(f"== data: {rows:,} rows already in {span}", flush=True)
        return span
    shutil.rmtree(data_dir, ignore_errors=True)
    span.mkdir(parents=True)
    digits = load_digits()
    rng = np.random.default_rng(seed)
    started, written, chunk = time.monotonic(), 0, 20_000
    writers = [tf.io.TFRecordWriter(str(span / f"part-{i:05d}-of-{SHARDS:05d}.tfrecord"))
               for i in range(SHARDS)]
    while written < rows:
        count = min(chunk, rows - written)
        picks = rng.integers(0, len(digits.target), count)
        images = np.clip(digits.data[picks] + rng.normal(0, 1.5, (count, 64)), 0, 16)
        for index, (image, label) in enumerate(zip(images.astype(np.float32),
                                                   digits.target[picks])):
            example = tf.train.Example(features=tf.train.Features(feature={
                "image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=image)),
                "image_class": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }))
            writers[(written + index) % SHARDS].write(example.SerializeToString())
        written += count
        _eta("data", written, rows, started)
    for writer in writers:
        writer.close()
    done.write_text(f"{rows} {seed}")
    return span


def _eta(label: str, done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0.0
    eta = (total - done) / rate if rate else float("nan")
    print(f"   {label}: {done:,}/{total:,} rows, {rate:,.0f} rows/s, ETA {eta:.0f}s", flush=True)


class Sampler:
    """Peak resident memory of a process tree, attributed to the component running at the time."""

    def __init__(self, pid: int):
        import psutil

        self.process = psutil.Process(pid)
        self.current = "(start-up)"
        self.peaks: dict[str, int] = {}
        self.overall = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        import psutil

        total = 0
        try:
            for proc in [self.process, *self.process.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        return total

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            rss = self._rss()
            self.overall = max(self.overall, rss)
            self.peaks[self.current] = max(self.peaks.get(self.current, 0), rss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(argv: list[str], log: Path, env: dict | None = None) -> dict:
    """Runs a command that prints the platform's progress lines; returns per-component seconds
    and peak memory, the wall clock and the overall peak."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    sampler = Sampler(proc.pid)
    seconds: dict[str, float] = {}
    with open(log, "w") as handle:
        for line in proc.stdout:
            handle.write(line)
            match = _PROGRESS.search(line)
            if match:
                print("   " + line.rstrip(), flush=True)
                if match.group(2) == "started":
                    sampler.current = match.group(1)
                else:
                    seconds[match.group(1)] = float(match.group(3))
                    sampler.current = "(between components)"
    code = proc.wait()
    sampler.stop()
    if code != 0:
        raise SystemExit(f"{argv[0]} failed (exit {code}); see {log}")
    return {"seconds": seconds, "peaks": sampler.peaks, "wall": time.monotonic() - started,
            "peak": sampler.overall}


def stock_tfdv(span: Path, log: Path) -> dict:
    code = ("import time, mlops, tensorflow_data_validation as tfdv\n"
            "started = time.monotonic()\n"
            f"stats = tfdv.generate_statistics_from_tfrecord(data_location={str(span / '*')!r})\n"
            "print('] StatisticsGen ... done in %.1fs' % (time.monotonic() - started))\n"
            "print('rows', stats.datasets[0].num_examples)\n")
    return run_measured([PYTHON, "-c", code], log)


def import_seconds(statement: str) -> float:
    started = time.monotonic()
    subprocess.run([PYTHON, "-c", statement], check=True, capture_output=True)
    return time.monotonic() - started


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f}" if value else "-"


def _rate(rows: float, seconds: float | None) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--dir", default=str(ROOT / "build" / "bench-scale"))
    parser.add_argument("--skip-stock", action="store_true", help="the platform only")
    args, run_flags = parser.parse_known_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    rows, eval_rows = args.rows, args.rows * EVAL_FRACTION
    import psutil

    print(f"== {datetime.date.today()} · {platform.node()} · {os.cpu_count()} cores · "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB · Python {platform.python_version()}")
    # Each twice: the first may read the files from disk, the second from the page cache (what a
    # warm machine, and every component but the first, sees).
    imports = {f"{name} ({attempt})": import_seconds(statement)
               for name, statement in (("import tensorflow", "import mlops, tensorflow"),
                                       ("import tfx.v1, tfma",
                                        "import mlops, tfx.v1, tensorflow_model_analysis"))
               for attempt in ("first", "again")}
    data_dir = work / f"data-{rows}"
    span = write_rows(data_dir, rows)

    platform_home = work / "platform-home"
    shutil.rmtree(platform_home, ignore_errors=True)
    print(f"== platform: mlops run on {rows:,} rows", flush=True)
    ours = run_measured([MLOPS, "run", "--home", str(platform_home), "--data", str(data_dir),
                         "--train-steps", str(args.train_steps), *run_flags],
                        work / "platform.log")
    stock = tfdv = None
    if not args.skip_stock:
        print("== stock TFDV: generate_statistics_from_tfrecord", flush=True)
        tfdv = stock_tfdv(span, work / "tfdv.log")
        from mlops.config import load_config
        from pipelines.runner_args import direct_runner_args

        config = load_config(overrides={"home": str(platform_home)})
        # The same Beam mode the platform chose for this input (printed in its log).
        beam_args = direct_runner_args(config, sum(f.stat().st_size for f in span.iterdir()))
        stock_root = work / "stock-root"
        shutil.rmtree(stock_root, ignore_errors=True)
        stock_root.mkdir()
        # Stock TFX leaves a 52 MB sdist of itself per Beam component in the temporary directory
        # (components/common/beam_dependencies.py): here, removed with stock_root by the next run.
        (stock_root / "tmp").mkdir()
        print("== stock TFX chain (benchmarks/stock_tfx.py)", flush=True)
        stock = run_measured([PYTHON, str(ROOT / "benchmarks/stock_tfx.py"), "--data",
                              str(data_dir), "--root", str(stock_root), "--module-file",
                              config.resolved_module_file, "--train-steps",
                              str(args.train_steps), "--custom-config",
                              json.dumps(config.trainer_custom_config()),
                              *[f"--beam-arg={a}" for a in beam_args]],
                             work / "stock.log", env={"TMPDIR": str(stock_root / "tmp")})

    print(f"\n{rows:,} rows, {args.train_steps} training steps; rows/s of the rows each reads "
          f"(eval split ≈ {EVAL_FRACTION:.0%} for Evaluators); peak = resident MiB")
    header = f"{'component':<26} {'s':>7} {'rows/s':>9} {'peak':>7}"
    print(header + ("" if stock is None else f" | {'stock s':>7} {'rows/s':>9} {'peak':>7} "
                                              f"{'ratio':>6}"))
    for name, secs in ours["seconds"].items():
        read = rows if name in READS_ALL else eval_rows if name.startswith("Evaluator") else 0
        line = (f"{name:<26} {secs:7.1f} {_rate(read, secs) if read else '-':>9} "
                f"{_mib(ours['peaks'].get(name, 0)):>7}")
        if stock is not None:
            theirs = stock["seconds"].get(name)
            if theirs is None:
                line += f" | {'(platform only)':>26}"
            else:
                ratio = f"{secs / theirs:6.2f}" if theirs >= 0.05 else f"{'-':>6}"
                line += (f" | {theirs:7.1f} {_rate(read, theirs) if read else '-':>9} "
                         f"{_mib(stock['peaks'].get(name, 0)):>7} {ratio}")
        print(line)
    print(f"{'whole chain (wall clock)':<26} {ours['wall']:7.1f} {'':>9} {_mib(ours['peak']):>7}"
          + ("" if stock is None else
             f" | {stock['wall']:7.1f} {'':>9} {_mib(stock['peak']):>7} "
             f"{ours['wall'] / stock['wall']:6.2f}"))
    if tfdv is not None:
        ours_stats = ours["seconds"].get("StatisticsGen")
        theirs_stats = tfdv["seconds"].get("StatisticsGen")
        print(f"\nStatisticsGen {_rate(rows, ours_stats)} rows/s; stock TFDV "
              f"generate_statistics_from_tfrecord {_rate(rows, theirs_stats)} rows/s "
              f"(peak {_mib(tfdv['peak'])} MiB): "
              f"{theirs_stats / ours_stats if ours_stats else float('nan'):.2f}x of stock's rate")
    print("\nimports (fresh process): " + ", ".join(f"{k} {v:.1f}s" for k, v in imports.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
