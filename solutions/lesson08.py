# Solutions for lesson 08. Load into a notebook cell with: %load ../solutions/lesson08.py
import keras
import numpy as np
from keras import layers
from sklearn.metrics import balanced_accuracy_score

from utils.self_attention import MaskedSeqSelfAttention

# Exercise 8.1: Keras warned "Layer 'phrases' (of type Conv1D) ... will therefore destroy the mask information".
mask_dropper = "phrases"


def build_one_per_sentence(data):
    """Exercise 8.2: Q003's model with a mask (mask_zero=True), masked self-attention, and a masked pooling
    that turns one vector per token into one per sentence before the classifier."""
    inputs = keras.Input((data.max_len,), dtype="int32")
    x = layers.Embedding(data.vocab_size, 32, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.LSTM(10, return_sequences=True))(x)
    x = MaskedSeqSelfAttention()(x)
    x = layers.GlobalAveragePooling1D()(x)          # masked average: one vector per sentence
    outputs = layers.Dense(data.n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def choose_threshold(p_positive, y):
    """Exercise 8.3: try every predicted probability as the threshold; keep the best balanced accuracy."""
    candidates = np.unique(p_positive)
    scores = [balanced_accuracy_score(y, (p_positive >= t).astype(int)) for t in candidates]
    return float(candidates[int(np.argmax(scores))])


# check_mask_dropper(mask_dropper, learner_cnn_lstm(text))
# check_one_per_sentence(build_one_per_sentence, text)
# check_threshold(choose_threshold, p_validation, y_validation)
