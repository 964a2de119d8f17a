import keras
import pytest
from keras import layers

from utils.data import make_motif_task
from utils.exercises import lesson04
from utils.self_attention import SeqSelfAttention  # the exact port: the package's masking bug, on any backend


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=4, max_len=10, motif_len=3, seed=0)


def test_parameter_count_solution_passes(solutions):
    assert lesson04.check_parameter_count(solutions.parameter_count)


def test_parameter_count_wrong_answers_fail(capsys):
    def units_matter_for_multiplicative(features, units, kind, add_bias, att_bias):
        return 2 * features * units + 2 * units + 1

    assert not lesson04.check_parameter_count(units_matter_for_multiplicative)
    assert not lesson04.check_parameter_count(lambda *args: None)
    assert "the layer has" in capsys.readouterr().out


def test_sequence_classifier_solution_passes(solutions, task):
    assert lesson04.check_sequence_classifier(solutions.build_sequence_classifier, task)


def test_q003_model_fails(task, capsys):
    def q003(data):  # Dense on the attended sequence: one prediction per time step
        inputs = keras.Input((data.max_len, data.n_features))
        x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(inputs)
        x = SeqSelfAttention()(x)
        return keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax")(x))

    def flatten(data):  # one distribution per sequence, but Flatten drops the mask
        inputs = keras.Input((data.max_len, data.n_features))
        x = layers.Masking()(inputs)
        x = SeqSelfAttention()(layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x))
        return keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax")(layers.Flatten()(x)))

    assert not lesson04.check_sequence_classifier(q003, task)
    assert "pool over time" in capsys.readouterr().out
    assert not lesson04.check_sequence_classifier(flatten, task)
    assert "padding" in capsys.readouterr().out
    assert not lesson04.check_sequence_classifier(lambda data: None, task)


def test_unfixed_layer_fails_padding_check(task, capsys):
    def plain_layer(data):  # pooled and masked, but SeqSelfAttention 0.51.0 attends to padding
        inputs = keras.Input((data.max_len, data.n_features))
        x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(layers.Masking()(inputs))
        x = layers.GlobalAveragePooling1D()(SeqSelfAttention()(x))
        return keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax")(x))

    assert not lesson04.check_sequence_classifier(plain_layer, task)
    assert "MaskedSeqSelfAttention" in capsys.readouterr().out


def test_a_correct_sequential_classifier_passes(capsys):
    """Exercise 4.2 starts from a Sequential model; a correct Sequential answer must pass too."""
    import keras
    from keras import layers

    from utils.data import load_japanese_vowels
    from utils.self_attention import MaskedSeqSelfAttention

    jv = load_japanese_vowels()
    model = keras.Sequential([keras.Input((jv.max_len, jv.n_features)), layers.Masking(mask_value=0.0),
                              layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                              MaskedSeqSelfAttention(units=4), layers.GlobalAveragePooling1D(),
                              layers.Dense(jv.n_classes, activation="softmax")])
    assert lesson04.check_sequence_classifier(lambda data: model, jv), capsys.readouterr().out
