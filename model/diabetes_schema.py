"""The Pima diabetes data's raw schema, shared by training, export and the tests.

The served signature parses serialized tf.Example protos with FEATURE_SPEC, the raw schema of the
original TFX pipeline: int64 counts and measurements, float BMI and pedigree function.
"""
import csv

import tensorflow as tf

INT64_FEATURES = ("Pregnancies", "Glucose", "BloodPressure", "SkinThickness", "Insulin", "Age")
FLOAT_FEATURES = ("BMI", "DiabetesPedigreeFunction")
# Column order of the CSV, which is also the order of the model's input vector.
FEATURES = ("Pregnancies", "Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI", "DiabetesPedigreeFunction", "Age")
LABEL = "Outcome"
# The data set records "not measured" as 0 for these; the model replaces 0 with the training mean of the rest.
ZERO_MEANS_MISSING = ("Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI")

DTYPES = {name: tf.int64 for name in INT64_FEATURES} | {name: tf.float32 for name in FLOAT_FEATURES}
# No default values: an Example without a feature, or with the wrong list type, fails to parse
# (TF Serving answers INVALID_ARGUMENT) instead of being scored on made-up input.
FEATURE_SPEC = {name: tf.io.FixedLenFeature([], DTYPES[name]) for name in FEATURES}


def read_csv(path):
    """Rows of a Pima CSV as (features dict of Python numbers, label); fails on a different header."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = [*FEATURES, LABEL]
        if reader.fieldnames != expected:
            raise ValueError(f"{path}: header must be {','.join(expected)} (got {','.join(reader.fieldnames or [])})")
        rows = []
        for line_number, record in enumerate(reader, start=2):
            try:
                features = {name: int(record[name]) if name in INT64_FEATURES else float(record[name]) for name in FEATURES}
                rows.append((features, int(record[LABEL])))
            except ValueError as error:
                raise ValueError(f"{path}:{line_number}: {error}") from error
    if not rows:
        raise ValueError(f"{path}: no data rows")
    return rows


def example_of(row):
    """The tf.train.Example TensorFlow itself builds for a row (the reference the TS encoder must match)."""
    feature = {}
    for name, value in row.items():
        if name in INT64_FEATURES:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature=feature))
