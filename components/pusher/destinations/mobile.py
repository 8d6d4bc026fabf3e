"""Mobile model bucket: <mobile_root>/<model_name>/<version>/{model.tflite,manifest.json} +
latest.json (and trainable.tflite, the on-device trainable model, when the Trainer exported one).

model.tflite is the TFLite variant the BlessingGate chose (the smallest within the accuracy budget),
with TFLite Metadata embedded: model name and version, input descriptions and normalization, labels.
A phone polls latest.json; it is replaced last, only after every file of the version is in place, by
writing a temporary object and renaming it over the old one, so it never names a half-published
version.
"""

from __future__ import annotations

import datetime
import os

import numpy as np

from components.common import model_layout
from components.pusher.destinations import fileio
from components.pusher.destinations.base import Destination, PublishError, Release

MODEL_FILE = "model.tflite"
TRAINABLE_FILE = "trainable.tflite"
MANIFEST_FILE = "manifest.json"
LATEST_FILE = "latest.json"


def tensor_specs(details: list[dict]) -> list[dict]:
    """Name (as the app passes it to the signature runner), shape and dtype of each tensor."""
    from components.pusher.tflite_metadata import input_name

    return [{"name": input_name(d["name"]), "shape": [int(x) for x in d["shape_signature"]],
             "dtype": "string" if np.dtype(d["dtype"]).kind in "SOU" else np.dtype(d["dtype"]).name}
            for d in details]


def model_task(interpreter) -> str:
    """What a TFLite model answers, from its serving signature: 'regression' (predictions),
    'binary' (one probability) or 'multiclass'."""
    outputs = interpreter.get_signature_list().get("serving_default", {}).get("outputs", [])
    if "predictions" in outputs:
        return "regression"
    return "binary" if int(interpreter.get_output_details()[0]["shape"][-1]) == 1 else "multiclass"


class MobileDestination(Destination):
    kind = "mobile"
    name = "mobile model bucket"

    @property
    def latest(self) -> str:
        return os.path.join(self.base, LATEST_FILE)

    def source(self, version: int):
        manifest = fileio.read_json(os.path.join(self.version_dir(version), MANIFEST_FILE))
        return manifest.get("source") if manifest else None

    def production_version(self):
        """The version latest.json names: what phones download."""
        latest = fileio.read_json(self.latest)
        return int(latest["version"]) if latest else None

    def pin(self, version: int) -> str:
        manifest = fileio.read_json(os.path.join(self.version_dir(version), MANIFEST_FILE))
        if manifest is None:
            raise PublishError(
                f"{self.name} has no version {version} at {self.version_dir(version)}")
        self._write_latest(version, manifest)
        return self.latest

    def stage(self, release: Release, version: int) -> None:
        import tensorflow as tf

        if not fileio.gfile.exists(release.tflite_file):
            raise PublishError(f"the model has no TFLite file at {release.tflite_file}")
        from components.pusher import tflite_metadata

        with fileio.gfile.GFile(release.tflite_file, "rb") as handle:
            content = handle.read()
        interpreter = tf.lite.Interpreter(model_content=content)
        report = fileio.read_json(release.tflite_report_file) or {}
        raw_inputs = fileio.read_json(release.raw_inputs_file) or {}
        task = model_task(interpreter)
        labels = [] if task == "regression" else list(release.labels) or [
            str(i) for i in range(max(2, int(interpreter.get_output_details()[0]["shape"][-1])))]
        fill_values = model_layout.fill_values(raw_inputs)
        content = tflite_metadata.with_metadata(
            content, name=release.model_name, version=str(version),
            description=f"{release.model_name} version {version}, TFLite {release.tflite_variant}",
            labels=labels, task=task, input_ranges=report.get("input_ranges"),
            fill_values=fill_values)
        target = self.version_dir(version)
        if fileio.is_local(target):
            fileio.gfile.makedirs(target)
        self.staged_files[version] = [MODEL_FILE, MANIFEST_FILE]
        model_path = os.path.join(target, MODEL_FILE)
        with fileio.gfile.GFile(model_path, "wb") as handle:
            handle.write(content)
        manifest = {
            "name": release.model_name,
            "version": version,
            "file": MODEL_FILE,
            "sha256": fileio.sha256(model_path),
            "size_bytes": len(content),
            "variant": release.tflite_variant,
            "variants": release.tflite_variants or {},
            "ops": report.get("assessment", {}),
            "task": task,
            "inputs": [{**spec, **({"fill_value": fill_values[spec["name"]]}
                                   if spec["name"] in fill_values else {})}
                       for spec in tensor_specs(interpreter.get_input_details())],
            "outputs": tensor_specs(interpreter.get_output_details()),
            "labels": labels,
            "metrics": release.metrics or {},
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "model_artifact_id": release.model_artifact_id,
            "run_id": release.run_id,
            "source": release.source_record(version),
        }
        if fileio.gfile.exists(release.trainable_tflite_file):
            with fileio.gfile.GFile(release.trainable_tflite_file, "rb") as handle:
                trainable = handle.read()
            trainable_path = os.path.join(target, TRAINABLE_FILE)
            self.staged_files[version].append(TRAINABLE_FILE)
            with fileio.gfile.GFile(trainable_path, "wb") as handle:
                handle.write(trainable)
            manifest["on_device_training"] = {
                "file": TRAINABLE_FILE,
                "sha256": fileio.sha256(trainable_path),
                "size_bytes": len(trainable),
                "signatures": tflite_metadata.signature_keys(trainable),
                "needs": "the TensorFlow Lite Flex delegate (select TF ops)",
            }
        fileio.write_json(os.path.join(target, MANIFEST_FILE), manifest)

    def commit(self, release: Release, version: int) -> str:
        manifest = fileio.read_json(os.path.join(self.version_dir(version), MANIFEST_FILE))
        self._write_latest(version, manifest)
        return self.version_dir(version)

    def _write_latest(self, version: int, manifest: dict) -> None:
        fileio.write_atomically(self.latest, fileio.json.dumps({
            "name": self.model_name,
            "version": version,
            "model": f"{version}/{MODEL_FILE}",
            "manifest": f"{version}/{MANIFEST_FILE}",
            "sha256": manifest["sha256"],
            "size_bytes": manifest["size_bytes"],
        }, indent=2) + "\n")

    def abort(self, version: int) -> None:
        # The version directory is not visible to phones until latest.json names it.
        fileio.remove_files(self.version_dir(version), self.staged_files.pop(version, []))
