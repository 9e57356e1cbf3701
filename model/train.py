"""Trains the demo diabetes model and exports it the way TFX's Pusher did, for TF Serving.

    python model/train.py path/to/diabetes.csv [--export-dir models/diabetes-prediction] [--version 1]

Preprocessing lives inside the exported graph, as TFX Transform put it there: 0 means "missing" for
Glucose, BloodPressure, SkinThickness, Insulin and BMI and becomes the training mean of the non-zero
values; then every feature is z-scored with training statistics. The `serving_default` signature takes
serialized tf.Example strings (`examples`) and returns the probability of diabetes (`outputs`, [None, 1]).
Exporting the bundled model (the defaults) also writes its answers for assets/diabetes-sample-rows.json,
which the fakes serve.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import time

# Before TensorFlow loads: oneDNN picks kernels by CPU, so the same seed could give other weights elsewhere.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

from diabetes_schema import DTYPES, FEATURE_SPEC, FEATURES, ZERO_MEANS_MISSING, example_of, read_csv  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
SEED = 42
HOLDOUT_FRACTION = 0.2
EPOCHS = 60
BATCH_SIZE = 32
LEARNING_RATE = 0.005
SAMPLE_ROWS = REPO / "assets" / "diabetes-sample-rows.json"
# What the fakes answer for the sample rows; written only when the bundled model is re-exported.
SAMPLE_PREDICTIONS = REPO / "assets" / "diabetes-sample-predictions.json"
BUNDLED_VERSION_DIR = REPO / "models" / "diabetes-prediction" / "1"


def stratified_split(labels, fraction, rng):
    """Indices of training and holdout rows, each class split in the same proportion."""
    holdout = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        holdout.extend(members[: round(len(members) * fraction)])
    holdout = np.sort(np.array(holdout))
    train = np.setdiff1d(np.arange(len(labels)), holdout)
    return train, holdout


def columns(rows):
    """Raw rows as one numpy array per feature, in the dtype the parsed tf.Example gives."""
    return {name: np.array([row[name] for row in rows], dtype=DTYPES[name].as_numpy_dtype) for name in FEATURES}


def roc_auc(labels, scores):
    """Exact ROC AUC: the chance that a random positive scores above a random negative (ties count half)."""
    difference = scores[labels == 1][:, None] - scores[labels == 0][None, :]
    return (np.sum(difference > 0) + 0.5 * np.sum(difference == 0)) / difference.size


def preprocessing_statistics(raw):
    """Imputation means (non-zero values) and z-score mean/std after imputation, from training rows only."""
    impute, mean, std = {}, {}, {}
    for name in FEATURES:
        values = raw[name].astype(np.float64)
        if name in ZERO_MEANS_MISSING:
            impute[name] = values[values != 0].mean()
            values = np.where(values == 0, impute[name], values)
        # A constant feature carries no information; dividing by 1 keeps it at 0 instead of NaN.
        mean[name], std[name] = values.mean(), values.std() or 1.0
    return impute, mean, std


def preprocess(features, statistics):
    """Raw feature tensors -> the network's [batch, 8] float32 input; the statistics become graph constants."""
    impute, mean, std = statistics
    scaled = []
    for name in FEATURES:
        value = tf.cast(features[name], tf.float32)
        if name in ZERO_MEANS_MISSING:
            value = tf.where(tf.equal(value, 0.0), tf.constant(impute[name], tf.float32), value)
        scaled.append((value - mean[name]) / std[name])
    return tf.stack(scaled, axis=1)


class DiabetesModel(tf.Module):
    """Raw features -> probability: the preprocessing, then the trained network's dense layers.

    The layers' weights are copied into plain tf.Variables rather than exporting the Keras network: TF
    Serving does not find the variables of a Keras 3 model saved inside a tf.Module ("Could not find
    variable ...", keras-team/keras#20095), while plain variables load the way TF Serving loads any
    SavedModel (see model/tests/test_saved_model.py).
    """

    def __init__(self, network, statistics):
        super().__init__()
        self._statistics = tuple({name: float(value) for name, value in part.items()} for part in statistics)
        dense = [layer for layer in network.layers if isinstance(layer, keras.layers.Dense)]
        self.kernels = [tf.Variable(layer.kernel.numpy(), trainable=False, name="kernel") for layer in dense]
        self.biases = [tf.Variable(layer.bias.numpy(), trainable=False, name="bias") for layer in dense]

    @tf.function(input_signature=[{name: tf.TensorSpec([None], DTYPES[name], name=name) for name in FEATURES}])
    def predict_features(self, features):
        """The prediction on raw feature values, without tf.Example (kept in the SavedModel for the tests)."""
        hidden = preprocess(features, self._statistics)
        for kernel, bias in zip(self.kernels[:-1], self.biases[:-1]):
            hidden = tf.nn.relu(tf.matmul(hidden, kernel) + bias)
        return tf.sigmoid(tf.matmul(hidden, self.kernels[-1]) + self.biases[-1])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        return {"outputs": self.predict_features(tf.io.parse_example(examples, FEATURE_SPEC))}


def build_network():
    """8 -> 16 -> 8 -> 1: relu hidden layers, a sigmoid output (DiabetesModel relies on this shape)."""
    return keras.Sequential(
        [
            keras.Input(shape=(len(FEATURES),)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def fit(network, inputs, labels, rng):
    """Mini-batch Adam on binary cross-entropy; batches drawn from a seeded generator."""
    optimizer = keras.optimizers.Adam(learning_rate=LEARNING_RATE)
    loss = keras.losses.BinaryCrossentropy()

    @tf.function
    def step(batch_inputs, batch_labels):
        with tf.GradientTape() as tape:
            value = loss(batch_labels, network(batch_inputs, training=True))
        optimizer.apply_gradients(zip(tape.gradient(value, network.trainable_variables), network.trainable_variables))

    count = int(inputs.shape[0])
    for _ in range(EPOCHS):
        order = rng.permutation(count)
        for start in range(0, count, BATCH_SIZE):
            batch = tf.constant(order[start : start + BATCH_SIZE])
            step(tf.gather(inputs, batch), tf.gather(labels, batch))


def write_sample_predictions(version_dir):
    """The exported model's answers for the sample rows, through its serving signature, as the fakes serve them."""
    rows = json.loads(SAMPLE_ROWS.read_text(encoding="utf-8"))
    serving = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    examples = tf.constant([example_of(row).SerializeToString(deterministic=True) for row in rows])
    probabilities = serving(examples=examples)["outputs"].numpy()[:, 0]
    fixture = {
        "model": version_dir.relative_to(REPO).as_posix(),
        "predictions": [{"row": row, "probability": float(probability)} for row, probability in zip(rows, probabilities)],
    }
    SAMPLE_PREDICTIONS.write_text(json.dumps(fixture, indent=2) + "\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="CSV in the Pima Indians Diabetes format (header Pregnancies,...,Age,Outcome)")
    parser.add_argument("--export-dir", default=str(REPO / "models" / "diabetes-prediction"), help="model folder; the export goes to <dir>/<version>/")
    parser.add_argument("--version", type=int, default=1, help="numeric version folder (TF Serving serves the largest)")
    args = parser.parse_args(argv)
    if args.version < 0:
        parser.error("--version must be a whole number >= 0 (TF Serving ignores other folder names)")

    # Same data + same seed + deterministic ops on one thread = the same weights on every run.
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)

    try:
        rows = read_csv(args.csv)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    labels = np.array([label for _, label in rows], dtype=np.float32)
    train, holdout = stratified_split(labels, HOLDOUT_FRACTION, np.random.default_rng(SEED))
    raw = columns([features for features, _ in rows])
    raw_train = {name: values[train] for name, values in raw.items()}
    raw_holdout = {name: values[holdout] for name, values in raw.items()}

    statistics = preprocessing_statistics(raw_train)
    network = build_network()
    started = time.perf_counter()
    fit(network, preprocess(raw_train, statistics), tf.constant(labels[train][:, None]), np.random.default_rng(SEED))
    training_seconds = time.perf_counter() - started
    model = DiabetesModel(network, statistics)

    probabilities = model.predict_features(raw_holdout).numpy()[:, 0]
    print(f"rows: {len(train)} training, {len(holdout)} holdout (stratified, seed {SEED})")
    print(f"holdout accuracy: {np.mean((probabilities >= 0.5) == (labels[holdout] == 1)):.4f}")
    print(f"holdout ROC AUC: {roc_auc(labels[holdout], probabilities):.4f}")
    print(f"training time: {training_seconds:.1f} s ({EPOCHS} epochs)")

    export_dir = pathlib.Path(args.export_dir).resolve()
    version_dir = export_dir / str(args.version)
    if version_dir.exists():
        shutil.rmtree(version_dir)
    tf.saved_model.save(model, str(version_dir), signatures={"serving_default": model.serve})
    print(f"exported SavedModel: {version_dir}")
    if version_dir == BUNDLED_VERSION_DIR:
        write_sample_predictions(version_dir)
        print(f"sample predictions: {SAMPLE_PREDICTIONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
