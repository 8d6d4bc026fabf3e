"""TFX packages itself for Beam's workers only where those workers run elsewhere.

A Beam-based TFX executor (ExampleGen, StatisticsGen, Transform, Evaluator, ...) given pipeline
arguments calls `tfx.utils.dependency_utils.make_beam_dependency_flags`. Unless the arguments
already name a package or an image, it copies TFX's installed source (52 MB) into a new temporary
directory, builds an sdist from it in a subprocess and adds `--extra_package=` for it. That is for
remote runners such as Dataflow, whose workers would lack TFX (the function's docstring says so),
but TFX does it for the DirectRunner too, whose workers are processes on this machine with TFX
installed. Each Beam component run paid about 2 s for it, and the 52 MB directory was never
removed: 4,000 of them filled this machine's disk. Remote runners keep TFX's behaviour.
"""

from __future__ import annotations

from typing import Sequence

# Beam's names for runners whose workers are local processes (or threads) of this installation.
_LOCAL_RUNNERS = frozenset({"direct", "directrunner", "switchingdirectrunner",
                            "bundlebaseddirectrunner"})


def runs_locally(beam_pipeline_args: Sequence[str]) -> bool:
    """True for Beam's DirectRunner (also when no runner is named: Beam's default)."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    runner = PipelineOptions(flags=list(beam_pipeline_args)).view_as(StandardOptions).runner
    if runner is None:
        return True
    name = runner if isinstance(runner, str) else type(runner).__name__
    return name.rsplit(".", 1)[-1].lower() in _LOCAL_RUNNERS


def package_tfx_only_for_remote_runners() -> None:
    """Makes TFX's Beam executors skip building the TFX sdist when the DirectRunner runs them
    (once per process; call before TFX constructs an executor)."""
    from tfx.utils import dependency_utils

    tfx_own = dependency_utils.make_beam_dependency_flags
    if getattr(tfx_own, "local_aware", False):
        return

    def make_beam_dependency_flags(beam_pipeline_args: list[str]) -> list[str]:
        if runs_locally(beam_pipeline_args):
            return list(beam_pipeline_args)
        return tfx_own(beam_pipeline_args)

    make_beam_dependency_flags.local_aware = True
    # TFX's BaseBeamExecutor looks the function up on the module at each construction.
    dependency_utils.make_beam_dependency_flags = make_beam_dependency_flags
