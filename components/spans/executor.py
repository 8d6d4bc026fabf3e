"""ExampleGen executors that resolve `{SPAN}` themselves when no driver did.

Locally, TFX's file-based ExampleGen driver picks the newest span, rewrites the input pattern and
records span and fingerprint before the executor runs. On Kubeflow Pipelines TFX runs that driver
as a `lifecycle` hook of the task, which open-source KFP ignores: the executor would then glob the
literal `span-{SPAN}/*` and find nothing. These subclasses do the driver's work when the pattern
still holds a placeholder, and are plain TFX executors otherwise.

On Kubeflow a task in front of ExampleGen (latest_span.py) resolves the span first and hands its
fingerprint over as `expected_input_fingerprint`, which is what KFP's cache keys on; the executor
refuses to run when the data it finds is not the data that fingerprint describes (files changed in
between), so a cached result never stands for other data.
"""

from __future__ import annotations

from typing import Any, Dict, List

from tfx import types
from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import utils
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

_PLACEHOLDERS = ("{SPAN}", "{VERSION}", "{YYYY}", "{MM}", "{DD}")
EXPECTED_FINGERPRINT_KEY = "expected_input_fingerprint"


class InputChangedError(RuntimeError):
    """The input files differ from the fingerprint the run was keyed on."""


def resolve_span(exec_properties: Dict[str, Any], always: bool = False) -> Dict[str, Any]:
    """exec_properties with the newest span resolved, as TFX's ExampleGen driver does; unchanged
    when the patterns hold no placeholder, unless `always` (then span and fingerprint are added)."""
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
                              input_config)
    if not always and not any(p in split.pattern for split in input_config.splits
                              for p in _PLACEHOLDERS):
        return exec_properties  # a driver already did it (local runs), or there are no spans
    range_config = None
    if exec_properties.get(standard_component_specs.RANGE_CONFIG_KEY):
        range_config = range_config_pb2.RangeConfig()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.RANGE_CONFIG_KEY],
                                  range_config)
    # Rewrites each split's pattern to the chosen span in place.
    fingerprint, span, version = utils.calculate_splits_fingerprint_span_and_version(
        exec_properties[standard_component_specs.INPUT_BASE_KEY], input_config.splits,
        range_config)
    return {**exec_properties,
            standard_component_specs.INPUT_CONFIG_KEY: proto_utils.proto_to_json(input_config),
            utils.SPAN_PROPERTY_NAME: span,
            utils.VERSION_PROPERTY_NAME: version,
            utils.FINGERPRINT_PROPERTY_NAME: fingerprint}


class _SpanResolving:
    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        exec_properties = dict(exec_properties)
        expected = exec_properties.pop(EXPECTED_FINGERPRINT_KEY, None)
        resolved = resolve_span(exec_properties)
        found = resolved.get(utils.FINGERPRINT_PROPERTY_NAME)
        if expected and found is not None and found != expected:
            raise InputChangedError(
                f"the input data changed while the run started: the span was resolved with "
                f"fingerprint {expected!r}, ExampleGen now finds {found!r}; run again")
        if resolved is not exec_properties:
            for examples in output_dict[standard_component_specs.EXAMPLES_KEY]:
                # As the driver records it (custom properties), and as the Examples type's own
                # span property, which is what KFP shows as the artifact's `span`.
                example_gen_driver.update_output_artifact(resolved, examples.mlmd_artifact)
                examples.span = resolved[utils.SPAN_PROPERTY_NAME]
        super().Do(input_dict, output_dict, resolved)


class ImportExecutor(_SpanResolving, import_executor.Executor):
    """ImportExampleGen's executor (TFRecords of tf.Example), resolving {SPAN} if needed."""


class CsvExecutor(_SpanResolving, csv_executor.Executor):
    """CsvExampleGen's executor, resolving {SPAN} if needed."""
