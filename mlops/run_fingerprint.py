"""Whether `mlops run` has anything new to do, decided in milliseconds and without TensorFlow.

A fingerprint covers everything a run's result depends on: the files of the newest span, the
resolved configuration, the user module's directory, the curated schema, the platform's own code
and the TFX stack's versions, and what the local publishing destinations hold (a rollback or
another run's push changes it). Each completed run records it with its name and the version in
production (`<home>/runs/<pipeline>.json`). A run whose fingerprint equals the record says so and
stops; one that cannot be certain (data or a destination on gs://, nothing recorded) goes to TFX,
whose cache then decides, as before. `mlops run --force` always goes to TFX.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Iterable, Optional

from mlops.config import Config

PLATFORM_PACKAGES = ("components", "mlops", "pipelines")
STACK = ("tfx", "ml-pipelines-sdk", "tensorflow", "tensorflow-data-validation",
         "tensorflow-model-analysis", "tensorflow-transform", "apache-beam")
IGNORED_NAMES = (".publish-lease",)  # a lease file's lock says nothing about what is published


def _files(root: str) -> list[str]:
    if os.path.isfile(root):
        return [root]
    found = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(directory, n) for n in sorted(names)
                  if n not in IGNORED_NAMES and not n.endswith(".pyc")]
    return found


def _hash_files(digest, root: str, content: bool = True) -> None:
    """Names (relative to `root`) and contents, or names, sizes and modification times."""
    for path in _files(root):
        digest.update(os.path.relpath(path, root).encode() + b"\0")
        if content:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        else:
            stat = os.stat(path)
            digest.update(f"{stat.st_size} {stat.st_mtime_ns}".encode())
        digest.update(b"\0")


def _platform_roots() -> Iterable[str]:
    base = Path(__file__).resolve().parent.parent
    return [str(base / package) for package in PLATFORM_PACKAGES]


def fingerprint(config: Config) -> Optional[str]:
    """The fingerprint of a run of `config` now, or None when it cannot be certain."""
    try:
        return _fingerprint(config)
    except (OSError, ValueError):  # unreadable input: the run's own checks will name it
        return None


def _fingerprint(config: Config) -> Optional[str]:
    from mlops import data

    roots = [d["root"] for d in config.destination_specs]
    if "://" in config.data_root or any("://" in root for root in roots):
        return None  # object storage: listing it needs clients this check does without
    if not os.path.exists(config.data_root):
        return None
    digest = hashlib.sha256()
    files, _ = data.input_location(config.data_root)
    digest.update(os.path.abspath(files).encode() + b"\0")  # which span, not only its rows
    _hash_files(digest, files)
    digest.update(json.dumps(dataclasses.asdict(config), sort_keys=True, default=str).encode())
    module = config.resolved_module_file
    _hash_files(digest, os.path.dirname(os.path.abspath(module)))
    if os.path.isfile(config.schema_path):
        _hash_files(digest, config.schema_path)
    for root in _platform_roots():
        _hash_files(digest, root)
    for name in STACK:
        try:
            digest.update(f"{name}=={package_metadata.version(name)}".encode())
        except package_metadata.PackageNotFoundError:
            digest.update(f"{name} absent".encode())
    for root in sorted(roots):  # what is published (a rollback, another run's push)
        if os.path.exists(root):
            _hash_files(digest, root, content=False)
    return digest.hexdigest()


def record_path(config: Config) -> Path:
    return config.home_path / "runs" / f"{config.pipeline_name}.json"


def unchanged_since(config: Config, current: Optional[str]) -> Optional[dict]:
    """The last completed run's record if nothing changed since it, else None."""
    path = record_path(config)
    if current is None or not path.is_file():
        return None
    try:
        last = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return last if last.get("fingerprint") == current else None


def record(config: Config, run_name: str, production_version: Optional[int]) -> None:
    """After a completed run: its fingerprint, taken now (the push included)."""
    current = fingerprint(config)
    path = record_path(config)
    if current is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"fingerprint": current, "run": run_name,
                                     "production_version": production_version}) + "\n")
    os.replace(temporary, path)
