"""utils.saved_models.load_model: keras-self-attention's layers on either backend, and errors that name the fix."""
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from utils.saved_models import load_model, package_layers, saved_config, serialized_objects
from utils.self_attention import SeqSelfAttention

ROOT = Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()


def _run(code: str, backend: str, *args, timeout: int = 240) -> str:
    """Run ``code`` in a fresh interpreter on ``backend`` (repository root as cwd); its stdout."""
    env = {**os.environ, "KERAS_BACKEND": backend, "COURSE_FAST": "1", "PYTHONPATH": str(ROOT)}
    env.pop("COURSE_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _rewrite(path: Path, config=None, metadata=None) -> None:
    """Rewrite a .keras archive in place: ``config(dict)`` / ``metadata(dict)`` edit its two JSON files."""
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    for name, edit in (("config.json", config), ("metadata.json", metadata)):
        if edit is not None:
            content = json.loads(files[name])
            edit(content)
            files[name] = json.dumps(content).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


# ------------------------------------------------------------------ models saved with the package, loaded on JAX

def _save_with_the_package(out: Path) -> list[str]:
    """Train and save two models that use keras-self-attention's own layers (TensorFlow only), every option the
    port supports across them; their predictions on a probe go next to the files. The names of the files."""
    from keras_self_attention import SeqSelfAttention as PackageSelfAttention
    from keras_self_attention import SeqWeightedAttention as PackageWeightedAttention

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    T, F = 6, 3
    X = rng.normal(size=(16, T, F)).astype("float32")
    for row, length in zip(X, rng.integers(2, T + 1, size=len(X))):
        row[length:] = 0.0  # right-padded with zeros
    y = rng.integers(0, 2, size=len(X))
    probe = X[:5]

    def stem():
        return [layers.Masking(0.0), layers.Bidirectional(layers.LSTM(4, return_sequences=True))]

    def sequential(*head):
        return keras.Sequential([keras.Input((T, F)), *stem(), *head, layers.Dense(2, activation="softmax")])

    def functional(*head):
        inputs = keras.Input((None, F))
        x = inputs
        for layer in (*stem(), *head):
            x = layer(x)
        return keras.Model(inputs, layers.Dense(2, activation="softmax")(x))

    models = {  # two attention layers in each model: every option set the port supports, in two compilations
        "sequential": sequential(
            PackageSelfAttention(units=4, name="ssa"),
            PackageSelfAttention(attention_type="multiplicative", attention_width=2, history_only=True,
                                 use_attention_bias=False, name="ssa_causal"),
            PackageWeightedAttention(name="swa")),
        "functional": functional(
            PackageSelfAttention(attention_type="multiplicative", attention_width=3, attention_activation="sigmoid",
                                 return_attention=False, name="ssa"),
            PackageSelfAttention(units=5, history_only=True, use_additive_bias=False, use_attention_bias=False,
                                 name="ssa_causal"),
            PackageWeightedAttention(use_bias=False, name="swa")),
    }
    np.save(out / "probe.npy", probe)
    for name, model in models.items():
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=False)
        model.fit(X, y, epochs=1, batch_size=8, verbose=0)
        model.save(out / f"{name}.keras")
        np.save(out / f"{name}.npy", np.asarray(model(probe)))
    return list(models)


LOAD_ON_JAX = """
    import json
    import sys
    from pathlib import Path

    import keras
    import numpy as np

    from utils.saved_models import load_model

    assert keras.backend.backend() == "jax"
    out = Path(sys.argv[1])
    probe = np.load(out / "probe.npy")
    results = {}
    for name in sys.argv[2:]:
        model = load_model(out / f"{name}.keras")
        gap = float(np.max(np.abs(np.asarray(model(probe)) - np.load(out / f"{name}.npy"))))
        kinds = sorted({f"{type(layer).__module__}.{type(layer).__name__}" for layer in model.layers
                        if "Attention" in type(layer).__name__})
        results[name] = {"gap": gap, "layers": kinds}
    print("RESULTS " + json.dumps(results))
"""


@pytest.mark.tensorflow_only  # saved here with the package (TensorFlow only), loaded in a fresh JAX process
def test_models_saved_with_the_package_on_tensorflow_load_into_the_ports_on_jax(tmp_path):
    names = _save_with_the_package(tmp_path)
    assert names == ["sequential", "functional"]
    for name in names:  # the package's layers are saved under its module and their bare class names
        used = [(obj["module"], obj["registered_name"])
                for obj in serialized_objects(saved_config(tmp_path / f"{name}.keras"))
                if (obj.get("module") or "").startswith("keras_self_attention")]
        assert ("keras_self_attention.seq_self_attention", "SeqSelfAttention") in used
    out = _run(LOAD_ON_JAX, "jax", tmp_path, *names)
    results = json.loads(out.split("RESULTS ", 1)[1])
    for name, result in results.items():
        assert result["gap"] <= 1e-5, (name, result)
        assert result["layers"] == ["utils.pooling.SeqWeightedAttention", "utils.self_attention.SeqSelfAttention"]
    notes = [line for line in out.splitlines() if line.startswith("loaded ")]
    assert len(notes) == 2, out
    assert ("SeqSelfAttention mapped to utils.self_attention.SeqSelfAttention, SeqWeightedAttention mapped to "
            "utils.pooling.SeqWeightedAttention") in notes[0]


def _as_if_saved_with_the_package(path: Path) -> None:
    """Make a file saved with the course's port look as keras-self-attention writes it (module, bare name)."""
    modules = {"SeqSelfAttention": "keras_self_attention.seq_self_attention",
               "SeqWeightedAttention": "keras_self_attention.seq_weighted_attention"}

    def edit(config):
        for obj in serialized_objects(config):
            if obj.get("registered_name") in (f"course>{name}" for name in modules):
                obj["module"], obj["registered_name"] = modules[obj["class_name"]], obj["class_name"]

    _rewrite(path, config=edit)


def test_the_packages_layers_load_on_this_backend_and_a_mapping_is_announced(tmp_path, capsys):
    from utils.pooling import SeqWeightedAttention

    inputs = keras.Input((5, 3))
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(layers.Masking()(inputs))
    x = SeqWeightedAttention(name="swa")(SeqSelfAttention(units=4, name="ssa")(x))
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))
    path = tmp_path / "package.keras"
    model.save(path)
    _as_if_saved_with_the_package(path)
    assert package_layers(saved_config(path)) == ["SeqSelfAttention", "SeqWeightedAttention"]
    probe = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    probe[0, 3:] = 0.0
    capsys.readouterr()
    loaded = load_model(path)
    note = capsys.readouterr().out
    assert loaded.get_layer("ssa").get_weights()[0].shape == (6, 4)
    try:
        import keras_self_attention  # noqa: F401
        package_here = BACKEND == "tensorflow"
    except ImportError:
        package_here = False
    if package_here:  # TensorFlow with the package: its own classes, nothing to announce
        assert type(loaded.get_layer("ssa")).__module__.startswith("keras_self_attention")
        assert type(loaded.get_layer("swa")).__module__.startswith("keras_self_attention")
        assert note == ""
    else:
        assert type(loaded.get_layer("ssa")) is SeqSelfAttention
        assert type(loaded.get_layer("swa")) is SeqWeightedAttention
        assert "keras-self-attention's SeqSelfAttention mapped to utils.self_attention.SeqSelfAttention" in note
        assert "SeqWeightedAttention mapped to utils.pooling.SeqWeightedAttention" in note
        assert "exact keras.ops ports" in note
    np.testing.assert_allclose(np.asarray(loaded(probe)), np.asarray(model(probe)), atol=1e-5)
    capsys.readouterr()
    load_model(path, verbose=False)
    assert capsys.readouterr().out == ""


def test_a_model_saved_with_the_course_layers_loads_without_a_note(tmp_path, capsys):
    model = keras.Sequential([keras.Input((4, 2)), layers.Masking(), SeqSelfAttention(units=2, name="ssa"),
                              layers.GlobalAveragePooling1D(), layers.Dense(1)])
    path = tmp_path / "course.keras"
    model.save(path)
    assert package_layers(saved_config(path)) == []
    capsys.readouterr()
    assert type(load_model(path).get_layer("ssa")) is SeqSelfAttention
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------------------------------ errors that name the fix

class MyLayer(layers.Layer):  # deliberately not registered
    def call(self, inputs):
        return inputs * 2.0


def test_an_unknown_custom_layer_names_the_class_and_the_custom_objects_call(tmp_path):
    model = keras.Sequential([keras.Input((3,)), MyLayer(name="mine"), layers.Dense(1)])
    path = tmp_path / "custom.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"MyLayer.*custom_objects=\{\"MyLayer\": MyLayer\}") as caught:
        load_model(path)
    assert f"load_model({str(path)!r}, custom_objects=" in str(caught.value)
    loaded = load_model(path, custom_objects={"MyLayer": MyLayer})  # the fix it names works
    assert type(loaded.get_layer("mine")) is MyLayer


@pytest.mark.skipif(BACKEND == "tensorflow", reason="on TensorFlow the package's own classes are used")
def test_a_package_layer_without_a_port_off_tensorflow_says_to_use_tensorflow(tmp_path):
    model = keras.Sequential([keras.Input((4, 2)), SeqSelfAttention(units=2, name="ssa"), layers.Flatten()])
    path = tmp_path / "scaled.keras"
    model.save(path)

    def edit(config):
        for obj in serialized_objects(config):
            if obj.get("registered_name") == "course>SeqSelfAttention":
                obj.update(module="keras_self_attention.scaled_dot_attention", class_name="ScaledDotProductAttention",
                           registered_name="ScaledDotProductAttention")

    _rewrite(path, config=edit)
    with pytest.raises(ValueError, match="ScaledDotProductAttention.*COURSE_BACKEND=tensorflow"):
        load_model(path)


def _unreadable_initializer(config):
    for obj in serialized_objects(config):
        if obj.get("class_name") == "GlorotUniform":
            obj["config"]["an_argument_from_the_future"] = None


def test_a_file_from_a_newer_keras_that_fails_names_both_versions_and_the_fix(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    path = tmp_path / "future.keras"
    model.save(path)
    _rewrite(path, config=_unreadable_initializer, metadata=lambda meta: meta.update(keras_version="9.0.0"))
    with pytest.raises(ValueError, match=r"Keras 9\.0\.0") as caught:
        load_model(path)
    message = str(caught.value)
    assert f"Keras {keras.__version__}" in message
    assert 'pip install -U "keras>=9.0.0"' in message and "load_weights" in message and "re-save" in message
    assert "unexpected keyword argument 'an_argument_from_the_future'" in message  # the cause, not Keras' wrapper
    # the same unreadable file claiming this Keras: Keras' own error, no version advice
    _rewrite(path, metadata=lambda meta: meta.update(keras_version=keras.__version__))
    with pytest.raises(Exception) as caught:
        load_model(path)
    assert "pip install -U" not in str(caught.value)
    # a file from a newer Keras that loads is just loaded
    model.save(path)
    _rewrite(path, metadata=lambda meta: meta.update(keras_version="9.0.0"))
    assert isinstance(load_model(path), keras.Model)


# ------------------------------------------------------------------------------------------------- the CLI

@pytest.mark.once  # a fresh process on the backend COURSE_BACKEND names, whatever this run's backend
def test_the_command_line_chooses_the_backend_as_the_notebooks_do_and_says_which():
    env = {**os.environ, "COURSE_BACKEND": "jax", "KERAS_BACKEND": "tensorflow", "COURSE_FAST": "1"}
    done = subprocess.run([sys.executable, "-m", "utils.diagnose", "data/clinic_example_model.keras",
                           "data/clinic_example.npz"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "backend: jax (COURSE_BACKEND=jax|tensorflow overrides)", done.stdout[:500]
    assert lines[1].startswith("Clinic report: model 'learner_model' on clinic_example")


# ------------------------------------------------------------------ every model file the course ships

def test_every_shipped_model_file_loads_and_predicts():
    """data/*.keras load on this Keras and backend (make test-oldest runs this on the lowest admitted Keras)."""
    from utils.checksums import DATA_DIR, listed_files, verified_path
    from utils.data import load_dataset

    shipped = [name for name in listed_files(DATA_DIR) if name.endswith(".keras")]
    assert shipped, "no .keras file listed in data/SHA256SUMS"
    for name in shipped:
        model = load_model(verified_path(DATA_DIR, name), verbose=False)
        data = load_dataset(verified_path(DATA_DIR, "clinic_example.npz"))
        probabilities = model.predict(data.test.X[:8], verbose=0)
        assert probabilities.shape == (8, data.n_classes) and np.all(np.isfinite(probabilities)), name
