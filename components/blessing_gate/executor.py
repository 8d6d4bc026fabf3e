"""Writes the combined blessing, records the configured metrics, and chooses the TFLite variant
for phones by the primary metric."""

import json
import os
from typing import Any, Dict, List, Optional

from tfx import types
from tfx.components.util.model_utils import is_model_blessed
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.common import model_layout, tasks
from components.common.names import (
    BASELINE_METRICS_SUFFIX,
    BASELINE_MODEL_ID,
    BLESSED,
    CURRENT_MODEL,
    CURRENT_MODEL_ID,
    EVALUATION_SKIPPED_REASON,
    FAILURES_SUFFIX,
    GATE_METRICS,
    METRICS_SUFFIX,
    MOBILE_VARIANT,
    SAVED_MODEL_BLESSING,
    SAVED_MODEL_PREFIX,
    SLICE_METRICS_SUFFIX,
    TFLITE_BLESSING,
    TFLITE_ELIGIBLE_VARIANTS,
    TFLITE_PREFIX,
    TFLITE_REFUSED_VARIANTS,
    TFLITE_SKIPPED_REASON,
    TFLITE_VARIANT_RESULTS,
    TFLITE_VARIANTS,
    VARIANT_VERDICTS,
    gate_key,
)
from components.common.tfma_metrics import all_metrics, failed_thresholds, metrics_by_model

METRICS_KEY = "metrics"  # the parameter: the gate's metrics as JSON, primary first
# The blessing inputs; each one's verdict is recorded under its input key.
INPUT_BLESSINGS = (SAVED_MODEL_BLESSING, TFLITE_BLESSING)
# Evaluation input -> prefix of the custom properties recorded for it.
INPUT_EVALUATIONS = {"saved_model_evaluation": SAVED_MODEL_PREFIX,
                     "tflite_evaluation": TFLITE_PREFIX}
VARIANTS_BLESSING_KEY = "tflite_variants_blessing"
VARIANTS_EVALUATION_KEY = "tflite_variants_evaluation"


def choose_variant(sizes: dict[str, int], eligible: dict[str, bool]) -> str:
    """The smallest eligible variant; float32, the reference, is always eligible. Ties go to the
    earlier variant in TFLITE_VARIANTS (the less aggressive conversion)."""
    candidates = [v for v in TFLITE_VARIANTS
                  if v in sizes and (v == "float32" or eligible.get(v, False))]
    return min(candidates, key=lambda v: (sizes[v], TFLITE_VARIANTS.index(v)))


def _file_size(path: str) -> int:
    from tfx.dsl.io import fileio

    return fileio.stat(path).length if fileio.exists(path) else -1


def _skipped(blessing: types.Artifact) -> str:
    return (blessing.get_string_custom_property(EVALUATION_SKIPPED_REASON)
            if blessing.has_custom_property(EVALUATION_SKIPPED_REASON) else "")


def _json(values) -> str:
    return json.dumps(values, sort_keys=True)


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])
        gates = tasks.parse_metrics(json.loads(exec_properties.get(METRICS_KEY) or "[]"))
        if not gates:
            raise ValueError(f"BlessingGate needs the gate's metrics (parameter '{METRICS_KEY}')")
        blessings = {key: artifact_utils.get_single_instance(input_dict[key])
                     for key in INPUT_BLESSINGS}
        tflite_skipped = _skipped(blessings[TFLITE_BLESSING])
        # A model without a TFLite form (no raw-tensor signature) is gated on the SavedModel
        # alone; it is then never published to phones.
        verdicts = {key: is_model_blessed(b) for key, b in blessings.items()
                    if not (key == TFLITE_BLESSING and tflite_skipped)}
        blessed = all(verdicts.values())

        blessing = artifact_utils.get_single_instance(output_dict["blessing"])
        blessing.set_int_custom_property(BLESSED, int(blessed))
        blessing.set_string_custom_property(CURRENT_MODEL, model.uri)
        blessing.set_int_custom_property(CURRENT_MODEL_ID, model.id)
        blessing.set_string_custom_property(GATE_METRICS, json.dumps(tasks.metrics_to_json(gates)))
        for key, verdict in verdicts.items():
            blessing.set_int_custom_property(key, int(verdict))
        baseline_id = blessings[SAVED_MODEL_BLESSING].get_custom_property(BASELINE_MODEL_ID)
        if baseline_id:
            blessing.set_int_custom_property(BASELINE_MODEL_ID, int(baseline_id))
        for key, prefix in INPUT_EVALUATIONS.items():
            if not input_dict.get(key) or (prefix == TFLITE_PREFIX and tflite_skipped):
                continue
            self._record_evaluation(blessing, prefix,
                                    artifact_utils.get_single_uri(input_dict[key]), gates)
        if tflite_skipped:
            blessing.set_string_custom_property(TFLITE_SKIPPED_REASON, tflite_skipped)
        else:
            self._choose_mobile_variant(model, input_dict, blessing, gates[0])
        # Same marker files the Evaluator writes, for people browsing the pipeline root.
        io_utils.write_string_file(
            os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "")

    @staticmethod
    def _record_evaluation(blessing: types.Artifact, prefix: str, uri: str,
                           gates: List[tasks.MetricGate]) -> None:
        """The gate metrics of the candidate and of the model in production (overall), per slice,
        and every threshold TFMA found broken, so ML Metadata tells why a model was refused."""
        keys = [g.key for g in gates] + ["example_count", tasks.MEAN_LABEL]
        found = all_metrics(uri)
        for kind, suffix in (("candidate", METRICS_SUFFIX), ("baseline", BASELINE_METRICS_SUFFIX)):
            overall = found[kind].get("", {})
            values = {k: overall[k] for k in keys if k in overall}
            if values:
                blessing.set_string_custom_property(gate_key(prefix, suffix), _json(values))
        slices = {name: {k: v for k, v in metrics.items() if k in keys}
                  for name, metrics in found["candidate"].items() if name}
        if slices:
            blessing.set_string_custom_property(gate_key(prefix, SLICE_METRICS_SUFFIX),
                                                _json(slices))
        failures = failed_thresholds(uri)
        if failures:
            blessing.set_string_custom_property(gate_key(prefix, FAILURES_SUFFIX),
                                                "; ".join(failures))

    @staticmethod
    def _choose_mobile_variant(model: types.Artifact, input_dict: Dict[str, List[types.Artifact]],
                               blessing: types.Artifact, primary: tasks.MetricGate) -> None:
        """Records {variant: size_bytes, metric, value, eligible} as `tflite_variants` (JSON), and
        the chosen one as `mobile_variant`; eligible and refused lists too, for the Kubeflow UI."""
        float32_key = gate_key(TFLITE_PREFIX, METRICS_SUFFIX)
        float32_metrics = json.loads(
            blessing.get_string_custom_property(float32_key)
            if blessing.has_custom_property(float32_key) else "{}")

        def entry(variant: str, value: Optional[float], eligible: bool) -> dict:
            return {"size_bytes": _file_size(model_layout.variant_file(model.uri, variant)),
                    "metric": primary.key, "value": value, "eligible": eligible}

        variants = {"float32": entry("float32", float32_metrics.get(primary.key), True)}
        if input_dict.get(VARIANTS_BLESSING_KEY):
            verdicts = json.loads(artifact_utils.get_single_instance(
                input_dict[VARIANTS_BLESSING_KEY]).get_string_custom_property(VARIANT_VERDICTS)
                or "{}")
            found = {}
            if input_dict.get(VARIANTS_EVALUATION_KEY):
                found = metrics_by_model(artifact_utils.get_single_uri(
                    input_dict[VARIANTS_EVALUATION_KEY]))
            for variant in TFLITE_VARIANTS:
                if variant in verdicts:
                    value = found.get(variant, {}).get("", {}).get(primary.key)
                    variants[variant] = entry(variant, value, bool(verdicts[variant]))
        chosen = choose_variant({v: info["size_bytes"] for v, info in variants.items()},
                                {v: info["eligible"] for v, info in variants.items()})
        blessing.set_string_custom_property(MOBILE_VARIANT, chosen)
        blessing.set_string_custom_property(TFLITE_VARIANT_RESULTS, json.dumps(variants))
        blessing.set_string_custom_property(
            TFLITE_ELIGIBLE_VARIANTS, ",".join(v for v, i in variants.items() if i["eligible"]))
        blessing.set_string_custom_property(
            TFLITE_REFUSED_VARIANTS, ",".join(v for v, i in variants.items() if not i["eligible"]))
