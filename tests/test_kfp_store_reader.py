"""`mlops runs` and `mlops lineage` read a store written the way Kubeflow Pipelines v2's launcher
writes it (backend/src/v2/metadata/client.go, as tests/kfp_harness.py records it): system.*
contexts, task_name on executions, `tfx.`-titled artifact types, every number a double, CACHED
executions pointing at the earlier outputs. Built by hand here: no pipeline runs, so this is
quick."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2 as mlmd

from mlops import lineage, lineage_view, metadata, report

PIPELINE = "digits-pipeline"


class KfpStore:
    def __init__(self, path: str):
        self.store = metadata.sqlite_store(path)
        self.pipeline = self._context("system.Pipeline", PIPELINE)

    def _context(self, type_name: str, name: str) -> mlmd.Context:
        type_id = self.store.put_context_type(mlmd.ContextType(name=type_name))
        context = mlmd.Context(type_id=type_id, name=name)
        [context.id] = self.store.put_contexts([context])
        return context

    def start_run(self, run_id: str) -> None:
        self.run = self._context("system.PipelineRun", run_id)

    def artifact(self, title: str, uri: str, **properties) -> int:
        type_id = self.store.put_artifact_type(mlmd.ArtifactType(name=title))
        artifact = mlmd.Artifact(type_id=type_id, uri=uri, state=mlmd.Artifact.LIVE)
        for key, value in properties.items():
            if isinstance(value, (int, float)):
                artifact.custom_properties[key].double_value = float(value)
            else:
                artifact.custom_properties[key].string_value = value
        [artifact_id] = self.store.put_artifacts([artifact])
        return artifact_id

    def execution(self, task: str, state=mlmd.Execution.COMPLETE, inputs=None, outputs=None,
                  parameters=None, kind="system.ContainerExecution") -> int:
        type_id = self.store.put_execution_type(mlmd.ExecutionType(name=kind))
        execution = mlmd.Execution(type_id=type_id, last_known_state=state)
        execution.custom_properties["task_name"].string_value = task
        if parameters:
            execution.custom_properties["inputs"].struct_value.update(parameters)
        [execution_id] = self.store.put_executions([execution])
        self.store.put_attributions_and_associations([], [
            mlmd.Association(context_id=c.id, execution_id=execution_id)
            for c in (self.run, self.pipeline)])
        events = []
        for kind_, listed in ((mlmd.Event.INPUT, inputs or {}), (mlmd.Event.OUTPUT, outputs or {})):
            for key, artifact_id in listed.items():
                event = mlmd.Event(artifact_id=artifact_id, execution_id=execution_id, type=kind_)
                event.path.steps.add().key = key
                events.append(event)
        if events:
            self.store.put_events(events)
        return execution_id


@pytest.fixture()
def kfp_store(tmp_path):
    kfp = KfpStore(str(tmp_path / "kfp.sqlite"))
    # Run 1 executes everything; run 2 is served from the cache (the importer is a lookup).
    kfp.start_run("run-one")
    examples = kfp.artifact("tfx.Examples", "/root/run-one/ImportExampleGen/examples", span=2.0,
                            input_fingerprint="split:single_split,num_files:1")
    model = kfp.artifact("tfx.Model", "/root/run-one/Trainer/model")
    baseline = kfp.artifact("tfx.Model", "/publish/serving/digits/1")
    blessing = kfp.artifact("tfx.ModelBlessing", "/root/run-one/Evaluator/blessing",
                            blessed=1.0, baseline_model_id="7")
    evaluation = kfp.artifact("tfx.ModelEvaluation", "/root/run-one/Evaluator/evaluation")
    gate = kfp.artifact("tfx.ModelBlessing", "/root/run-one/BlessingGate/blessing", blessed=1.0,
                        gate_metrics='[{"name": "SparseCategoricalAccuracy"}]',
                        saved_model_metrics='{"sparse_categorical_accuracy": 0.96}',
                        saved_model_baseline_metrics='{"sparse_categorical_accuracy": 0.9}')
    pushed = kfp.artifact("tfx.PushedModel", "/root/run-one/Pusher/pushed_model", pushed=1.0,
                          pushed_version="2", pushed_destinations='{"TF Serving": "/s/2"}')

    def run(cached: bool) -> None:
        state = mlmd.Execution.CACHED if cached else mlmd.Execution.COMPLETE
        kfp.execution("ImportExampleGen", state, outputs={"examples": examples},
                      parameters={"input_base": "/data"})
        kfp.execution("Trainer", state, inputs={"examples": examples}, outputs={"model": model},
                      parameters={"train_args": '{"num_steps": 200}',
                                  "custom_config": '{"learning_rate": 0.005}'})
        kfp.execution("ProductionBaseline-importer", outputs={"result": baseline},
                      kind="system.ImporterExecution")
        kfp.execution("ProductionBaseline", outputs={"result": baseline},
                      kind="system.DAGExecution")
        kfp.execution("Evaluator", state, inputs={"examples": examples, "model": model,
                                                  "baseline_model": baseline},
                      outputs={"blessing": blessing, "evaluation": evaluation})
        kfp.execution("BlessingGate", state, inputs={"model": model,
                                                     "saved_model_blessing": blessing},
                      outputs={"blessing": gate})
        kfp.execution("Pusher", state, inputs={"model": model, "model_blessing": gate},
                      outputs={"pushed_model": pushed})

    run(cached=False)
    kfp.start_run("run-two")
    run(cached=True)
    # Another pipeline's run in the same store is not listed.
    kfp.pipeline = kfp._context("system.Pipeline", "other-pipeline")
    kfp.start_run("other-run")
    kfp.execution("ImportExampleGen", outputs={"examples": examples})
    return kfp.store


def test_runs_lists_kfp_runs_with_span_blessing_and_version(kfp_store):
    rows = report.list_runs(kfp_store, PIPELINE)
    assert [r["run_id"] for r in rows] == ["run-one", "run-two"]
    assert [r["span"] for r in rows] == [2, 2]
    assert isinstance(rows[0]["span"], int)
    assert [r["blessed"] for r in rows] == [True, True]
    assert [r["pushed_version"] for r in rows] == ["2", "2"]
    assert [r["status"] for r in rows] == ["COMPLETE", "COMPLETE"]
    # The DAG execution only groups the importer: not counted.
    assert [r["executions"] for r in rows] == [6, 6]
    assert [r["cached"] for r in rows] == [0, 5]
    assert "run-two" in report.format_runs(rows)


def test_lineage_of_a_kfp_pushed_model(kfp_store, tmp_path):
    trace = lineage.trace(kfp_store, PIPELINE, version="2")
    assert trace.target["type"] == "PushedModel" and trace.target["pushed_version"] == "2"
    steps = {s.node_id: s for s in trace.steps}
    assert list(steps) == ["Pusher", "BlessingGate", "Evaluator", "Trainer", "ImportExampleGen"]
    assert all(s.run_id == "run-one" and s.state == "COMPLETE" for s in trace.steps)
    assert steps["ImportExampleGen"].details["span"] == 2
    assert steps["ImportExampleGen"].details["input_base"] == "/data"
    assert "num_files:1" in steps["ImportExampleGen"].details["input_fingerprint"]
    assert steps["Trainer"].details["train_steps"] == 200
    assert steps["Trainer"].details["hyperparameters"] == {"learning_rate": 0.005}
    evaluator = steps["Evaluator"].details
    assert evaluator["blessed"] and evaluator["baseline_model_artifact_id"] == 7
    assert evaluator["metrics"] == {"sparse_categorical_accuracy": 0.96}
    assert evaluator["baseline_metrics"] == {"sparse_categorical_accuracy": 0.9}
    assert evaluator["change"]["sparse_categorical_accuracy"] == pytest.approx(0.06)
    assert steps["Pusher"].details["destinations"] == {"TF Serving": "/s/2"}
    assert {a["type"] for a in trace.artifacts.values()} >= {"Examples", "Model", "PushedModel"}
    assert "Pushed model version 2" in lineage_view.format_text(trace)
    assert ("Trainer" in lineage_view.dot_source(trace)) and trace.edges()


def test_a_kfp_run_has_a_report_page(kfp_store, tmp_path):
    """`mlops report --metadata mysql://.../metadb` builds the same page from a Kubeflow-written
    store: the verdict, where the version went, the gate's numbers against production."""
    import re

    from mlops import report_page, run_report

    page = run_report.collect(kfp_store, PIPELINE, "run-one")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", open(report_page.write(
        page, str(tmp_path / "run-one.html"))).read()))
    assert "Blessed and published as version 2" in text and "TF Serving: /s/2" in text
    assert "SavedModel 0.9600 0.9000 blessed" in text  # candidate, production, verdict
    assert "Trainer" in text and "200 steps" in text  # the lineage graph's node
    with pytest.raises(run_report.ReportError):
        run_report.collect(kfp_store, PIPELINE, "no-such-run")
