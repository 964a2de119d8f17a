"""Models: the masked BiLSTM classifier and its read-outs, plus model inspection."""
from __future__ import annotations

import keras
from keras import layers

from .data import Dataset, whole_number

READOUTS = ("last", "flatten", "average")


def build_bilstm_classifier(data: Dataset, readout: str = "last", units: int = 64,
                            dropout: float = 0.0) -> keras.Model:
    """``Masking -> BiLSTM -> read-out -> softmax``, with a cuDNN-eligible LSTM.

    read-outs: ``"last"`` (final states), ``"flatten"`` (every step, drops the mask) or
    ``"average"`` (mask-aware mean over real steps).
    """
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    units = whole_number("units", units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    inputs = keras.Input(shape=(data.max_len, data.n_features), name="sequence")
    x = layers.Masking(mask_value=0.0, name="masking")(inputs)
    sequences = readout != "last"
    x = layers.Bidirectional(layers.LSTM(units, dropout=dropout, return_sequences=sequences), name="bilstm")(x)
    if readout == "flatten":
        x = layers.Flatten(name="flatten")(x)
    elif readout == "average":
        x = layers.GlobalAveragePooling1D(name="masked_average")(x)
    outputs = layers.Dense(data.n_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"bilstm_{readout}")


def find_layer(model: keras.Model, name: str):
    """``model.get_layer(name)``, with a ValueError that names the model and the missing layer."""
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer named {name!r}") from None


def has_class_named(cls, name: str) -> bool:
    """Whether class ``cls`` or one of its bases is called ``name``.

    Tells the course's ports and keras-self-attention's layers of the same name apart from everything else
    without importing the package (which needs TensorFlow).
    """
    return isinstance(cls, type) and any(base.__name__ == name for base in cls.__mro__)


def reapply_layer(layer, **config):
    """Call a copy of a trained ``layer``, with ``config`` changed, on the layer's own input and mask.

    The copy shares the trained weights. Use it to switch on an output the layer was built without,
    such as its attention weights. Returns the copy's outputs.
    """
    source = layer.input  # Keras lists [sequence, mask] when the layer was called on a masked tensor
    sequence, mask = (source[0], source[1]) if isinstance(source, (list, tuple)) else (source, None)
    copy = type(layer).from_config({**layer.get_config(), **config, "name": f"{layer.name}_copy"})
    outputs = copy(sequence, mask=mask)
    copy.set_weights(layer.get_weights())
    return outputs


def lstm_layers(model: keras.Model) -> list:
    """Every LSTM inside a model, including those wrapped in ``Bidirectional``."""
    found = []
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, layers.LSTM):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += lstm_layers(layer)
    return found


def cudnn_problems(lstm: layers.LSTM) -> list[str]:
    """Why an LSTM cannot use the fused cuDNN kernel (empty when it can).

    The conditions follow the Keras LSTM documentation; a strictly right-padded mask is also required.
    """
    problems = []
    if lstm.activation is not keras.activations.tanh:
        problems.append("activation must be 'tanh'")
    if lstm.recurrent_activation is not keras.activations.sigmoid:
        problems.append("recurrent_activation must be 'sigmoid'")
    if lstm.recurrent_dropout != 0:
        problems.append(f"recurrent_dropout must be 0 (it is {lstm.recurrent_dropout})")
    if lstm.unroll:
        problems.append("unroll must be False")
    if not lstm.use_bias:
        problems.append("use_bias must be True")
    if getattr(lstm, "use_cudnn", "auto") is False:
        problems.append("use_cudnn must be 'auto' or True (it is False)")
    return problems
