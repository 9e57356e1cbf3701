"""model/train.py on a small synthetic CSV (the real data set is not part of the repository)."""
import csv
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import SAMPLE_PREDICTIONS
from diabetes_schema import DTYPES, FEATURES, LABEL
from train import stratified_split

TRAIN_SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "train.py"
GLUCOSE_WHEN_MEASURED = 120


def write_synthetic_csv(path, count=80):
    """Pima-shaped rows; every measured Glucose is 120, so the imputed mean is 120 whatever the split."""
    rng = np.random.default_rng(7)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FEATURES, LABEL])
        for index in range(count):
            bmi = round(float(rng.uniform(18, 50)), 1)
            glucose = 0 if index % 5 == 0 else GLUCOSE_WHEN_MEASURED
            writer.writerow([int(rng.integers(0, 12)), glucose, int(rng.integers(50, 100)), int(rng.integers(0, 50)), int(rng.integers(0, 300)), bmi, round(float(rng.uniform(0.1, 2)), 3), int(rng.integers(21, 70)), int(bmi > 32)])


def train(csv_path, export_dir):
    result = subprocess.run([sys.executable, str(TRAIN_SCRIPT), str(csv_path), "--export-dir", str(export_dir), "--version", "3"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def predict_raw(version_dir, rows):
    model = tf.saved_model.load(str(version_dir))
    return model.predict_features({name: tf.constant([row[name] for row in rows], dtype=DTYPES[name]) for name in FEATURES}).numpy()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    write_synthetic_csv(root / "synthetic.csv")
    fixture_before = SAMPLE_PREDICTIONS.read_bytes()
    logs = [train(root / "synthetic.csv", root / name) for name in ("first", "second")]
    assert SAMPLE_PREDICTIONS.read_bytes() == fixture_before, "an export outside models/diabetes-prediction must not rewrite the sample predictions"
    return root / "first" / "3", root / "second" / "3", logs


def test_reports_holdout_metrics_and_training_time(two_runs):
    log = two_runs[2][0]
    for line in ("holdout accuracy: ", "holdout ROC AUC: ", "training time: ", "rows: 64 training, 16 holdout"):
        assert line in log


def test_two_runs_give_the_same_predictions_and_weights(two_runs):
    first, second, _ = two_runs
    row = {"Pregnancies": 2, "Glucose": 120, "BloodPressure": 70, "SkinThickness": 20, "Insulin": 80, "BMI": 31.5, "DiabetesPedigreeFunction": 0.5, "Age": 33}
    np.testing.assert_array_equal(predict_raw(first, [row]), predict_raw(second, [row]))
    for name in ("saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_zero_glucose_is_replaced_by_the_training_mean(two_runs):
    row = {"Pregnancies": 2, "Glucose": GLUCOSE_WHEN_MEASURED, "BloodPressure": 70, "SkinThickness": 20, "Insulin": 80, "BMI": 31.5, "DiabetesPedigreeFunction": 0.5, "Age": 33}
    measured, missing = predict_raw(two_runs[0], [row, {**row, "Glucose": 0}])
    assert measured == pytest.approx(missing, abs=1e-7)


def test_stratified_split_keeps_the_class_balance():
    labels = np.array([1] * 30 + [0] * 70)
    train_rows, holdout = stratified_split(labels, 0.2, np.random.default_rng(1))
    assert sorted([*train_rows, *holdout]) == list(range(100))
    assert labels[holdout].sum() == 6 and len(holdout) == 20


def test_refuses_a_csv_with_another_header(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(TRAIN_SCRIPT), str(tmp_path / "bad.csv"), "--export-dir", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "header must be Pregnancies,Glucose" in result.stderr
