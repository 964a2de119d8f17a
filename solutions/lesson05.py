# Solutions for lesson 05. Load into a notebook cell with: %load ../solutions/lesson05.py
import keras
from keras import layers

from utils.self_attention import MaskedSeqSelfAttention


def residual_before_lstm(data, units=16):
    """Exercise 5.1: Q001's residual, written with layers.Add so the mask reaches the LSTM and the pooling."""
    inputs = keras.Input((data.max_len, data.n_features))
    x = layers.Masking(mask_value=0.0)(inputs)
    attended = MaskedSeqSelfAttention(attention_type="multiplicative")(x)
    x = layers.Add()([x, attended])          # not `x + attended`: that op drops the mask
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(data.n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def my_pre_ln(x, sublayer):
    """Exercise 5.2: normalise the sub-layer's input, add the raw x."""
    return layers.Add()([x, sublayer(layers.LayerNormalization()(x))])


# check_residual_model(residual_before_lstm(jv), jv)
# check_pre_ln(my_pre_ln)
