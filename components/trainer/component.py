"""The platform's Trainer: TFX's Trainer plus the raw examples, for int8 calibration.

Same contract as tfx.components.Trainer (module_file with run_fn, train/eval args, custom_config;
`model` and `model_run` out), and one more optional input, `raw_examples` (ExampleGen's output):
the TFLite models take raw features, so int8 calibration draws its representative examples from
the raw training split, not from Transform's output.
"""

from __future__ import annotations

from typing import Any, Optional

from tfx.components.trainer import component as tfx_trainer
from tfx.components.util import udf_utils
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import trainer_pb2
from tfx.types import channel, component_spec, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components.trainer import executor


class TrainerSpec(standard_component_specs.TrainerSpec):
    INPUTS = {
        **standard_component_specs.TrainerSpec.INPUTS,
        executor.RAW_EXAMPLES_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.Examples, optional=True),
    }


class Trainer(tfx_trainer.Trainer):
    SPEC_CLASS = TrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, *, module_file: str, examples: channel.BaseChannel,
                 transform_graph: Optional[channel.BaseChannel] = None,
                 schema: Optional[channel.BaseChannel] = None,
                 raw_examples: Optional[channel.BaseChannel] = None,
                 train_args: Optional[trainer_pb2.TrainArgs] = None,
                 eval_args: Optional[trainer_pb2.EvalArgs] = None,
                 custom_config: Optional[dict[str, Any]] = None):
        # tfx's Trainer.__init__ builds its own spec class; build ours the same way.
        base_component.BaseComponent.__init__(self, spec=TrainerSpec(
            examples=examples,
            transform_graph=transform_graph,
            schema=schema,
            raw_examples=raw_examples,
            train_args=train_args or trainer_pb2.TrainArgs(),
            eval_args=eval_args or trainer_pb2.EvalArgs(),
            module_file=module_file,
            custom_config=json_utils.dumps(custom_config or {}),
            model=channel.Channel(type=standard_artifacts.Model),
            model_run=channel.Channel(type=standard_artifacts.ModelRun),
        ))
        if udf_utils.should_package_user_modules():
            udf_utils.add_user_module_dependency(
                self, standard_component_specs.MODULE_FILE_KEY,
                standard_component_specs.MODULE_PATH_KEY)
