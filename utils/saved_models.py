"""Loading a learner's saved model on either backend: ``load_model(path)``, with errors that name the fix.

A ``.keras`` file is a zip archive: ``config.json`` (every layer's ``module``, ``class_name`` and
``registered_name``), ``metadata.json`` (the ``keras_version`` that wrote it) and ``model.weights.h5``.
``load_model`` reads the first two before loading, so it knows which layers need help:

* keras-self-attention's layers (``module`` ``keras_self_attention.*``, ``registered_name`` the bare class name)
  run only on TensorFlow. There the package's classes are passed to Keras; on JAX, or where the package is not
  installed, its ``SeqSelfAttention`` and ``SeqWeightedAttention`` load as the course's exact ``keras.ops`` ports
  (:class:`utils.self_attention.SeqSelfAttention`, :class:`utils.pooling.SeqWeightedAttention`: the same config
  keys, weights and arithmetic), and one printed line says so.
* The course's own layers are registered (``course>...``) and need nothing.
* Any other class Keras cannot find, or a file from a newer Keras that this Keras cannot read, is a
  ``ValueError`` that names the class or both versions and the fix.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import keras

PACKAGE = "keras_self_attention"
#: keras-self-attention's layers that the course ports exactly, by class name: (module, class) of the port.
PORTS = {"SeqSelfAttention": ("utils.self_attention", "SeqSelfAttention"),
         "SeqWeightedAttention": ("utils.pooling", "SeqWeightedAttention")}


def saved_config(path: str | Path) -> dict | None:
    """The model config stored in a saved model, or None where it cannot be read.

    ``.keras``: ``config.json`` inside the zip archive. Legacy ``.h5``: the ``model_config`` attribute (read with
    h5py, which Keras requires).

    Args:
        path: a ``.keras`` or legacy ``.h5`` file.

    Returns:
        The parsed config dict; None when the file is missing, unreadable or holds no config (the error is left to
        Keras' own loader).
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        import h5py

        with h5py.File(path, "r") as file:
            config = file.attrs.get("model_config")
        return json.loads(config) if config is not None else None
    except Exception:  # noqa: BLE001 - an unreadable file is Keras' error to report, not ours
        return None


def saved_keras_version(path: str | Path) -> str | None:
    """The ``keras_version`` a ``.keras`` file's ``metadata.json`` records (None for other files).

    Args:
        path: a saved model file.

    Returns:
        The version string, e.g. ``"3.12.0"``, or None.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("metadata.json")).get("keras_version")
    except Exception:  # noqa: BLE001 - not a .keras archive, or no metadata
        return None


def _newer(saved: str, installed: str) -> bool:
    """Whether the Keras version ``saved`` is newer than ``installed`` (``packaging``'s version order; a version
    that does not parse counts as not newer)."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(saved) > Version(installed)
    except InvalidVersion:
        return False


def serialized_objects(node):
    """Every serialized Keras object in a config, nested ones (Bidirectional's layer, submodels) included.

    Args:
        node: a config, or any part of one (dicts and lists are walked).

    Yields:
        Each dict that has a string ``class_name``, outer objects before the ones nested in them.
    """
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str):
            yield node
        for value in node.values():
            yield from serialized_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from serialized_objects(value)


def _is_package_object(obj: dict) -> bool:
    """A keras-self-attention object: by its module in a ``.keras`` file; a legacy ``.h5`` records no module,
    only the bare class name (the course's layers are saved as ``course>...``)."""
    module = obj.get("module")
    if module is not None:
        return module == PACKAGE or module.startswith(PACKAGE + ".")
    return "module" not in obj and obj["class_name"] in PORTS


def package_layers(config) -> list[str]:
    """The class names of keras-self-attention layers a saved config uses, in order of first use.

    Args:
        config: a saved model's config (:func:`saved_config`).

    Returns:
        The class names without repeats, e.g. ``["SeqSelfAttention", "SeqWeightedAttention"]``.
    """
    return list(dict.fromkeys(obj["class_name"] for obj in serialized_objects(config) if _is_package_object(obj)))


def _package_classes() -> dict:
    """keras-self-attention's layer classes by name on the TensorFlow backend; {} where it cannot be used."""
    if keras.backend.backend() != "tensorflow":
        return {}  # its layers call TensorFlow ops; importing it would import TensorFlow for nothing
    try:
        import keras_self_attention as package
    except ImportError:
        return {}
    classes = {}
    for name, cls in vars(package).items():
        if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
            classes[name] = cls
            if hasattr(cls, "get_custom_objects"):
                classes.update(cls.get_custom_objects())
    return classes


def _ports() -> dict:
    import importlib

    return {name: getattr(importlib.import_module(module), cls) for name, (module, cls) in PORTS.items()}


def _unresolved_classes(config, custom_objects: dict) -> list[str]:
    """Classes in a ``.keras`` config that Keras will not find: not Keras' own and neither registered nor in
    ``custom_objects`` (the lookup Keras' deserialisation makes)."""
    missing = []
    for obj in serialized_objects(config):
        module = obj.get("module")
        if not module or obj["class_name"] == "function" or module.split(".")[0] in (
                "keras", "keras_hub", "keras_cv", "keras_nlp", "builtins"):
            continue
        name = obj.get("registered_name") or obj["class_name"]
        if keras.saving.get_registered_object(name, custom_objects=custom_objects) is None:
            missing.append(obj["class_name"])
    return list(dict.fromkeys(missing))


def _unknown_class_error(path: Path, names: list[str], package: list[str], error: Exception) -> ValueError:
    """The error for classes Keras cannot find; ``package``: those that are keras-self-attention's."""
    own = [name for name in names if name not in package]
    parts = [f"{path.name} uses {', '.join(names)}, which Keras cannot find ({type(error).__name__})"]
    if own:
        custom = ", ".join(f'"{name}": {name}' for name in own)
        parts.append(f"Define or import the class{'es' if len(own) > 1 else ''} {', '.join(own)}, then pass "
                     f"{'them' if len(own) > 1 else 'it'}: load_model({str(path)!r}, custom_objects={{{custom}}})")
    for name in names:
        if name in package:
            parts.append(f"{name} is keras-self-attention's layer, which the course has not ported; the package runs "
                         f"only on TensorFlow (this is {keras.backend.backend()}): load the model with "
                         f"COURSE_BACKEND=tensorflow in a fresh process or kernel (pip install keras-self-attention)")
    return ValueError(". ".join(parts))


def _newer_keras_error(path: Path, saved: str, error: Exception) -> ValueError:
    installed = keras.__version__
    # Keras nests one "could not be deserialized" per level (model, layer, initializer...); the last says why
    cause = str(error).rsplit("Exception encountered:", 1)[-1].strip()
    cause = (cause.splitlines() or [""])[0][:200]
    return ValueError(
        f"{path.name} was saved by Keras {saved}, newer than this Keras {installed}, which cannot read it "
        f"({type(error).__name__}: {cause}). Fix: upgrade Keras (pip install -U \"keras>={saved}\", then "
        f"restart the kernel), or re-save the model with Keras {installed}, or rebuild the model in code (the "
        f"same layers) and call model.load_weights({str(path)!r})")


def load_model(path: str | Path, custom_objects: dict | None = None, *, verbose: bool = True) -> keras.Model:
    """Load a saved Keras model on the current backend, with the course's layers and keras-self-attention's.

    The course's layers are registered and load anywhere. keras-self-attention's layers run only on TensorFlow:
    there the package's classes are used (all of its layers, when it imports); on JAX, or where the package is
    not installed, its ``SeqSelfAttention`` and ``SeqWeightedAttention`` load as the course's exact ports
    (:class:`utils.self_attention.SeqSelfAttention`, :class:`utils.pooling.SeqWeightedAttention`), and a printed
    line names each layer mapped. Which layers a file uses is read from its config (``config.json`` inside a
    ``.keras`` archive, the ``model_config`` attribute of a legacy ``.h5``), not found by trial.

    A legacy ``.h5`` loads when Keras 3 can rebuild its graph. Seen with Keras 3.15.1, on TensorFlow and on JAX: a
    ``Sequential`` model with ``Masking`` (Masking -> LSTM, or Masking -> BiLSTM -> SeqSelfAttention -> pooling)
    loads; the same layers as a functional model (``keras.Input`` -> ``Masking`` -> ...) do not, with or without
    an attention layer: the ``.h5`` config records the mask's computation as ``NotEqual`` and ``Any`` operation
    nodes, which the legacy loader cannot rebuild (``ValueError: Unknown layer: 'NotEqual'``; lesson 04,
    Appendix A).

    Args:
        path: a ``.keras`` file (or a legacy ``.h5``).
        custom_objects: ``{"ClassName": Class}`` for the learner's own layers; passed to
            ``keras.models.load_model`` and preferred to the classes chosen here.
        verbose: print the line that names the keras-self-attention layers mapped to the course's ports.

    Returns:
        The model, compiled if it was saved compiled.

    Raises:
        ValueError: the file does not exist; it uses a class Keras cannot find (the message names it and the
            ``load_model(path, custom_objects={...})`` call that fixes it); it was saved by a newer Keras that
            this one cannot read (the message names both versions, the upgrade and the alternatives); or it
            is a legacy ``.h5`` that does not load (the message names the workaround: rebuild the model in code,
            then ``model.load_weights``). Any other error from Keras propagates unchanged.
    """
    from . import blocks, builder, pooling, self_attention  # noqa: F401 - registers the course's layers

    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    config = saved_config(path)
    used = package_layers(config) if config is not None else []
    custom = _package_classes()
    mapped = []
    if used and not custom:  # the package's layers cannot run here: its ported layers load as the ports
        ports = _ports()
        custom = {name: ports[name] for name in used if name in ports}
        mapped = [name for name in custom if name not in (custom_objects or {})]
    custom.update(custom_objects or {})
    try:
        model = keras.models.load_model(path, custom_objects=custom)
    except Exception as error:
        if path.suffix in (".h5", ".hdf5"):
            raise ValueError(f"Keras 3 cannot load the legacy file {path.name} ({type(error).__name__}: "
                             f"{str(error)[:160]}). Workaround: rebuild the model in code (the same layers), then "
                             f"model.load_weights({str(path)!r}); save it again as .keras") from error
        missing = _unresolved_classes(config, custom) if config is not None else []
        if missing:
            raise _unknown_class_error(path, missing, used, error) from error
        saved = saved_keras_version(path)
        if saved and _newer(saved, keras.__version__):
            raise _newer_keras_error(path, saved, error) from error
        located = re.search(r"Could not locate (?:class|function) '([^']+)'", str(error))
        if located:  # e.g. a custom function, which the config scan leaves to Keras
            raise _unknown_class_error(path, [located.group(1)], used, error) from error
        raise
    if mapped and verbose:
        reason = ("keras-self-attention is not installed" if keras.backend.backend() == "tensorflow"
                  else f"keras-self-attention runs only on TensorFlow, this is {keras.backend.backend()}")
        ports = ", ".join(f"{name} mapped to {PORTS[name][0]}.{PORTS[name][1]}" for name in mapped)
        print(f"loaded {path.name} with keras-self-attention's {ports} (the course's exact keras.ops "
              f"port{'s' if len(mapped) > 1 else ''}: same config, weights and arithmetic; {reason})")
    return model
