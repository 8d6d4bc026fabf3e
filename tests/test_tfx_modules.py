"""TFX's own Keras taxi module, copied unchanged from the installed wheel, reaches phones.

`tfx/examples/chicago_taxi_pipeline/taxi_utils_native_keras.py` computes its label in
preprocessing_fn (`tips_xf`: did the tip exceed 20 % of the fare), saves a tf.Example-only
`serving_default` with `tf.saved_model.save` (no Keras metadata), fills missing strings with
`tf.sparse.to_dense(x, '')`, buckets coordinates with `tft.bucketize`, keeps 10 out-of-vocabulary
buckets and one-hot encodes with Keras' CategoryEncoding. With configuration alone (`label_key:
tips_xf`, `label_from: [tips, fare]`, `prediction_key: outputs`), on the wheel's
`data/simple/data.csv`, the platform trains it, gates it and publishes it to TF Serving, TF Hub
and the mobile bucket; the TFLite model (a raw-tensor signature derived from serving_default, the
exact rewrites applied, Flex allowed for the hashes TFLite cannot do) agrees with serving_default
on rows that each miss a value.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import run_cli
from tests.test_tabular import _dense, _tf_example

pytestmark = pytest.mark.e2e


def _wheel_taxi() -> Path:
    import tfx

    return Path(tfx.__file__).parent / "examples/chicago_taxi_pipeline"


CONFIG = """\
pipeline_name: tfx-taxi
model_name: tfx_taxi
module_file: taxi_utils_native_keras.py
task: binary
label_key: tips_xf
label_from: [tips, fare]
prediction_key: outputs
feature_keys: [trip_miles, fare, trip_seconds, pickup_latitude, pickup_longitude,
               dropoff_latitude, dropoff_longitude, trip_start_hour, trip_start_day,
               trip_start_month, pickup_community_area, dropoff_community_area, payment_type,
               company]
train_steps: 150
eval_steps: 20
metrics:
  - {name: AUC, lower_bound: 0.6}
  - {name: BinaryAccuracy}
tflite_variants: [float32]
allow_select_tf_ops: true
on_device_training: false
"""


@pytest.fixture(scope="module")
def tfx_taxi(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfx-taxi")
    shutil.copy(_wheel_taxi() / "taxi_utils_native_keras.py", root)
    (root / "mlops.yaml").write_text(CONFIG)
    home = root / "home"
    result = run_cli("run", "--config", str(root / "mlops.yaml"), "--home", str(home),
                     "--data", str(_wheel_taxi() / "data/simple/data.csv"))
    assert result.returncode == 0, result.stdout + result.stderr
    return root, home, result


def _rows_missing_a_value(inputs: list[dict], count: int) -> list[dict]:
    """Trips of the wheel's simple CSV that each miss at least one value (but hold every
    feature that has no fill value: those are present in every trip)."""
    required = [spec["name"] for spec in inputs if "fill_value" not in spec]
    optional = [spec["name"] for spec in inputs if "fill_value" in spec]
    with open(_wheel_taxi() / "data/simple/data.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle)
                if all(row[k] != "" for k in required) and any(row[k] == "" for k in optional)]
    return rows[:count]


def test_the_module_is_unchanged_and_published_to_all_three_destinations(tfx_taxi):
    root, home, result = tfx_taxi
    assert (root / "taxi_utils_native_keras.py").read_bytes() == (
        _wheel_taxi() / "taxi_utils_native_keras.py").read_bytes()
    out = result.stdout
    assert "SavedModel: auc" in out and "(blessed)" in out
    assert "TFLite: auc" in out, out
    for destination in ("serving/tfx_taxi/1", "hub/mlops/tfx_taxi/1", "mobile/tfx_taxi/1"):
        assert (home / "publish" / destination).is_dir(), destination

    (report,) = home.glob("pipelines/tfx-taxi/Trainer/model/*/Format-TFLite/report.json")
    report = json.loads(report.read_text())
    assert report["raw_signature"].startswith("derived from serving_default")
    # The string fills and the coordinate buckets became builtins; what remains runs on Flex,
    # each op named in the report and the manifest.
    rewritten = " ".join(report["rewrites"])
    assert "SparseToDense (string)" in rewritten and "UpperBound" in rewritten
    manifest = json.loads((home / "publish/mobile/tfx_taxi/1/manifest.json").read_text())
    assert "StringToHashBucketFast" in manifest["ops"]["select_tf_ops"]  # 10 OOV buckets
    assert not {"SparseToDense", "UpperBound"} & set(manifest["ops"]["select_tf_ops"])


def test_its_phone_model_and_hub_module_agree_with_serving_default_on_rows_missing_values(
        tfx_taxi):
    import tensorflow_hub as hub

    _, home, _ = tfx_taxi
    version = home / "publish/mobile/tfx_taxi/1"
    manifest = json.loads((version / "manifest.json").read_text())
    rows = _rows_missing_a_value(manifest["inputs"], 40)
    assert len(rows) == 40
    dense = _dense(rows, manifest["inputs"])
    serving = tf.saved_model.load(str(home / "publish/serving/tfx_taxi/1"))
    expected = serving.signatures["serving_default"](examples=tf.constant(
        [_tf_example(r, manifest["inputs"]) for r in rows]))["outputs"].numpy()

    (float32,) = home.glob("pipelines/tfx-taxi/Trainer/model/*/Format-TFLite/float32/tflite")
    runner = tf.lite.Interpreter(model_path=str(float32)).get_signature_runner()
    np.testing.assert_allclose(runner(**dense)["probabilities"], expected, atol=1e-5)
    published = tf.lite.Interpreter(
        model_content=(version / "model.tflite").read_bytes()).get_signature_runner()
    assert np.mean((published(**dense)["probabilities"] > 0.5) == (expected > 0.5)) >= 0.9

    hub_module = hub.load(str(home / "publish/hub/mlops/tfx_taxi/1"))
    np.testing.assert_allclose(hub_module({k: tf.constant(v) for k, v in dense.items()}),
                               expected, atol=1e-5)
