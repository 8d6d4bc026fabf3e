"""Pusher executor: checks the blessing, then publishes to every destination or to none."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

from absl import logging
from tfx import types
from tfx.components.util.model_utils import is_model_blessed
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.common.names import (
    MOBILE_VARIANT,
    NOT_PUSHED_REASON,
    PUSHED,
    PUSHED_DESTINATION,
    PUSHED_DESTINATIONS,
    PUSHED_VERSION,
    SKIPPED_DESTINATIONS,
    TFLITE_SKIPPED_REASON,
    TFLITE_VARIANT_RESULTS,
)
from components.common.tfma_metrics import overall_metrics
from components.pusher import run_card
from components.pusher.destinations.base import Destination, PublishError, Release
from components.pusher.destinations.lease import Lease, LeaseBusy
from components.pusher.destinations.mobile import MobileDestination
from components.pusher.destinations.registry import destinations_from


class ProductionMoved(PublishError):
    """The model in production is no longer the one the candidate was gated against."""


def publish(release: Release, destinations: Sequence[Destination],
            gated_against: Optional[str] = None) -> tuple[int, Dict[str, str]]:
    """Publishes `release` everywhere and returns (version, {destination: visible uri}).

    Compare-and-publish: with `gated_against` (the model the gate compared the candidate with,
    or the no-baseline directory), the model in production is read again under the leases, and
    if another publisher moved it since the gate, nothing is published (ProductionMoved): the
    candidate was never compared with what it would replace. None skips the check (a rollback).

    One publisher at a time: each destination's lease is held (in one order, so two publishers
    never deadlock) from choosing the version to the last commit; a second publisher waits, then
    takes the next version. Two phases: every destination stages the new version where no reader
    looks; only when all have succeeded does each make it visible (the mobile bucket's latest.json
    last). If anything fails, every staged version is removed and no pointer moves. The same model
    published again returns the version it already has.
    """
    if not destinations:
        raise PublishError("every destination is switched off; nothing to publish to")
    leases = [Lease(d.base) for d in sorted(destinations, key=lambda d: d.base)]
    held = []
    try:
        for lease in leases:
            try:
                held.append(lease.acquire(on_wait=_say_waiting(lease)))
            except OSError as err:  # e.g. a file where the destination's directory should be
                raise PublishError(f"nothing was published: cannot take the publish lease "
                                   f"{lease.path}: {err.strerror or err}") from err
        for destination in destinations:
            for path in destination.remove_leftovers():
                logging.warning("Removed %s, left staged by a publish that did not finish", path)
        return _publish_held(release, destinations, gated_against)
    except LeaseBusy as err:
        raise PublishError(f"nothing was published: {err}") from err
    finally:
        for lease in reversed(held):
            lease.release()


def _say_waiting(lease: Lease):
    said = []

    def say(record) -> None:
        if not said:
            said.append(True)
            logging.info("Waiting for another publish to finish (%s holds %s)",
                         (record or {}).get("host", "?"), lease.path)
    return say


def production_moved(destinations: Sequence[Destination], gated_against: str) -> str:
    """Why the model in production is not the one a candidate gated against `gated_against` was
    compared with ('' when it still is)."""
    from components.baseline.production import is_no_baseline, production_model

    production = production_model(destinations)
    if production is None:  # nothing to be worse than (a rollback to nothing, or a first push)
        return ""
    now = f"version {production.version} ({production.model_uri})"
    if not gated_against or is_no_baseline(gated_against):
        return (f"{now} was published by another run after this candidate was gated against no "
                "model in production")
    if production.model_uri.rstrip("/") != gated_against.rstrip("/"):
        return (f"production moved to {now} after this candidate was gated against "
                f"{gated_against}")
    return ""


def _publish_held(release: Release, destinations: Sequence[Destination],
                  gated_against: Optional[str] = None) -> tuple[int, Dict[str, str]]:
    found = [d.find(release.model_uri) for d in destinations]
    if found[0] is not None and all(v == found[0] for v in found):
        logging.info("Model %s is already published as version %d", release.model_uri, found[0])
        return found[0], {d.name: d.version_dir(found[0]) for d in destinations}
    moved = production_moved(destinations, gated_against) if gated_against is not None else ""
    if moved:
        raise ProductionMoved(f"nothing was published: {moved}; the next run gates against it")

    version = max((v for d in destinations for v in d.versions()), default=0) + 1
    staged: List[Destination] = []
    try:
        for destination in destinations:
            logging.info("Staging version %d for %s", version, destination.name)
            staged.append(destination)
            destination.stage(release, version)
    except Exception as err:
        for destination in staged:
            try:
                destination.abort(version)
            except Exception:  # keep the original error; cleanup is best effort
                logging.exception("Could not clean up the staged version in %s", destination.name)
        raise PublishError(
            f"publishing to {destination.name} failed, nothing was published anywhere: {err}"
        ) from err
    return version, {d.name: d.commit(release, version) for d in destinations}


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        blessing = artifact_utils.get_single_instance(input_dict["model_blessing"])
        pushed = artifact_utils.get_single_instance(output_dict["pushed_model"])
        self._push(input_dict, blessing, pushed, exec_properties)
        run_card.write(output_dict, exec_properties["model_name"], blessing, pushed,
                       run_card.classification(
                           input_dict.get(run_card.SAVED_MODEL_EVALUATION_KEY),
                           json.loads(exec_properties.get("labels_json") or "[]")))

    def _push(self, input_dict: Dict[str, List[types.Artifact]], blessing: types.Artifact,
              pushed: types.Artifact, exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])

        if not is_model_blessed(blessing):
            logging.info("Model %s is not blessed; nothing is pushed.", model.uri)
            pushed.set_int_custom_property(PUSHED, 0)
            return

        destinations = destinations_from(exec_properties)
        skipped = {}
        tflite_skipped = (blessing.get_string_custom_property(TFLITE_SKIPPED_REASON)
                          if blessing.has_custom_property(TFLITE_SKIPPED_REASON) else "")
        if tflite_skipped:
            for destination in [d for d in destinations if isinstance(d, MobileDestination)]:
                destinations.remove(destination)
                skipped[destination.name] = tflite_skipped
                logging.warning("Skipping the %s: %s", destination.name, tflite_skipped)
        # The TFLite variant the gate chose for phones, and what it measured of each.
        variant = blessing.get_string_custom_property(MOBILE_VARIANT) or "float32"
        variants = json.loads(blessing.get_string_custom_property(TFLITE_VARIANT_RESULTS) or "{}")
        release = Release(
            model_name=exec_properties["model_name"],
            model_uri=model.uri,
            model_artifact_id=model.id,
            run_id=self._context.pipeline_run_id if self._context else "",
            labels=tuple(json.loads(exec_properties.get("labels_json") or "[]")),
            metrics=(self._metrics(input_dict.get("evaluation"), variant, variants)
                     if not tflite_skipped else {}),
            eval_examples=self._eval_examples(input_dict["examples"]),
            tflite_variant=variant,
            tflite_variants=variants,
            baseline_model_uri=self._single_uri(input_dict.get("baseline_model")),
            statistics_uri=self._single_uri(input_dict.get("statistics")),
        )
        try:
            # Compare-and-publish against the model the gate compared with (when it had one)
            version, uris = publish(release, destinations, gated_against=(
                release.baseline_model_uri if input_dict.get("baseline_model") else None))
        except ProductionMoved as err:  # not the user's fault, and nothing is lost: no error
            logging.warning("%s", err)
            pushed.set_int_custom_property(PUSHED, 0)
            pushed.set_string_custom_property(NOT_PUSHED_REASON, str(err))
            return
        pushed.set_int_custom_property(PUSHED, 1)
        if skipped:
            pushed.set_string_custom_property(SKIPPED_DESTINATIONS, json.dumps(skipped))
        pushed.set_string_custom_property(PUSHED_VERSION, str(version))
        pushed.set_string_custom_property(PUSHED_DESTINATION, next(iter(uris.values())))
        pushed.set_string_custom_property(PUSHED_DESTINATIONS, json.dumps(uris))
        logging.info("Published version %d: %s", version, uris)

    @staticmethod
    def _metrics(evaluations: Optional[List[types.Artifact]], variant: str,
                 variants: Dict[str, dict]) -> Dict[str, float]:
        """The float32 TFLite model's TFMA metrics, with the primary metric of the variant
        published (what the phone gets)."""
        if not evaluations:
            return {}
        metrics = overall_metrics(artifact_utils.get_single_uri(evaluations))
        chosen = variants.get(variant, {})
        if chosen.get("value") is not None:
            metrics[chosen["metric"]] = chosen["value"]
        return metrics

    @staticmethod
    def _single_uri(artifacts: Optional[List[types.Artifact]]) -> str:
        return artifact_utils.get_single_uri(artifacts) if artifacts else ""

    @staticmethod
    def _eval_examples(examples: List[types.Artifact]) -> str:
        artifact = artifact_utils.get_single_instance(examples)
        return os.path.join(artifact_utils.get_split_uri([artifact], "eval"), "*")
