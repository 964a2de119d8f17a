# Solutions for lesson 01. Load into a notebook cell with: %load ../solutions/lesson01.py
import keras
from keras import layers


def compile_for_integer_labels(model):
    """Exercise 1.1: a softmax over classes with integer labels wants sparse categorical cross-entropy."""
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def cudnn_ready_stack(data, units=128, dropout=0.2):
    """Exercise 1.2: keep the regularisation, but on the inputs (dropout=) instead of the recurrence."""
    return keras.Sequential([
        keras.Input((data.max_len, data.n_features)),
        layers.Masking(mask_value=0.0),
        layers.Bidirectional(layers.LSTM(units, dropout=dropout, return_sequences=True)),
        layers.Bidirectional(layers.LSTM(units, dropout=dropout)),
        layers.Dense(data.n_classes, activation="softmax"),
    ])


def mask_respecting_classifier(data, units=32):
    """Exercise 1.3: Masking, two BiLSTMs and a mask-aware read-out (GlobalMaxPooling1D would not do:
    it ignores the mask)."""
    return keras.Sequential([
        keras.Input((data.max_len, data.n_features)),
        layers.Masking(mask_value=0.0),
        layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
        layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
        layers.GlobalAveragePooling1D(),
        layers.Dense(data.n_classes, activation="softmax"),
    ])


# check_compile(compile_for_integer_labels(build_classifier(jv, pool="last")), jv.n_classes)
# check_cudnn_ready(cudnn_ready_stack(jv))
# check_respects_mask(mask_respecting_classifier(jv), jv)
