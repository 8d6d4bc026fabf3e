"""What every destination is given and must do."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from components.common import model_layout
from components.pusher.destinations import fileio

SOURCE_RECORD = "mlops_source.json"


@dataclasses.dataclass(frozen=True)
class Release:
    """One blessed model on its way out, and where it came from."""

    model_name: str
    model_uri: str  # the Model artifact's directory
    model_artifact_id: int
    run_id: str
    labels: tuple[str, ...] = ()
    metrics: Optional[dict] = None
    eval_examples: str = ""  # file pattern of serialized tf.Examples for load checks
    # The TFLite variant the BlessingGate chose for phones, and what it knew about every variant
    # ({variant: {size_bytes, metric, value, eligible}}), for the mobile manifest.
    tflite_variant: str = "float32"
    tflite_variants: Optional[dict] = None

    @property
    def serving_model_dir(self) -> str:
        return model_layout.serving_dir(self.model_uri)

    @property
    def hub_model_dir(self) -> str:
        return model_layout.hub_dir(self.model_uri)

    @property
    def tflite_file(self) -> str:
        return model_layout.variant_file(self.model_uri, self.tflite_variant)

    @property
    def trainable_tflite_file(self) -> str:
        return model_layout.trainable_file(self.model_uri)

    @property
    def tflite_report_file(self) -> str:
        return model_layout.report_file(self.model_uri)

    @property
    def raw_inputs_file(self) -> str:
        return model_layout.inputs_file(self.model_uri)

    # The model this one was gated against ("" when there was none): a rerun of the model that is
    # in production compares it with this again, not with itself.
    baseline_model_uri: str = ""
    # Statistics of the span the model was trained on: the next run's drift check compares with it.
    statistics_uri: str = ""

    def source_record(self, version: int) -> dict:
        return {"model_name": self.model_name, "version": version, "model_uri": self.model_uri,
                "model_artifact_id": self.model_artifact_id, "run_id": self.run_id,
                "baseline_model_uri": self.baseline_model_uri,
                "statistics_uri": self.statistics_uri}


class PublishError(RuntimeError):
    """A destination could not publish; the message names it."""


class Destination:
    """Stages a version where no reader looks, and makes it visible in `commit`."""

    kind = ""  # the name configurations use (registry.KINDS)
    name = "destination"

    def __init__(self, root: str, model_name: str):
        self.root = root.rstrip("/")
        self.model_name = model_name
        # Files staged per version: commit and abort use the list instead of listing the bucket.
        self.staged_files: dict[int, list[str]] = {}

    @property
    def base(self) -> str:
        return os.path.join(self.root, self.model_name)

    def version_dir(self, version: int) -> str:
        return os.path.join(self.base, str(version))

    def staging_dir(self, version: int) -> str:
        # Not an integer name, so TF Serving's version scan ignores it.
        return os.path.join(self.base, f".staging-{version}")

    def versions(self) -> list[int]:
        return fileio.integer_children(self.base)

    def source(self, version: int) -> Optional[dict]:
        """The source record of a published version: the model it came from, and its baseline."""
        return fileio.read_json(os.path.join(self.version_dir(version), SOURCE_RECORD))

    def find(self, model_uri: str) -> Optional[int]:
        """The version already published from `model_uri`, if any."""
        for version in self.versions():
            record = self.source(version)
            if record and record.get("model_uri") == model_uri:
                return version
        return None

    def production_version(self) -> Optional[int]:
        """The version readers of this destination use now: the newest, unless pinned."""
        versions = self.versions()
        return versions[-1] if versions else None

    def pin(self, version: int) -> Optional[str]:
        """Points readers at `version` (a rollback); returns what was changed, or None when this
        destination has no pointer (readers choose the version themselves)."""
        return None

    def stage(self, release: Release, version: int) -> None:
        raise NotImplementedError

    def commit(self, release: Release, version: int) -> str:
        raise NotImplementedError

    def stage_tree(self, src: str, version: int) -> str:
        """Copies `src` into this version's staging directory and remembers what it wrote."""
        staging = self.staging_dir(version)
        if fileio.is_local(staging):
            fileio.remove(staging)  # what a crashed earlier attempt may have left
        self.staged_files[version] = fileio.copy_tree(src, staging)
        return staging

    def stage_json(self, version: int, name: str, value: dict) -> None:
        fileio.write_json(os.path.join(self.staging_dir(version), name), value)
        self.staged_files.setdefault(version, []).append(name)

    def promote(self, version: int, last: tuple[str, ...] = ()) -> str:
        final = self.version_dir(version)
        fileio.promote(self.staging_dir(version), final, self.staged_files.pop(version), last)
        return final

    def remove_leftovers(self) -> list[str]:
        """Removes what a publisher that died left staged (called under the lease, when no one
        else can be staging); returns what was removed."""
        if not fileio.gfile.isdir(self.base):
            return []
        found = [os.path.join(self.base, name.rstrip("/"))
                 for name in fileio.gfile.listdir(self.base) if name.startswith(".staging-")]
        for path in found:
            fileio.remove(path.rstrip("/"))
        return found

    def abort(self, version: int) -> None:
        staging = self.staging_dir(version)
        if version in self.staged_files:
            fileio.remove_files(staging, self.staged_files.pop(version))
        else:
            fileio.remove(staging)
