"""Deploying the compiled pipeline to Kubeflow Pipelines (v2beta1 API) with `kfp.Client`.

    deploy:    upload_pipeline the first time, upload_pipeline_version after
    schedule:  one recurring run per pipeline (6-field cron, seconds first), max_concurrency=1,
               no_catchup, pointing at the given version; re-running replaces it
    run_now:   one run of the given version

Every call goes through a `Plan`, so `--dry-run` prints exactly the calls a real deploy makes.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Any, Callable, Optional


class DeployError(RuntimeError):
    """KFP refused or could not be reached; the message names the endpoint and the step."""


def check_cron(cron: str) -> str:
    """KFP's recurring runs take robfig/cron with seconds first: 6 fields."""
    fields = cron.split()
    if len(fields) != 6:
        raise DeployError(f"schedule {cron!r} has {len(fields)} fields; KFP wants 6, seconds "
                          "first (e.g. '0 0 3 * * *' for 03:00 every day)")
    return cron


def version_name(pipeline_name: str, now: Optional[datetime.datetime] = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return f"{pipeline_name}-{now.strftime('%Y%m%d-%H%M%S')}"


@dataclasses.dataclass
class Plan:
    """The calls made (or, in a dry run, that would be made), in order."""
    dry_run: bool
    calls: list[str] = dataclasses.field(default_factory=list)

    def call(self, description: str, action: Callable[[], Any], placeholder: Any = None) -> Any:
        self.calls.append(description)
        return placeholder if self.dry_run else action()


def connect(endpoint: str, namespace: str, iap_client_id: str = "", token: str = ""):
    """kfp.Client for a port-forward (http://localhost:8080), an in-cluster address or an IAP
    endpoint (client id for IAP; KFP then uses Google credentials)."""
    import kfp

    if not endpoint:
        raise DeployError("no KFP endpoint: set kfp_endpoint (MLOPS_KFP_ENDPOINT or "
                          "--kfp-endpoint), e.g. http://localhost:8080 with a port-forward")
    if not iap_client_id:  # IAP answers with Google's login; the client handles that
        _probe(endpoint, token)
    try:
        return kfp.Client(host=endpoint, namespace=namespace,
                          client_id=iap_client_id or None, existing_token=token or None)
    except Exception as err:  # connection errors surface from the healthz call
        raise DeployError(f"cannot reach Kubeflow Pipelines at {endpoint}: "
                          f"{first_line(err)}") from None


def _probe(endpoint: str, token: str) -> None:
    """One request to the API server's health check, so that an endpoint that wants a token (or
    is not there) is one line at once, not kfp.Client's retries and tracebacks."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{endpoint.rstrip('/')}/apis/v2beta1/healthz",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        urllib.request.urlopen(request, timeout=15).close()
    except urllib.error.HTTPError as err:
        if err.code in (401, 403):
            given = ("refused the token in kfp_token_file" if token else
                     "wants a token: write one to a file and name it with kfp_token_file "
                     "(MLOPS_KFP_TOKEN_FILE), e.g. `kubectl -n <namespace> create token "
                     "default-editor > token`")
            raise DeployError(f"Kubeflow Pipelines at {endpoint} answered {err.code} "
                              f"{err.reason}: it {given}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise DeployError(f"cannot reach Kubeflow Pipelines at {endpoint}: {reason}") from None


def first_line(err: Exception) -> str:
    """The first line of an error's message (API errors carry whole response bodies)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def deploy(client, plan: Plan, package: str, pipeline_name: str, version: str
           ) -> tuple[str, str]:
    """Uploads the PipelineSpec YAML: a new pipeline, or a new version of the existing one."""
    if not package.endswith((".yaml", ".yml")):
        raise DeployError(f"{package}: KFP uploads the PipelineSpec YAML, not the Vertex JSON")
    if plan.dry_run:
        plan.calls += [
            f"get_pipeline_id({pipeline_name!r})",
            f"if new: upload_pipeline({os.path.basename(package)!r}, "
            f"pipeline_name={pipeline_name!r}), list_pipeline_versions(<pipeline id>)",
            f"else: upload_pipeline_version({os.path.basename(package)!r}, "
            f"pipeline_version_name={version!r}, pipeline_id=<pipeline id>)"]
        return "<pipeline id>", "<version id>"
    pipeline_id = client.get_pipeline_id(pipeline_name)
    plan.calls.append(f"get_pipeline_id({pipeline_name!r})")
    if pipeline_id is None:
        pipeline = plan.call(
            f"upload_pipeline({os.path.basename(package)!r}, pipeline_name={pipeline_name!r})",
            lambda: client.upload_pipeline(package, pipeline_name=pipeline_name,
                                           description="TFX chain: data in, a gated model out"))
        # The first upload creates the pipeline with its first version.
        versions = plan.call(f"list_pipeline_versions({pipeline.pipeline_id!r})",
                             lambda: client.list_pipeline_versions(pipeline.pipeline_id))
        return pipeline.pipeline_id, versions.pipeline_versions[0].pipeline_version_id
    uploaded = plan.call(
        f"upload_pipeline_version({os.path.basename(package)!r}, "
        f"pipeline_version_name={version!r}, pipeline_id={pipeline_id!r})",
        lambda: client.upload_pipeline_version(package, pipeline_version_name=version,
                                               pipeline_id=pipeline_id))
    return pipeline_id, uploaded.pipeline_version_id


def _experiment_id(client, plan: Plan, experiment: str, namespace: str) -> str:
    created = plan.call(f"create_experiment({experiment!r})  # returns it if it exists",
                        lambda: client.create_experiment(experiment, namespace=namespace))
    return created.experiment_id if created else "<experiment id>"


def schedule(client, plan: Plan, pipeline_id: str, version_id: str, *, experiment: str,
             namespace: str, job_name: str, cron: str) -> str:
    """Creates the recurring run, replacing any earlier one of the same name."""
    check_cron(cron)
    experiment_id = _experiment_id(client, plan, experiment, namespace)
    existing = plan.call(f"list_recurring_runs(experiment_id={experiment_id!r})",
                         lambda: client.list_recurring_runs(experiment_id=experiment_id,
                                                            page_size=100))
    for old in (getattr(existing, "recurring_runs", None) or []):
        if old.display_name == job_name:
            plan.call(f"delete_recurring_run({old.recurring_run_id!r})",
                      lambda rid=old.recurring_run_id: client.delete_recurring_run(rid))
    created = plan.call(
        f"create_recurring_run({job_name!r}, cron_expression={cron!r}, max_concurrency=1, "
        f"no_catchup=True, pipeline_id={pipeline_id!r}, version_id={version_id!r})",
        lambda: client.create_recurring_run(
            experiment_id=experiment_id, job_name=job_name, cron_expression=cron,
            max_concurrency=1, no_catchup=True, pipeline_id=pipeline_id,
            version_id=version_id, enabled=True))
    return created.recurring_run_id if created else "<recurring run id>"


def run_now(client, plan: Plan, pipeline_id: str, version_id: str, *, experiment: str,
            namespace: str, run_name: str) -> str:
    experiment_id = _experiment_id(client, plan, experiment, namespace)
    run = plan.call(f"run_pipeline({run_name!r}, pipeline_id={pipeline_id!r}, "
                    f"version_id={version_id!r})",
                    lambda: client.run_pipeline(experiment_id=experiment_id, job_name=run_name,
                                                pipeline_id=pipeline_id, version_id=version_id))
    return run.run_id if run else "<run id>"


def latest_version(client, plan: Plan, pipeline_name: str) -> tuple[str, str]:
    """(pipeline id, newest version id) of an uploaded pipeline."""
    pipeline_id = plan.call(f"get_pipeline_id({pipeline_name!r})",
                            lambda: client.get_pipeline_id(pipeline_name),
                            placeholder="<pipeline id>")
    if pipeline_id is None:
        raise DeployError(f"pipeline {pipeline_name!r} is not on KFP yet: make deploy-pipeline")
    versions = plan.call(f"list_pipeline_versions({pipeline_id!r}, sort_by='created_at desc')",
                         lambda: client.list_pipeline_versions(pipeline_id, page_size=1,
                                                               sort_by="created_at desc"))
    if versions is None:
        return pipeline_id, "<latest version id>"
    return pipeline_id, versions.pipeline_versions[0].pipeline_version_id
