"""The run page's verdict, metrics and report, from the blessing and the Pusher's result."""

from __future__ import annotations

import json

from tfx.types import standard_artifacts

from components.common import ui_artifacts
from components.common.names import (
    BLESSED,
    MOBILE_VARIANT,
    NOT_PUSHED_REASON,
    PUSHED,
    PUSHED_DESTINATIONS,
    PUSHED_VERSION,
    TFLITE_VARIANT_RESULTS,
)
from components.pusher import run_card


def _blessing(blessed: bool):
    blessing = standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property(BLESSED, int(blessed))
    blessing.set_string_custom_property("saved_model_metrics", json.dumps({"auc": 0.91}))
    blessing.set_string_custom_property("tflite_metrics", json.dumps({"auc": 0.905}))
    blessing.set_string_custom_property("saved_model_baseline_metrics", json.dumps({"auc": 0.9}))
    blessing.set_string_custom_property(MOBILE_VARIANT, "dynamic")
    blessing.set_string_custom_property(TFLITE_VARIANT_RESULTS, json.dumps(
        {"float32": {"size_bytes": 4000}, "dynamic": {"size_bytes": 1200}}))
    if not blessed:
        blessing.set_string_custom_property(
            "saved_model_failures", "auc on overall is 0.6, below lower_bound 0.7; "
            "auc on payment_type=Cash is 0.5, below lower_bound 0.6")
    return blessing


def _outputs(tmp_path):
    outputs = {run_card.METRICS_KEY: [ui_artifacts.Metrics()],
               run_card.VERDICT_KEY: [ui_artifacts.Markdown()],
               run_card.REPORT_KEY: [ui_artifacts.HTML()]}
    for key, (artifact,) in outputs.items():
        artifact.uri = str(tmp_path / key)
    return outputs


def test_a_published_run_names_its_version_destinations_and_metrics(tmp_path):
    pushed = standard_artifacts.PushedModel()
    pushed.set_int_custom_property(PUSHED, 1)
    pushed.set_string_custom_property(PUSHED_VERSION, "3")
    pushed.set_string_custom_property(PUSHED_DESTINATIONS, json.dumps(
        {"TF Serving": "gs://b/serving/taxi/3", "mobile model bucket": "gs://b/mobile/taxi/3"}))
    outputs = _outputs(tmp_path)
    run_card.write(outputs, "taxi", _blessing(True), pushed)

    verdict = (tmp_path / "verdict").read_text()
    assert verdict.startswith("**taxi: published as version 3.**")
    assert "- TF Serving: `gs://b/serving/taxi/3`" in verdict
    assert "phones get the dynamic TFLite variant" in verdict
    (metrics,) = outputs[run_card.METRICS_KEY]
    assert metrics.get_float_custom_property("auc") == 0.91
    assert metrics.get_float_custom_property("tflite_auc") == 0.905
    assert metrics.get_float_custom_property("production_auc") == 0.9
    assert metrics.get_float_custom_property("mobile_model_bytes") == 1200
    assert metrics.get_string_custom_property(ui_artifacts.DISPLAY_NAME) == "gate metrics"
    page = (tmp_path / "report").read_text()
    assert "published as version 3" in page and "<td>tflite_auc</td><td>0.9050</td>" in page
    assert "<td>mobile_model_bytes</td><td>1,200</td>" in page
    assert "<li>TF Serving: <code>gs://b/serving/taxi/3</code></li>" in page
    assert "<script" not in page and "src=" not in page  # self-contained


def test_a_refused_run_names_every_broken_bound(tmp_path):
    pushed = standard_artifacts.PushedModel()
    pushed.set_int_custom_property(PUSHED, 0)
    run_card.write(_outputs(tmp_path), "taxi", _blessing(False), pushed)
    verdict = (tmp_path / "verdict").read_text().splitlines()
    assert verdict == ["**taxi: refused by the gate.** Nothing was published.",
                       "- SavedModel: auc on overall is 0.6, below lower_bound 0.7",
                       "- SavedModel: auc on payment_type=Cash is 0.5, below lower_bound 0.6"]


def test_a_blessed_model_not_pushed_says_why(tmp_path):
    pushed = standard_artifacts.PushedModel()
    pushed.set_int_custom_property(PUSHED, 0)
    pushed.set_string_custom_property(NOT_PUSHED_REASON, "production moved to version 4")
    run_card.write(_outputs(tmp_path), "taxi", _blessing(True), pushed)
    assert (tmp_path / "verdict").read_text().splitlines() == [
        "**taxi: blessed, not pushed.**", "production moved to version 4"]
