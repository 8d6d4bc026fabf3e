"""Vertex AI Pipelines: one run now, or a schedule, from the compiled PipelineJob JSON.

Vertex takes TFX's `.json` (a PipelineJob) directly; there is nothing to upload beforehand.
Schedules use 5 cron fields with an optional `TZ=` prefix (KFP's 6-field form minus seconds).
"""

from __future__ import annotations

from mlops.kfp_deploy import DeployError, Plan, check_cron


def vertex_cron(kfp_cron: str, timezone: str) -> str:
    fields = check_cron(kfp_cron).split()
    if fields[0] not in ("0", "00"):
        raise DeployError(f"Vertex schedules have no seconds field; {kfp_cron!r} fires at "
                          f"second {fields[0]}")
    return f"TZ={timezone} " + " ".join(fields[1:])


def _job(job_json: str, display_name: str, pipeline_root: str, project: str, region: str):
    from google.cloud import aiplatform

    if not project:
        raise DeployError("no Vertex project: set vertex_project (MLOPS_VERTEX_PROJECT)")
    return aiplatform.PipelineJob(display_name=display_name, template_path=job_json,
                                  pipeline_root=pipeline_root, project=project, location=region)


def run_now(plan: Plan, job_json: str, *, display_name: str, pipeline_root: str, project: str,
            region: str, service_account: str = "") -> str:
    job = plan.call(f"aiplatform.PipelineJob(template_path={job_json!r}, project={project!r}, "
                    f"location={region!r})",
                    lambda: _job(job_json, display_name, pipeline_root, project, region))
    plan.call(f"PipelineJob.submit(service_account={service_account or None!r})",
              lambda: job.submit(service_account=service_account or None))
    return job.resource_name if job else "<pipeline job>"


def schedule(plan: Plan, job_json: str, *, display_name: str, pipeline_root: str, project: str,
             region: str, cron: str, timezone: str, service_account: str = "") -> str:
    """Creates the schedule, replacing an earlier one of the same display name."""
    from_kfp = vertex_cron(cron, timezone)

    def existing():
        from google.cloud import aiplatform

        return aiplatform.PipelineJobSchedule.list(
            filter=f'display_name="{display_name}"', project=project, location=region)

    for old in plan.call(f"PipelineJobSchedule.list(filter='display_name=\"{display_name}\"')",
                         existing, placeholder=[]) or []:
        plan.call(f"PipelineJobSchedule.delete({old.resource_name!r})", old.delete)
    job = plan.call(f"aiplatform.PipelineJob(template_path={job_json!r}, project={project!r}, "
                    f"location={region!r})",
                    lambda: _job(job_json, display_name, pipeline_root, project, region))
    created = plan.call(
        f"PipelineJob.create_schedule(cron={from_kfp!r}, max_concurrent_run_count=1)",
        lambda: job.create_schedule(display_name=display_name, cron=from_kfp,
                                    max_concurrent_run_count=1,
                                    service_account=service_account or None))
    return created.resource_name if created else "<schedule>"
