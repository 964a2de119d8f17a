"""Lesson 10c's machinery: each process's rows of a job, run_seeds' errors for a distribution it cannot use, a
child's environment, the results it hands back, and the launcher's failures, timeouts and clean-up.

The data-parallel claims themselves are asserted in notebooks/10c_more_devices.ipynb, which make test runs under
nbval in fast mode (COURSE_FAST=1), with the same float32 tolerance (1e-5):
- section 2's DataParallel cell: 2 devices against 1, the same initial weights, the same weights after the steps;
- section 3's seed-runs cell: 1 device and 2, the same seeds, every test item predicted the same for every seed,
  the same training accuracies;
- section 4's job cell: processes 0 and 1 of 2 on 2 devices, identical weights in both, the weights of one process;
- section 5's MirroredStrategy cell: 2 logical CPUs against 1, the same weights after the steps.
"""
import os
import time
from dataclasses import replace

import numpy as np
import pytest

from utils import child_process
from utils.child_process import (
    Child,
    IsolatedRun,
    Job,
    WorkerFailed,
    child_environment,
    function_path,
    job_environment,
    launch_job,
    load_result,
    run_isolated,
    save_result,
)
from utils.data import load_japanese_vowels
from utils.distributed import process_rows, train_steps
from utils.registry import MODELS
from utils.training import run_seeds

TIMEOUT = 240        # seconds; a shared 2-core machine under load takes up to a minute per child


@pytest.mark.backend_free
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
        try:
            other, message = _two_copies_of_one_device(), "needs the JAX backend"
        except AttributeError:   # Keras 3.12 and 3.13 cannot make a DataParallel on TensorFlow at all
            other = None
    if other is not None:
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
def test_child_environment_sets_the_device_count_before_the_child_starts(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=8 --xla_foo=1")   # the parent's own
    env = child_environment(3, "jax", {"KERAS_DISTRIBUTION_PROCESS_ID": 1})
    flags = env["XLA_FLAGS"].split()
    assert "--xla_force_host_platform_device_count=8" not in flags and "--xla_foo=1" in flags
    assert flags.count("--xla_force_host_platform_device_count=3") == 1 and env["XLA_FLAGS"].count("device_count") == 1
    assert env["KERAS_DISTRIBUTION_PROCESS_ID"] == "1" and env["COURSE_BACKEND"] == env["KERAS_BACKEND"] == "jax"
    assert child_environment(2, "tensorflow")["XLA_FLAGS"].split() == ["--xla_foo=1"]
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
    with pytest.raises(ValueError, match=r"keys must be strings without '\.'.*\['weights\.0'\]"):
        save_result({"weights.0": np.ones(2)}, tmp_path / "dotted")   # load_result would read it as a list
    with pytest.raises(ValueError, match="processes >= 2"):
        Job(train_steps, processes=1)


def sleep_long() -> dict:
    """A child that hangs (for the timeout tests)."""
    time.sleep(120)
    return {}


def small_result() -> dict:
    """A cheap child's result: a number and an array (for the test that reads results twice)."""
    return {"answer": 42, "values": np.arange(3)}


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


@pytest.mark.backend_free
def test_a_bad_timeout_is_refused_before_any_process_starts(monkeypatch):
    started = []

    class RecordedChild(Child):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(child_process, "Child", RecordedChild)
    try:
        for timeout in (0, -1.0, float("nan"), "300"):
            with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
                launch_job(f"{__file__}:sleep_long", processes=2, timeout=timeout)
            with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
                run_isolated(f"{__file__}:sleep_long", devices=1, timeout=timeout)
        assert started == []
    finally:
        for child in started:
            child.stop()


@pytest.mark.once
def test_a_bad_timeout_or_the_end_of_a_with_block_stops_the_children():
    run, job = IsolatedRun(f"{__file__}:sleep_long", devices=1), Job(f"{__file__}:sleep_long", processes=2)
    with pytest.raises(ValueError, match="timeout must be"):
        run.result(timeout=0)
    with pytest.raises(ValueError, match="timeout must be"):
        job.results(timeout=0)
    assert all(child.poll() is not None for child in [run.child, *job.children])   # stopped, not left running
    assert not run.out.exists() and not job.out.exists()
    with pytest.raises(ValueError, match="stopped before they handed back their results"):
        run.result(TIMEOUT)
    with IsolatedRun(f"{__file__}:sleep_long", devices=1) as left:
        pass
    assert left.child.poll() is not None and not left.out.exists()


@pytest.mark.once
def test_a_second_read_returns_the_same_results():
    run, job = IsolatedRun(f"{__file__}:small_result", devices=1), Job(f"{__file__}:small_result", processes=2)
    for read in (run.result, job.results):
        first, second = read(TIMEOUT), read(TIMEOUT)
        assert len(first) == len(second) >= 1 and all(r["answer"] == 42 for r in first + second)
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a["values"], b["values"])
    assert not run.out.exists() and not job.out.exists()
