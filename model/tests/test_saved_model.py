"""The committed SavedModel, as TF Serving would call it, answering the TypeScript client's bytes."""
import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import BUNDLED_MODEL, REPO, SAMPLE_PREDICTIONS
from diabetes_schema import DTYPES, FEATURES, example_of

TOLERANCE = 1e-6


def raw_columns(rows):
    return {name: tf.constant([row[name] for row in rows], dtype=DTYPES[name]) for name in FEATURES}


def serve(model, serialized):
    return model.signatures["serving_default"](examples=tf.constant(serialized))["outputs"].numpy()


def test_signature_is_the_tfx_interface(bundled_model):
    signature = bundled_model.signatures["serving_default"]
    assert signature.structured_input_signature == ((), {"examples": tf.TensorSpec([None], tf.string, name="examples")})
    assert signature.structured_outputs == {"outputs": tf.TensorSpec([None, 1], tf.float32, name="outputs")}


def test_answers_ts_encoded_rows_like_the_model_on_raw_rows(bundled_model, ts_samples):
    served = serve(bundled_model, [case["bytes"] for case in ts_samples])
    raw = bundled_model.predict_features(raw_columns([case["row"] for case in ts_samples])).numpy()
    assert served.shape == (len(ts_samples), 1)
    assert np.all((served > 0) & (served < 1)), served
    np.testing.assert_allclose(served, raw, rtol=0, atol=TOLERANCE)


def test_loads_and_answers_the_way_tf_serving_does(ts_samples):
    """TF Serving loads the MetaGraph tagged `serve` into a session and runs the signature's tensors by name."""
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(BUNDLED_MODEL))
        signature = meta_graph.signature_def["serving_default"]
        assert signature.method_name == "tensorflow/serving/predict"
        served = session.run(signature.outputs["outputs"].name, {signature.inputs["examples"].name: [case["bytes"] for case in ts_samples]})
    fixture = json.loads(SAMPLE_PREDICTIONS.read_text(encoding="utf-8"))
    np.testing.assert_allclose(served[:, 0], [entry["probability"] for entry in fixture["predictions"]], rtol=0, atol=TOLERANCE)


def test_sample_predictions_fixture_matches_the_committed_model(bundled_model, ts_samples):
    fixture = json.loads(SAMPLE_PREDICTIONS.read_text(encoding="utf-8"))
    assert fixture["model"] == BUNDLED_MODEL.relative_to(REPO).as_posix()
    assert [entry["row"] for entry in fixture["predictions"]] == [case["row"] for case in ts_samples]
    served = serve(bundled_model, [case["bytes"] for case in ts_samples])[:, 0]
    fixed = np.array([entry["probability"] for entry in fixture["predictions"]])
    np.testing.assert_allclose(fixed, served, rtol=0, atol=TOLERANCE, err_msg="re-export the model with model/train.py, which rewrites the fixture")


def _without(row, name):
    return {key: value for key, value in row.items() if key != name}


def _glucose_as_float(row):
    example = example_of(row)
    example.features.feature["Glucose"].Clear()
    example.features.feature["Glucose"].float_list.value.append(row["Glucose"] + 0.5)
    return example


@pytest.mark.parametrize(
    "make_example",
    [lambda row: example_of(_without(row, "Age")), _glucose_as_float, lambda row: tf.train.Example()],
    ids=["a row missing Age", "Glucose as a float", "an empty Example"],
)
def test_malformed_examples_fail_to_parse(bundled_model, ts_samples, make_example):
    """TF Serving reports these as INVALID_ARGUMENT (HTTP 400)."""
    with pytest.raises(tf.errors.InvalidArgumentError):
        serve(bundled_model, [make_example(ts_samples[0]["row"]).SerializeToString(deterministic=True)])


def test_nan_would_reach_the_model_which_is_why_the_encoder_refuses_it(bundled_model, ts_samples):
    serialized = example_of({**ts_samples[0]["row"], "BMI": float("nan")}).SerializeToString(deterministic=True)
    assert np.isnan(serve(bundled_model, [serialized])[0, 0])
