"""A user's own CSV data and module run through the platform with configuration alone."""

from __future__ import annotations

import csv
import glob
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_iris

from tests.conftest import run_cli

pytestmark = pytest.mark.e2e
PROJECT = Path(__file__).parent / "fixtures" / "iris"


def test_csv_data_and_user_module_train_gate_and_push(tmp_path):
    iris = load_iris()
    data = tmp_path / "iris-data"
    data.mkdir()
    with open(data / "iris.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
        for row, label in zip(iris.data, iris.target):
            writer.writerow([*map(float, row), int(label)])
    home = tmp_path / "home"

    result = run_cli("run", "--config", str(PROJECT / "mlops.yaml"), "--home", str(home),
                     env={"MLOPS_DATA": str(data)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "(csv, 1 file(s), 150 records checked)" in result.stdout
    assert "TFLite: sparse_categorical_accuracy" in result.stdout and "Pushed version" in result.stdout
    (version,) = glob.glob(str(home / "publish/serving/iris/*"))
    interpreter = tf.lite.Interpreter(model_path=str(Path(version) / "tflite"))
    runner = interpreter.get_signature_runner("serving_default")
    columns = {name: iris.data[:, i:i + 1].astype(np.float32) for i, name in enumerate(
        ["sepal_length", "sepal_width", "petal_length", "petal_width"])}
    predicted = runner(**columns)["probabilities"].argmax(axis=1)
    assert np.mean(predicted == iris.target) > 0.8
