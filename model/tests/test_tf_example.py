"""The TypeScript tf.Example encoder against TensorFlow itself."""
import numpy as np
import tensorflow as tf

from diabetes_schema import DTYPES, FEATURE_SPEC, FEATURES, INT64_FEATURES, example_of


def test_bytes_equal_tensorflow_serialization(ts_case):
    expected = example_of(ts_case["row"]).SerializeToString(deterministic=True)
    assert ts_case["bytes"] == expected, f"TS {ts_case['bytes'].hex()}\nTF {expected.hex()}"


def test_parse_example_gives_the_row_with_the_model_dtypes(ts_case):
    parsed = tf.io.parse_example(tf.constant([ts_case["bytes"]]), FEATURE_SPEC)
    assert sorted(parsed) == sorted(FEATURES)
    for name in FEATURES:
        assert parsed[name].dtype == DTYPES[name], name
        expected = np.int64(ts_case["row"][name]) if name in INT64_FEATURES else np.float32(ts_case["row"][name])
        assert parsed[name].numpy()[0] == expected, name
