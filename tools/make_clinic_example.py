"""Write lesson 07's "plug in your model" example: data/clinic_example.npz and data/clinic_example_model.keras.

Usage: .venv-oldest/bin/python -m tools.make_clinic_example   (then update data/SHA256SUMS: cd data && sha256sum ...)

Run it with the lowest Keras requirements.txt admits (the environment ``make test-oldest`` builds), so that every
admitted Keras reads the file: a .keras file records each layer's full configuration, and an older Keras cannot
read the arguments a newer one adds (Keras 3.13, Colab's in 2026, fails on a file written by 3.15 with
"GlorotUniform.__init__() got an unexpected keyword argument 'input_axes'"). A newer Keras reads older files.
``make test-oldest`` loads every shipped model file, so a file written by a newer Keras fails there.

The data is synthetic (utils.data.make_motif_task, seeded): 3 classes of 3-channel "sensor" sequences, 20 to 40
steps, raw (unscaled) values, and one class made rare. The model is a learner's, with faults the clinic finds:
keras-self-attention 0.51.0's SeqSelfAttention (the course's keras.ops copy, so it loads on every backend), which
lets real steps attend to padding, and binary cross-entropy on a softmax over three classes (Q004's loss).
A .keras file is a zip that records when it was written, so a re-run gives new checksums.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from utils.runtime import setup_notebook

ROOT = Path(__file__).resolve().parents[1]

CLASS_NAMES = ("idle", "walk", "fall")


def example_arrays(seed: int = 11) -> dict[str, np.ndarray]:
    from utils.data import make_motif_task

    task = make_motif_task(240, 120, min_len=20, max_len=40, n_classes=3, n_features=3, motif_len=6, seed=seed)
    rng = np.random.default_rng(seed)
    arrays = {}
    for _split, part, suffix in (("train", task.train, ""), ("test", task.test, "_test")):
        keep = np.flatnonzero((part.y != 2) | (rng.random(len(part)) < 0.25))   # "fall" is rare
        raw = part.X[keep] * np.array([40.0, 2.0, 0.5]) + np.array([500.0, -3.0, 9.0])   # sensor units
        raw *= part.mask[keep][..., None]                                        # padding stays exactly 0
        arrays.update({f"X{suffix}": raw.astype(np.float32), f"y{suffix}": part.y[keep].astype(np.int32),
                       f"lengths{suffix}": part.lengths[keep].astype(np.int32)})
    arrays["class_names"] = np.array(CLASS_NAMES)
    return arrays


def example_model(data):
    import keras
    from keras import layers

    from utils.self_attention import SeqSelfAttention

    inputs = keras.Input(data.train.X.shape[1:], name="sensors")
    x = layers.Masking(mask_value=0.0)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = SeqSelfAttention(attention_type="multiplicative", name="self_attention")(x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax")(x), name="learner_model")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)   # --help, nothing else
    setup_notebook(seed=0, backend="tensorflow")
    import keras

    from utils.data import DATA_DIR, load_dataset

    data_path, model_path = DATA_DIR / "clinic_example.npz", DATA_DIR / "clinic_example_model.keras"
    np.savez_compressed(data_path, **example_arrays())
    data = load_dataset(data_path)
    model = example_model(data)
    one_hot = keras.utils.to_categorical(data.train.y, data.n_classes)
    model.fit(data.train.X, one_hot, epochs=5, batch_size=32, verbose=0)
    model.save(model_path)
    print(f"wrote {data_path.name} ({data_path.stat().st_size:,} bytes) and {model_path.name} "
          f"({model_path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
