# Lesson 04 solutions. Load into the notebook with:  %load ../solutions/lesson04.py
import keras
from keras import layers

from utils.self_attention import MaskedSeqSelfAttention


def parameter_count(features, units, attention_type, use_additive_bias, use_attention_bias):
    """SeqSelfAttention's trainable parameters on inputs with `features` channels."""
    if attention_type == "multiplicative":  # e = x_t^T W_a x_t' + b_a: W_a is features x features, units unused
        return features * features + int(use_attention_bias)
    # additive: W_t and W_x (features x units), b_h (units), W_a (units x 1), b_a (1)
    return 2 * features * units + units * int(use_additive_bias) + units + int(use_attention_bias)


def build_sequence_classifier(data):
    """Q003's model, fixed: the masked attention layer, then mask-aware pooling before the softmax."""
    inputs = keras.Input((data.max_len, data.n_features))
    x = layers.Masking(mask_value=0.0)(inputs)
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)
    x = MaskedSeqSelfAttention()(x)  # plain SeqSelfAttention lets real steps attend to padding
    x = layers.GlobalAveragePooling1D()(x)  # (batch, T, d) -> (batch, d), padded steps skipped
    outputs = layers.Dense(data.n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)
