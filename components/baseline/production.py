"""Which model is in production, and which model a candidate is compared with.

Production is what readers of the publishing destinations use now: the version TF Serving serves
(the newest, or the one `models.config` pins after a rollback), else the version the mobile
bucket's `latest.json` names, else TF Hub's newest. Every published version carries a source record
naming the Model artifact it came from (`model_uri`) and the model it was gated against
(`baseline_model_uri`), so the baseline is found by reading files the Pusher wrote: no resolver
executor, no ML Metadata client (Vertex's store is not reachable with one, and open-source KFP does
not give user containers its address).

The answer is an artifact URI for an importer (TFX's Importer locally, KFP's importer on a
cluster) with `reimport` off: the same URI gives back the artifact already registered for it (the
Trainer's output that was published), so a rerun with nothing new is served from cache.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional, Sequence

from components.common import files

NO_BASELINE_MARKER = "NO_PRODUCTION_MODEL.json"


class BaselineError(RuntimeError):
    """The production pointer names a version that cannot be traced to its model."""


@dataclasses.dataclass(frozen=True)
class Production:
    destination: str
    version: int
    model_uri: str
    baseline_model_uri: str
    # The statistics of the span it was trained on: the DataGate's previous span.
    statistics_uri: str = ""


def production_model(destinations: Sequence) -> Optional[Production]:
    """The model in production, from the first destination that has one; None before any push."""
    for destination in destinations:
        version = destination.production_version()
        if version is None:
            continue
        record = destination.source(version)
        if not record or not record.get("model_uri"):
            raise BaselineError(f"{destination.name} serves version {version} but its source "
                                f"record (in {destination.version_dir(version)}) names no model")
        return Production(destination.name, version, record["model_uri"],
                          record.get("baseline_model_uri", ""), record.get("statistics_uri", ""))
    return None


def no_baseline_uri(pipeline_root: str) -> str:
    """Where the importer points when nothing is in production (a directory holding only the
    marker): a constant, so first runs share one imported artifact and cache like any other."""
    return os.path.join(pipeline_root, "ProductionBaseline", "no-production-model")


def is_no_baseline(uri: str) -> bool:
    return files.exists(os.path.join(uri, NO_BASELINE_MARKER))


def baseline_uri(destinations: Sequence, pipeline_root: str, candidate_uri: str = "") -> str:
    """The URI of the model `candidate_uri` is gated against.

    - nothing in production: the no-baseline directory (value thresholds alone gate the run);
    - the candidate is itself in production (a rerun with nothing new): the model it was gated
      against when it was published, so its earlier evaluation is reused instead of comparing the
      model with itself (the no-baseline directory if it was gated against none);
    - otherwise: the model in production (after a rollback, the version rolled back to).
    """
    production = production_model(destinations)
    if production is None:
        return _no_baseline(pipeline_root, "nothing is published yet")
    if candidate_uri and production.model_uri.rstrip("/") == candidate_uri.rstrip("/"):
        # Never the candidate itself: one artifact cannot be two inputs of a task on Kubeflow.
        return production.baseline_model_uri or _no_baseline(
            pipeline_root, f"the candidate is version {production.version} itself")
    return production.model_uri


def _no_baseline(pipeline_root: str, reason: str) -> str:
    uri = no_baseline_uri(pipeline_root)
    marker = os.path.join(uri, NO_BASELINE_MARKER)
    if not files.exists(marker):
        files.write_text(marker, json.dumps({"reason": reason}) + "\n")
    return uri
