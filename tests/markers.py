"""Test markers shared by several test modules."""
import keras
import pytest

#: keras-self-attention's layers call TensorFlow directly: the tests that run the package itself need that backend.
tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                     reason="keras-self-attention runs on the TensorFlow backend only")
