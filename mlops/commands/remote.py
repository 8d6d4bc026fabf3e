"""`mlops compile`, `deploy`, `schedule` and `run-remote`: the pipeline compiled for a cluster,
then the calls one engine needs (Kubeflow Pipelines, or Vertex AI), printed before they are made."""

from __future__ import annotations

import os
from typing import Callable

from mlops import kfp_deploy, vertex_deploy
from mlops.config import Config, ConfigError
from mlops.errors import PlatformError

ACTIONS = ("deploy", "schedule", "run-remote")


def compile_for_cluster(config: Config, output_dir: str, allow_local_root: bool) -> dict:
    """Compiles both forms (KFP YAML, Vertex JSON); returns their paths."""
    # TFX packages the user module as a wheel under the pipeline root at compile time, and every
    # task reads it from there: on a cluster that has to be shared object storage.
    if not config.pipeline_root.startswith("gs://") and not allow_local_root:
        raise PlatformError(
            f"pipeline root {config.pipeline_root} is not shared object storage: tasks on a "
            "cluster read the module wheels TFX writes there at compile time; pass "
            "--pipeline-root gs://BUCKET/PATH (or set pipeline_root_dir)")
    from mlops import progress

    log_file = os.path.join(output_dir, "compile.log")
    os.makedirs(output_dir, exist_ok=True)
    with progress.output_to(log_file):
        from pipelines import kubeflow_runner  # TFX warns loudly at import time

        try:
            paths = kubeflow_runner.compile_pipeline(config, output_dir, config.image)
        except Exception as err:
            raise PlatformError(f"compile failed: {err} (log: {log_file})") from None
    return paths


def remote(config: Config, engine: str, action: str, output_dir: str, allow_local_root: bool,
           dry_run: bool, echo: Callable[[str], None]) -> None:
    """Compiles, then makes (or with `dry_run` only prints) the engine's calls for `action`."""
    try:  # a missing token file is known before the minute a compile takes
        token = config.kfp_token() if engine == "kfp" and not dry_run else ""
    except ConfigError as err:
        raise PlatformError(f"configuration error: {err}") from None
    paths = compile_for_cluster(config, output_dir, allow_local_root)
    echo(f"Compiled: {paths['kfp']} (KFP), {paths['vertex']} (Vertex)")
    plan = kfp_deploy.Plan(dry_run=dry_run)
    try:
        if engine == "vertex":
            result = _vertex(config, action, paths["vertex"], plan)
        else:
            result = _kfp(config, action, paths["kfp"], plan, dry_run, token)
    except kfp_deploy.DeployError as err:
        raise PlatformError(str(err)) from None
    except Exception as err:  # the KFP/Vertex client's own errors: name the step, no traceback
        done = plan.calls[-1] if plan.calls else action
        raise PlatformError(f"{engine} {action} failed at {done}: "
                            f"{kfp_deploy.first_line(err)}") from None
    heading = "Would call:" if dry_run else "Called:"
    echo("\n".join([heading, *(f"  {c}" for c in plan.calls)]))
    if not dry_run:
        echo(f"Done: {result}")


def _vertex(config: Config, action: str, job_json: str, plan: kfp_deploy.Plan) -> str:
    common = dict(display_name=config.pipeline_name, pipeline_root=config.pipeline_root,
                  project=config.vertex_project, region=config.vertex_region,
                  service_account=config.vertex_service_account)
    if action == "deploy":
        plan.calls.append("(nothing to upload: Vertex takes the PipelineJob JSON per run)")
        return job_json
    if action == "schedule":
        return vertex_deploy.schedule(plan, job_json, cron=config.schedule_cron,
                                      timezone=config.schedule_timezone, **common)
    return vertex_deploy.run_now(plan, job_json, **common)


def _kfp(config: Config, action: str, spec_yaml: str, plan: kfp_deploy.Plan, dry_run: bool,
         token: str) -> str:
    client = None if dry_run else kfp_deploy.connect(
        config.kfp_endpoint, config.kfp_namespace, config.kfp_iap_client_id, token)
    experiment = config.kfp_experiment or config.pipeline_name
    if action == "deploy":
        ids = kfp_deploy.deploy(client, plan, spec_yaml, config.pipeline_name,
                                kfp_deploy.version_name(config.pipeline_name))
        return (f"pipeline {ids[0]}, version {ids[1]}: {config.kfp_endpoint}"
                f"/#/pipelines/details/{ids[0]}/version/{ids[1]}")
    ids = kfp_deploy.latest_version(client, plan, config.pipeline_name)
    if action == "schedule":
        return "recurring run " + kfp_deploy.schedule(
            client, plan, *ids, experiment=experiment, namespace=config.kfp_namespace,
            job_name=f"{config.pipeline_name}-retraining", cron=config.schedule_cron)
    return "run " + kfp_deploy.run_now(
        client, plan, *ids, experiment=experiment, namespace=config.kfp_namespace,
        run_name=kfp_deploy.version_name(config.pipeline_name))
