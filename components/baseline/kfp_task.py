"""KFP task: the URI of the model the candidate is gated against, as an output parameter.

Added by the Kubeflow compiler (pipelines/kfp_spec.py) in front of the ProductionBaseline importer,
never served from KFP's cache (production can change between runs with nothing else changing, e.g.
a rollback). Inputs: the candidate Model (from the Trainer) and, as parameters, the Pusher's
destinations and the pipeline root. A look-up, so it stays light: reading the destinations needs
neither TensorFlow nor TFX.
"""

from __future__ import annotations

from typing import Any

from components.baseline.production import baseline_uri
from components.common import kfp_io
from components.pusher.destinations.registry import DESTINATIONS_KEY, destinations_from

CANDIDATE_KEY = "candidate_model"
OUTPUT_KEY = "baseline_uri"
# Parameters copied from the Pusher task, so this task reads exactly where the Pusher writes.
DESTINATION_PARAMETERS = ("model_name", DESTINATIONS_KEY)
PIPELINE_ROOT_PARAMETER = "pipeline_root"


def find(params: dict[str, Any], executor_input: dict) -> dict[str, Any]:
    candidates = kfp_io.artifact_uris(executor_input, CANDIDATE_KEY)
    uri = baseline_uri(destinations_from(params), params[PIPELINE_ROOT_PARAMETER],
                       candidate_uri=candidates[0] if candidates else "")
    print(f"baseline for {candidates[:1]}: {uri}", flush=True)
    return {OUTPUT_KEY: uri}


if __name__ == "__main__":
    kfp_io.main(find, __doc__)
