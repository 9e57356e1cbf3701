"""Shared fixtures: the TypeScript encoder's output (written by the Jest test that runs pytest) and the bundled model."""
import base64
import functools
import json
import os
import pathlib

# Before TensorFlow loads: quiet logs, and the same kernels the export was made with.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
BUNDLED_MODEL = REPO / "models" / "diabetes-prediction" / "1"
SAMPLE_ROWS = REPO / "assets" / "diabetes-sample-rows.json"
SAMPLE_PREDICTIONS = REPO / "assets" / "diabetes-sample-predictions.json"
TS_EXAMPLES_ENV = "TS_ENCODED_EXAMPLES"


@functools.cache
def ts_cases():
    """[{name, kind: sample|edge, row, base64}] as encodeDiabetesExample produced them."""
    path = os.environ.get(TS_EXAMPLES_ENV)
    if not path:
        raise pytest.UsageError(f"{TS_EXAMPLES_ENV} is not set: run these tests through `npm test`, which encodes the rows with the TypeScript client first")
    cases = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    if not any(case["kind"] == "sample" for case in cases) or not any(case["kind"] == "edge" for case in cases):
        raise pytest.UsageError(f"{path} must hold sample and edge cases")
    for case in cases:
        case["bytes"] = base64.b64decode(case["base64"])
    return cases


def pytest_generate_tests(metafunc):
    if "ts_case" in metafunc.fixturenames:
        metafunc.parametrize("ts_case", ts_cases(), ids=[case["name"] for case in ts_cases()])


@pytest.fixture(scope="session")
def ts_samples():
    samples = [case for case in ts_cases() if case["kind"] == "sample"]
    assert [case["row"] for case in samples] == json.loads(SAMPLE_ROWS.read_text(encoding="utf-8")), "the sample cases must be the bundled sample rows, in order"
    return samples


@pytest.fixture(scope="session")
def bundled_model():
    return tf.saved_model.load(str(BUNDLED_MODEL))
