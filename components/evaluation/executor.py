"""TFX's Evaluator executor, with two ways of receiving a baseline that orchestrators impose.

- "Nothing in production." The gate's baseline arrives through an importer
  (components/baseline), which always hands over one artifact: on a first run that is the
  no-baseline directory. The stock executor would load it as a model; this one drops it, so the
  Evaluator runs without a baseline exactly as TFX does when a Resolver finds none (change
  thresholds are skipped, value thresholds alone gate the run).
- "The baseline is the model itself." The TFLite variants Evaluator compares files of one Model
  artifact (components/evaluation/variant_models.py). Wiring that artifact in as both `model` and
  `baseline_model` fails on Kubeflow: ML Metadata refuses two INPUT events of one artifact for one
  execution, so KFP's driver cannot create the execution. Such an Evaluator gets `model` only and
  an EvalConfig with an `is_baseline` ModelSpec; the baseline is then the same artifact, and a
  variant the Trainer could not convert is left out.

"Several candidates, one pass." TFMA evaluates any number of candidate models against one baseline
and validates each apart; TFX 1.16's executor refuses more than two ModelSpecs. An EvalConfig with
more (all quantized TFLite variants against float32) runs here: the same example reading and TFMA
call as TFX's executor, and a blessing that records the verdict per model (`variant_verdicts`) as
well as TFX's all-or-nothing `blessed`.

"A sample for TFLite." TFLite's interpreter scores one example at a time. With `max_examples`
(components/evaluation/component.py), a tf_lite evaluation scores only the records of each split
with the smallest hashes: the same ones every run and for every model, so a candidate, its baseline
and every variant are compared on the very same examples. The evaluation artifact records how many
there were and how many were scored.

"A label made by preprocessing_fn." When the candidate Model carries its label's Transform
(components/common/transformed_label.py), every evaluation reads a copy of the examples with that
label added (after sampling, for TFLite), so no model needs a `transform_features` signature.

A missing value reaches TFMA's tf_lite extractor as None (absent feature) or as an empty list
(CsvExampleGen writes an empty cell as a feature with no values). TFMA feeds its default (-1 for
numbers, '' for strings: the platform's fill values) for None but fails to reshape an empty list;
`MissingValuesTFLitePredictionDoFn` turns empty lists into None first.

And one case of its own: a `tf_lite` Evaluator of a model that has no TFLite form (a module
written for stock TFX exports no raw-tensor signature; the Trainer records why) evaluates nothing
and writes a NOT_BLESSED blessing carrying that reason as `skipped_reason`, which the BlessingGate
reads as "not for phones" rather than "refused".
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from typing import Any, Dict, List

import numpy as np
from absl import logging
from tensorflow_model_analysis import constants as tfma_constants
from tensorflow_model_analysis.api import types as tfma_types
from tensorflow_model_analysis.extractors import tflite_predict_extractor
from tfx import types
from tfx.components.evaluator import constants
from tfx.components.evaluator import executor as evaluator_executor
from tfx.components.util import tfxio_utils, udf_utils
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, path_utils

from components.baseline.production import is_no_baseline
from components.common import autograph, model_layout, tasks, transformed_label
from components.common.names import (
    BLESSED,
    EVALUATION_SKIPPED_REASON,
    EXAMPLES_AVAILABLE,
    EXAMPLES_EVALUATED,
    MAX_EXAMPLES,
    NOT_COMPUTABLE,
    VARIANT_VERDICTS,
)
from components.common.tfma_metrics import all_metrics, slice_name


class MissingValuesTFLitePredictionDoFn(tflite_predict_extractor.TFLitePredictionDoFn):
    """TFMA's TFLite prediction, with a feature that has no values treated as missing."""

    def _batch_reducible_process(self, element: tfma_types.Extracts):
        features = element[tfma_constants.FEATURES_KEY]
        patched = {}
        for name, values in features.items():
            if isinstance(values, (list, np.ndarray)) and any(
                    isinstance(v, np.ndarray) and v.size == 0 for v in values):
                patched[name] = [None if isinstance(v, np.ndarray) and v.size == 0 else v
                                 for v in values]
        if patched:
            element = {**element, tfma_constants.FEATURES_KEY: {**features, **patched}}
        return super()._batch_reducible_process(element)


# TFMA's default extractors call this module attribute when they build a tf_lite evaluation.
tflite_predict_extractor.TFLitePredictExtractor = functools.partial(
    tflite_predict_extractor.TFLitePredictExtractor, do_fn=MissingValuesTFLitePredictionDoFn)


class Executor(evaluator_executor.Executor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        autograph.skip_graph_ready_libraries()
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        reason = _tflite_skipped(model.uri) if _evaluates_tflite(exec_properties) else ""
        if reason:
            logging.warning("Nothing to evaluate: the model has no TFLite form (%s)", reason)
            blessing = artifact_utils.get_single_instance(
                output_dict[standard_component_specs.BLESSING_KEY])
            blessing.set_int_custom_property(BLESSED, 0)
            blessing.set_string_custom_property(EVALUATION_SKIPPED_REASON, reason)
            io_utils.write_string_file(os.path.join(blessing.uri, "NOT_BLESSED"), "")
            return
        max_examples = int(exec_properties.get(MAX_EXAMPLES) or 0)
        if not _evaluates_tflite(exec_properties):
            max_examples = 0
        label_dir = model_layout.label_dir(model.uri)
        label_dir = label_dir if fileio.exists(label_dir) else ""
        if not max_examples and not label_dir:
            self._evaluate(model, input_dict, output_dict, exec_properties)
            return
        prepared = self._prepare(input_dict[standard_component_specs.EXAMPLES_KEY],
                                 _splits(exec_properties), max_examples, label_dir,
                                 _eval_config(exec_properties), output_dict)
        try:
            self._evaluate(model, {**input_dict, standard_component_specs.EXAMPLES_KEY:
                                   [prepared]}, output_dict, exec_properties)
        finally:
            fileio.rmtree(prepared.uri)

    def _evaluate(self, model: types.Artifact, input_dict: Dict[str, List[types.Artifact]],
                  output_dict: Dict[str, List[types.Artifact]],
                  exec_properties: Dict[str, Any]) -> None:
        eval_config = _eval_config(exec_properties)
        if eval_config is not None and _declares_baseline(exec_properties):
            self._evaluate_candidates(model, input_dict, output_dict, exec_properties, eval_config)
            return
        key = standard_component_specs.BASELINE_MODEL_KEY
        baselines = input_dict.get(key) or []
        if baselines and all(is_no_baseline(b.uri) for b in baselines):
            logging.info("No model in production: evaluating without a baseline.")
            input_dict = {k: v for k, v in input_dict.items() if k != key}
        elif baselines and _evaluates_tflite(exec_properties) and not all(
                fileio.exists(model_layout.serving_tflite_file(b.uri)) for b in baselines):
            # Production was published before its module reached phones: nothing to compare.
            logging.info("The model in production has no TFLite form: evaluating without a "
                         "baseline.")
            input_dict = {k: v for k, v in input_dict.items() if k != key}
        super().Do(input_dict, output_dict, exec_properties)
        forgive_not_computable(
            artifact_utils.get_single_uri(output_dict[constants.EVALUATION_KEY]),
            artifact_utils.get_single_instance(output_dict[standard_component_specs.BLESSING_KEY]))

    def _evaluate_candidates(self, model: types.Artifact,
                             input_dict: Dict[str, List[types.Artifact]],
                             output_dict: Dict[str, List[types.Artifact]],
                             exec_properties: Dict[str, Any], eval_config) -> None:
        """Every ModelSpec of `eval_config` (candidates and their baseline, all files of `model`)
        in one TFMA run, as TFX's executor runs two."""
        import apache_beam as beam
        import tensorflow_model_analysis as tfma

        blessing = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.BLESSING_KEY])
        blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY,
                                            model.uri)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY,
                                         model.id)
        # A variant the Trainer could not convert (its report says why) is not judged.
        missing = [spec.name for spec in eval_config.model_specs if not fileio.exists(
            model_layout.variant_file(model.uri, spec.name))]
        if missing:
            logging.warning("No TFLite file for %s: not evaluated", ", ".join(missing))
            kept = [spec for spec in eval_config.model_specs if spec.name not in missing]
            del eval_config.model_specs[:]
            eval_config.model_specs.extend(kept)
        if all(spec.is_baseline for spec in eval_config.model_specs):
            _record_verdicts(blessing, {}, blessed=True)
            return
        eval_config = tfma.utils.update_eval_config_with_defaults(
            eval_config, has_baseline=True, rubber_stamp=True)
        tfma.utils.verify_eval_config(eval_config)
        eval_shared_model_fn = udf_utils.try_get_fn(
            exec_properties=exec_properties,
            fn_name="custom_eval_shared_model") or tfma.default_eval_shared_model
        model_path = path_utils.serving_model_path(model.uri)
        models = [eval_shared_model_fn(eval_saved_model_path=model_path, model_name=spec.name,
                                       eval_config=eval_config, add_metrics_callbacks=None)
                  for spec in eval_config.model_specs]
        examples = input_dict[standard_component_specs.EXAMPLES_KEY]
        splits = _splits(exec_properties)
        tfxio_factory = tfxio_utils.get_tfxio_factory_from_artifact(
            examples=examples, telemetry_descriptors=["Evaluator"],
            raw_record_column_name=tfma.constants.ARROW_INPUT_COLUMN)
        output_uri = artifact_utils.get_single_uri(output_dict[constants.EVALUATION_KEY])
        with self._make_beam_pipeline() as pipeline:
            sources = [pipeline | f"Read[{split}][{index}]" >> tfxio_factory(
                           io_utils.all_files_pattern(uri)).BeamSource()
                       for split in splits
                       for index, uri in enumerate(artifact_utils.get_split_uris(examples, split))]
            _ = (sources | "FlattenExamples" >> beam.Flatten()
                 | "ExtractEvaluateAndWriteResults" >> tfma.ExtractEvaluateAndWriteResults(
                     eval_shared_model=models, eval_config=eval_config, output_path=output_uri))
        validation = tfma.load_validation_result(output_uri)
        candidates = [spec.name for spec in eval_config.model_specs if not spec.is_baseline]
        _record_verdicts(blessing, model_verdicts(validation, candidates),
                         validation.validation_ok)


    def _prepare(self, examples: List[types.Artifact], splits: List[str], max_examples: int,
                 label_dir: str, eval_config,
                 output_dict: Dict[str, List[types.Artifact]]) -> types.Artifact:
        """A copy of `examples` in the executor's temporary directory, of each split in `splits`:
        with `max_examples`, only the records with the smallest hashes (the same ones every run
        and for every model, all of them in a smaller split; the evaluation records how many there
        were and how many were kept); with `label_dir` (a label made by preprocessing_fn), each
        record with that label added under the EvalConfig's label_key."""
        import apache_beam as beam
        from tfx.types import standard_artifacts

        source = artifact_utils.get_single_instance(examples)
        prepared = standard_artifacts.Examples()
        prepared.copy_from(source)  # payload format, span, version, split names
        prepared.uri = os.path.join(self._get_tmp_dir(), "examples_prepared")
        prepared.split_names = artifact_utils.encode_split_names(splits)
        counts_file = os.path.join(prepared.uri, "counts")
        label_key = eval_config.model_specs[0].label_key if eval_config else ""
        with self._make_beam_pipeline() as pipeline:
            counts = []
            for split in splits:
                reads = [pipeline | f"Read[{split}][{index}]" >> beam.io.ReadFromTFRecord(
                             io_utils.all_files_pattern(uri), coder=beam.coders.BytesCoder())
                         for index, uri in enumerate(artifact_utils.get_split_uris(examples,
                                                                                   split))]
                records = kept = reads | f"Flatten[{split}]" >> beam.Flatten()
                if max_examples:
                    kept = (records
                            | f"Smallest[{split}]" >> beam.combiners.Top.Smallest(
                                max_examples, key=_record_hash)
                            | f"Unbatch[{split}]" >> beam.FlatMap(lambda batch: batch))
                    counts.append(records | f"Count[{split}]" >> beam.combiners.Count.Globally()
                                  | f"Kept[{split}]" >> beam.Map(
                                      lambda n: (n, min(n, max_examples))))
                if label_dir:
                    kept = (kept | f"Batch[{split}]" >> beam.BatchElements(max_batch_size=1000)
                            | f"AddLabel[{split}]" >> beam.ParDo(
                                transformed_label.AddLabel(label_dir, label_key)))
                _ = kept | f"Write[{split}]" >> beam.io.WriteToTFRecord(
                    os.path.join(artifact_utils.get_split_uri([prepared], split),
                                 "data_tfrecord"), file_name_suffix=".gz")
            if counts:
                _ = (counts | "Counts" >> beam.Flatten()
                     | "Totals" >> beam.CombineGlobally(
                         lambda pairs: tuple(map(sum, zip(*pairs))) or (0, 0))
                     | "Format" >> beam.MapTuple(lambda available, kept: f"{available} {kept}")
                     | "WriteTotals" >> beam.io.WriteToText(counts_file, shard_name_template=""))
        if max_examples:
            with fileio.open(counts_file) as handle:
                available, evaluated = (int(n) for n in handle.read().split())
            evaluation = artifact_utils.get_single_instance(output_dict[constants.EVALUATION_KEY])
            evaluation.set_int_custom_property(EXAMPLES_AVAILABLE, available)
            evaluation.set_int_custom_property(EXAMPLES_EVALUATED, evaluated)
            logging.info("Evaluating %d of %d examples (max_examples %d per split)", evaluated,
                         available, max_examples)
        return prepared


def _record_verdicts(blessing: types.Artifact, verdicts: Dict[str, bool], blessed: bool) -> None:
    """The verdict per candidate (`variant_verdicts`) and TFX's all-or-nothing `blessed`."""
    blessing.set_string_custom_property(VARIANT_VERDICTS, json.dumps(verdicts))
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                     constants.BLESSED_VALUE if blessed
                                     else constants.NOT_BLESSED_VALUE)
    io_utils.write_string_file(
        os.path.join(blessing.uri, constants.BLESSED_FILE_NAME
                     if blessed else constants.NOT_BLESSED_FILE_NAME), "")
    logging.info("Verdicts per model: %s", verdicts)

def _record_hash(record: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(record, digest_size=8).digest(), "big")


def _splits(exec_properties: Dict[str, Any]) -> List[str]:
    return json.loads(exec_properties.get(standard_component_specs.EXAMPLE_SPLITS_KEY)
                      or "null") or ["eval"]


def model_verdicts(validation, candidates: List[str]) -> Dict[str, bool]:
    """{candidate: passed} from a TFMA ValidationResult. A failure TFMA cannot pin on one candidate
    (a missing slice or threshold, a model it does not know) fails them all."""
    if validation.validation_ok:
        return {name: True for name in candidates}
    failed = {item.metric_key.model_name
              for per_slice in validation.metric_validations_per_slice
              for item in per_slice.failures}
    unattributed = (bool(validation.missing_slices or validation.missing_cross_slices
                         or validation.missing_thresholds)
                    or not failed or not failed <= set(candidates))
    return {name: not unattributed and name not in failed for name in candidates}


def forgive_not_computable(evaluation_uri: str, blessing: types.Artifact) -> List[str]:
    """Takes out of TFMA's validation the bounds broken on a slice where the metric means nothing
    (an AUC on a slice of one class: tasks.not_computable), and blesses the model when nothing
    else broke. The overall slice always counts. Returns what it took out ('auc on
    payment_type=Dispute: one class'), also recorded on the blessing."""
    import tensorflow as tf
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.slicer import slicer_lib

    validation = tfma.load_validation_result(evaluation_uri)
    if validation.validation_ok:
        return []
    metrics = all_metrics(evaluation_uri)["candidate"]
    forgiven = []
    for per_slice in validation.metric_validations_per_slice:
        name = slice_name(slicer_lib.deserialize_slice_key(per_slice.slice_key))
        kept = []
        for failure in per_slice.failures:
            key = failure.metric_key
            reason = (tasks.not_computable(key.name, metrics.get(name, {}))
                      if name and not key.is_diff else "")
            if reason:
                forgiven.append(f"{key.name} on {name}: {reason}")
            else:
                kept.append(failure)
        del per_slice.failures[:]
        per_slice.failures.extend(kept)
    if not forgiven:
        return []
    remaining = [s for s in validation.metric_validations_per_slice if s.failures]
    del validation.metric_validations_per_slice[:]
    validation.metric_validations_per_slice.extend(remaining)
    validation.validation_ok = not (remaining or validation.missing_slices
                                    or validation.missing_cross_slices
                                    or validation.missing_thresholds)
    (path,) = tf.io.gfile.glob(os.path.join(evaluation_uri, "validations*"))
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(validation.SerializeToString())
    blessing.set_string_custom_property(NOT_COMPUTABLE, "; ".join(forgiven))
    if validation.validation_ok:
        fileio.remove(os.path.join(blessing.uri, constants.NOT_BLESSED_FILE_NAME))
        io_utils.write_string_file(os.path.join(blessing.uri, constants.BLESSED_FILE_NAME), "")
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                         constants.BLESSED_VALUE)
    logging.info("Bounds that do not apply: %s", "; ".join(forgiven))
    return forgiven


def _tflite_skipped(model_uri: str) -> str:
    """Why the Trainer made no TFLite model (its report says so), or ''."""
    report = model_layout.report_file(model_uri)
    if fileio.exists(model_layout.serving_tflite_file(model_uri)) or not fileio.exists(report):
        return ""
    with fileio.open(report) as handle:
        return json.loads(handle.read()).get("skipped", "")


def _eval_config(exec_properties: Dict[str, Any]):
    import tensorflow_model_analysis as tfma
    from tfx.utils import proto_utils

    text = exec_properties.get(standard_component_specs.EVAL_CONFIG_KEY)
    return proto_utils.json_to_proto(text, tfma.EvalConfig()) if text else None


def _declares_baseline(exec_properties: Dict[str, Any]) -> bool:
    eval_config = _eval_config(exec_properties)
    return eval_config is not None and any(spec.is_baseline for spec in eval_config.model_specs)


def _evaluates_tflite(exec_properties: Dict[str, Any]) -> bool:
    import tensorflow_model_analysis as tfma

    eval_config = _eval_config(exec_properties)
    return eval_config is not None and any(spec.model_type == tfma.TF_LITE
                                           for spec in eval_config.model_specs)
