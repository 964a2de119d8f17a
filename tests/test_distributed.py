"""Lesson 10c's data-parallel training: DataParallel on 2 logical JAX devices, MirroredStrategy on 2 logical
TensorFlow CPUs and a two-process job on localhost each end a few steps with the single device's weights (within
float tolerance); run_seeds(distribution=...) predicts as the single device does; its errors; the launcher's.

The children run in fresh processes (a device count is fixed when JAX or TensorFlow starts), started together by one
fixture so that their start-up overlaps; they do not depend on the outer backend, so they run once.
"""
import os
import time
from dataclasses import replace

import numpy as np
import pytest

from tools.launch_job import Job, job_environment, launch_job
from utils.child_process import (
    IsolatedRun,
    WorkerFailed,
    child_environment,
    function_path,
    load_result,
    run_isolated,
    save_result,
)
from utils.data import load_japanese_vowels
from utils.distributed import max_weight_difference, process_rows, seed_runs, train_steps
from utils.registry import MODELS
from utils.training import run_seeds

TOLERANCE = 1e-5     # float32 sums in another order: the measured gap is about 1e-7
STEPS = dict(steps=2, batch_size=64)
TIMEOUT = 240        # seconds; a shared 2-core machine under load takes up to a minute per child


@pytest.fixture(scope="module")
def children():
    """Every child of this file, started at once: JAX with 2 devices, TensorFlow with 2, and a 2-process job."""
    jax_run = IsolatedRun([(train_steps, {"mode": "data_parallel", **STEPS}),
                           (train_steps, {"mode": "single", **STEPS}),
                           (seed_runs, {"distributed": False}), (seed_runs, {"distributed": True})], devices=2)
    tf_run = IsolatedRun([(train_steps, {"mode": "mirrored", **STEPS}), (train_steps, {"mode": "single", **STEPS})],
                         devices=2, backend="tensorflow")
    job = Job(train_steps, {"mode": "job", **STEPS}, processes=2)
    return {"jax": jax_run.result(TIMEOUT), "tensorflow": tf_run.result(TIMEOUT), "job": job.results(TIMEOUT)}


@pytest.mark.once
def test_data_parallel_on_two_devices_ends_with_the_single_device_weights(children):
    parallel, single, _, _ = children["jax"]
    assert parallel["devices"] == 2 and single["devices"] == 1
    assert max_weight_difference(parallel["initial"], single["initial"]) == 0.0
    assert max_weight_difference(parallel["weights"], single["weights"]) < TOLERANCE


@pytest.mark.once
def test_run_seeds_with_data_parallel_predicts_as_one_device(children):
    _, _, one, two = children["jax"]
    assert one["devices"] == 1 and two["devices"] == 2 and one["seeds"] == two["seeds"] == [0, 1]
    np.testing.assert_array_equal(one["y_pred"], two["y_pred"])
    np.testing.assert_allclose(one["train_accuracy"], two["train_accuracy"])


@pytest.mark.once
def test_mirrored_strategy_on_two_logical_cpus_ends_with_the_single_device_weights(children):
    mirrored, single = children["tensorflow"]
    assert mirrored["devices"] == 2 and single["devices"] == 1
    assert max_weight_difference(mirrored["weights"], single["weights"]) < TOLERANCE


@pytest.mark.once
def test_a_two_process_job_agrees_with_itself_and_with_one_process(children):
    first, second = children["job"]
    assert (first["process_id"], second["process_id"]) == (0, 1)
    assert first["processes"] == second["processes"] == 2 and first["devices"] == 2
    assert max_weight_difference(first["weights"], second["weights"]) == 0.0    # one model, held twice
    single = children["jax"][1]                                               # the same global batches, one process
    assert max_weight_difference(first["weights"], single["weights"]) < TOLERANCE


def test_process_rows_split_every_global_batch_in_order():
    rows = [process_rows(8, 4, p, 2) for p in (0, 1)]
    np.testing.assert_array_equal(rows[0], [0, 1, 4, 5])
    np.testing.assert_array_equal(rows[1], [2, 3, 6, 7])
    with pytest.raises(ValueError, match="multiple of 2"):
        process_rows(8, 3, 0, 2)
    with pytest.raises(ValueError, match="process_id"):
        process_rows(8, 4, 2, 2)


def _two_copies_of_one_device():
    """A DataParallel whose mesh lists one CPU twice: 2 replicas to the checks, and never used to train."""
    import keras

    device = keras.distribution.list_devices()[0]
    return keras.distribution.DataParallel(devices=[device, device])


def test_run_seeds_rejects_a_distribution_of_the_other_backend():
    import keras

    jv = load_japanese_vowels()
    if keras.backend.backend() == "jax":
        import tensorflow as tf

        other, message = tf.distribute.get_strategy(), "needs the TensorFlow backend"
    else:
        other, message = _two_copies_of_one_device(), "needs the JAX backend"
    with pytest.raises(ValueError, match=message):
        run_seeds("x", MODELS["10c JV average"].build, jv, seeds=(0, 1), epochs=1, distribution=other)
    with pytest.raises(ValueError, match="distribution must be None"):
        run_seeds("x", MODELS["10c JV average"].build, jv, seeds=(0, 1), epochs=1, distribution="2 devices")


def test_run_seeds_rejects_a_batch_its_devices_cannot_split():
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("Keras' distribution API runs on JAX")
    jv, two = load_japanese_vowels(), _two_copies_of_one_device()
    with pytest.raises(ValueError, match="global batch size 63 does not split evenly over 2 devices.*multiple of 2"):
        run_seeds("x", MODELS["10c JV average"].build, jv, seeds=(0, 1), epochs=1, batch_size=63, distribution=two)
    odd = replace(jv, train=jv.train.take(np.arange(len(jv.train) - 1)))    # 269 = 4 x 64 + 13
    with pytest.raises(ValueError, match="last batch of the training split holds 13 sequences"):
        run_seeds("x", MODELS["10c JV average"].build, odd, seeds=(0, 1), epochs=1, batch_size=64, distribution=two)


@pytest.mark.backend_free
def test_child_environment_sets_the_device_count_before_the_child_starts():
    env = child_environment(3, "jax", {"KERAS_DISTRIBUTION_PROCESS_ID": 1})
    assert "--xla_force_host_platform_device_count=3" in env["XLA_FLAGS"].split()
    assert env["XLA_FLAGS"].count("device_count") == 1 and env["KERAS_DISTRIBUTION_PROCESS_ID"] == "1"
    assert "device_count" not in child_environment(2, "tensorflow")["XLA_FLAGS"]
    assert env["JAX_PLATFORMS"] == "cpu"     # CPU devices also where a GPU exists
    assert job_environment(1234, 2, 1) == {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "localhost:1234",
                                           "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                                           "KERAS_DISTRIBUTION_PROCESS_ID": "1"}
    for bad in (dict(devices=0), dict(devices=2.0), dict(backend="torch")):
        with pytest.raises(ValueError):
            child_environment(**{"devices": 2, "backend": "jax", **bad})


@pytest.mark.backend_free
def test_results_round_trip_and_unimportable_functions_are_refused(tmp_path):
    save_result({"weights": [np.ones(2), np.zeros((1, 3))], "seconds": 1.5, "seeds": [0, 1]}, tmp_path)
    back = load_result(tmp_path)
    assert back["seconds"] == 1.5 and back["seeds"] == [0, 1] and [w.shape for w in back["weights"]] == [(2,), (1, 3)]
    with pytest.raises(ValueError, match="cannot be imported"):
        function_path(lambda: {})
    with pytest.raises(ValueError, match="module:name"):
        function_path("train_steps")
    with pytest.raises(ValueError, match="no result"):
        load_result(tmp_path / "missing")
    with pytest.raises(ValueError, match="processes >= 2"):
        Job(train_steps, processes=1)


def sleep_long() -> dict:
    """A child that hangs (for the timeout test)."""
    time.sleep(120)
    return {}


def fail_in_process_1() -> dict:
    """In a job: process 1 fails at once, process 0 waits for it forever (for the launcher's failure test)."""
    if os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID") == "1":
        raise ValueError("process 1 broke on purpose")
    time.sleep(120)
    return {}


@pytest.mark.once
def test_a_failed_process_stops_the_job_and_shows_its_error():
    start = time.monotonic()
    with pytest.raises(WorkerFailed, match=r"(?s)process 1 of 2 failed with exit code 1.*broke on purpose"):
        launch_job(f"{__file__}:fail_in_process_1", processes=2, timeout=60)
    assert time.monotonic() - start < 50     # process 0 was stopped, not waited for


@pytest.mark.once
def test_a_hung_child_is_stopped_at_its_timeout():
    start = time.monotonic()
    with pytest.raises(WorkerFailed, match="did not finish in 3 s and was stopped"):
        run_isolated(f"{__file__}:sleep_long", devices=1, timeout=3)
    assert time.monotonic() - start < 20
