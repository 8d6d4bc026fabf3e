"""TF Serving: <serving_root>/<model_name>/<version>/ (saved_model.pb, variables/) +
models.config."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from components.pusher.destinations import fileio
from components.pusher.destinations.base import SOURCE_RECORD, Destination, PublishError, Release

MODELS_CONFIG = "models.config"
LOAD_CHECK_TIMEOUT_SECONDS = 300


class ServingDestination(Destination):
    kind = "serving"
    name = "TF Serving"

    def stage(self, release: Release, version: int) -> None:
        staging = self.stage_tree(release.serving_model_dir, version)
        self.stage_json(version, SOURCE_RECORD, release.source_record(version))
        load_check(staging, release.eval_examples)

    def commit(self, release: Release, version: int) -> str:
        final = self.promote(version, last=("saved_model.pb",))
        # A new version goes live: TF Serving serves the newest unless a rollback pinned one.
        pins = {name: v for name, v in read_pins(self.root).items() if name != self.model_name}
        write_models_config(self.root, pins)
        return final

    def production_version(self):
        versions = self.versions()
        return read_pins(self.root).get(self.model_name, versions[-1] if versions else None)

    def pin(self, version: int) -> str:
        if version not in self.versions():
            raise PublishError(f"{self.name} has no version {version} under {self.base}")
        return write_models_config(self.root, {**read_pins(self.root), self.model_name: version})


def load_check(saved_model_dir: str, examples_pattern: str) -> None:
    """Loads the SavedModel in a fresh process and sends it what TF Serving's :predict would.

    A separate process, so the check sees only what is on disk (not this process's state) and a
    crash in loading cannot take the pipeline down with it.
    """
    command = [sys.executable, "-m", "components.pusher.load_check", saved_model_dir,
               examples_pattern]
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=LOAD_CHECK_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise PublishError(f"load check of {saved_model_dir} timed out") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise PublishError(f"load check failed for {saved_model_dir}: {detail}")


_PIN = re.compile(r'name: "([^"]+)"[^}]*?model_version_policy \{ specific \{ versions: (\d+) \} \}')


def read_pins(serving_root: str) -> dict[str, int]:
    """{model name: version} for models that models.config pins to one version (a rollback)."""
    config = fileio.read_text(os.path.join(serving_root, MODELS_CONFIG)) or ""
    return {name: int(version) for name, version in _PIN.findall(config)}


def write_models_config(serving_root: str, pins: dict[str, int] | None = None) -> str:
    """A ModelServerConfig text proto listing every model under `serving_root`; a model in `pins`
    is served at that version only (TF Serving's `specific` version policy), others at the
    newest."""
    entries = []
    for name in sorted(n.rstrip("/") for n in fileio.gfile.listdir(serving_root)):
        base_path = os.path.join(serving_root, name)
        if fileio.integer_children(base_path):
            policy = ""
            if name in (pins or {}):
                policy = f"    model_version_policy {{ specific {{ versions: {pins[name]} }} }}\n"
            entries.append(
                "  config {\n"
                f'    name: "{name}"\n'
                f'    base_path: "{base_path}"\n'
                '    model_platform: "tensorflow"\n'
                f"{policy}"
                "  }\n")
    path = os.path.join(serving_root, MODELS_CONFIG)
    fileio.write_atomically(path, "model_config_list {\n" + "".join(entries) + "}\n")
    return path
