"""The backend choice, seeding, determinism across fresh processes, and the progress line."""
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from utils import runtime
from utils.builder import build_classifier
from utils.data import make_motif_task
from utils.inspection import lstm_layers
from utils.training import run_seeds, show_progress

ROOT = Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()


def test_auto_picks_jax_without_a_gpu_driver_and_the_override_wins(monkeypatch):
    monkeypatch.delenv(runtime.BACKEND_ENV, raising=False)
    monkeypatch.setenv("KERAS_BACKEND", BACKEND)  # restored afterwards
    monkeypatch.setattr(runtime, "gpu_driver_present", lambda: False)
    monkeypatch.delitem(sys.modules, "keras")  # pretend Keras is not imported yet (restored afterwards)
    assert runtime.choose_backend("auto") == "jax"
    monkeypatch.setattr(runtime, "gpu_driver_present", lambda: True)
    assert runtime.choose_backend("auto") == "tensorflow"
    monkeypatch.setenv(runtime.BACKEND_ENV, "jax")
    assert runtime.choose_backend("auto") == "jax"
    assert runtime.choose_backend("tensorflow") == "tensorflow", "a lesson that names its backend keeps it"
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


@pytest.mark.parametrize("value", ["torch", "", "JAX!"])
def test_an_unknown_backend_is_refused(monkeypatch, value):
    monkeypatch.delenv(runtime.BACKEND_ENV, raising=False)
    with pytest.raises(ValueError, match="backend must be"):
        runtime.choose_backend(value)


def test_switching_backend_after_keras_is_imported_says_restart(monkeypatch):
    other = "jax" if BACKEND == "tensorflow" else "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", BACKEND)
    with pytest.raises(ValueError, match="restart the kernel"):
        runtime.choose_backend(other)
    assert runtime.choose_backend(BACKEND) == BACKEND


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_set_seed_refuses_bad_seeds(seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        runtime.set_seed(seed)


def test_device_report_names_the_backend_and_the_device():
    report = runtime.device_report()
    assert report["backend"].startswith(BACKEND)
    assert report["device"] == "CPU" or report["device"].startswith("GPU")


TRAIN_ONE_SEED = """
import hashlib
from utils.data import make_motif_task
from utils.builder import build_classifier
from utils.training import train_and_evaluate
task = make_motif_task(48, 32, min_len=6, max_len=12, motif_len=3, seed=0)
run = train_and_evaluate(lambda d: build_classifier(d, pool="average", units=4), task, seed=3, epochs=2,
                         batch_size=16)
probabilities = run.model.predict(task.test.X, verbose=0)
import keras
print(keras.backend.backend(), hashlib.sha256(probabilities.tobytes()).hexdigest())
"""


@pytest.mark.tensorflow_only   # on JAX, the compilation-cache test below runs two fresh processes ("off", "cold")
def test_the_same_seed_gives_bit_identical_predictions_in_two_fresh_processes():
    """Determinism on this process's backend, proven the way a learner meets it: two new Python processes."""
    env = {**os.environ, "KERAS_BACKEND": BACKEND, "COURSE_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    runs = [subprocess.Popen([sys.executable, "-c", TRAIN_ONE_SEED], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = []
    for run in runs:   # the two processes run side by side: neither sees the other
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-3000:]
        outputs.append(out.split()[-2:])
    assert outputs[0][0] == BACKEND
    assert outputs[0] == outputs[1], "two fresh processes trained the same seed to different predictions"


TRAIN_WITH_CACHE = """
import sys
from utils.runtime import choose_backend, enable_compilation_cache
choose_backend("jax")
print("cache:", enable_compilation_cache(sys.argv[1]) if len(sys.argv) > 1 else None)
""" + TRAIN_ONE_SEED


@pytest.mark.backend_free   # it starts its own JAX processes, whatever this process's backend
def test_the_compilation_cache_is_used_and_changes_no_result(tmp_path):
    """Off, cold (writes the cache) and warm (reads it): the same predictions bit for bit, and the warm run
    loads every program from the cache rather than compiling and writing new ones. Off and cold are two fresh
    processes that train the same seed: their agreement is also JAX's determinism across processes."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "COURSE_PROGRESS": "0", "COURSE_COMPILATION_CACHE": "1"}
    script = TRAIN_WITH_CACHE

    def start(*cache):
        return subprocess.Popen([sys.executable, "-c", script, *map(str, cache)], env=env, text=True, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def result(process):
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        return out.split()[-2:]

    def entries():
        return sorted(p.name for p in tmp_path.rglob("*") if p.is_file())

    off, cold = start(), start(tmp_path)   # side by side: neither sees the other's compiled programs
    off, cold = result(off), result(cold)
    written = entries()
    warm = result(start(tmp_path))
    assert written, "the cold run wrote nothing to the cache"
    assert entries() == written, "the warm run compiled programs the cold run had cached"
    assert off == cold == warm, "the compilation cache changed the predictions"


def test_the_cache_folder_follows_the_setting_and_is_off_on_request(monkeypatch, tmp_path):
    monkeypatch.setenv(runtime.CACHE_ENV, str(tmp_path))
    assert runtime.compilation_cache_dir() == tmp_path / "jax"
    monkeypatch.setenv(runtime.CACHE_SWITCH_ENV, "0")
    assert runtime.enable_compilation_cache() is None
    assert runtime._shown_path(tmp_path / "jax") == "$COURSE_CACHE_DIR/jax"
    monkeypatch.delenv(runtime.CACHE_ENV)
    assert runtime._shown_path(Path.home() / "x") == "~/x"


@pytest.fixture(scope="module")
def tiny_task():
    return make_motif_task(40, 24, min_len=6, max_len=12, motif_len=3, seed=0)


@pytest.mark.once
def test_progress_stays_quiet_in_tests(tiny_task, capsys):
    assert not show_progress()
    run_seeds("quiet", lambda d: build_classifier(d, pool="average", units=4), tiny_task, seeds=(0, 1), epochs=1)
    captured = capsys.readouterr()
    assert "seed" not in captured.out and "seed" not in captured.err


@pytest.mark.once
def test_progress_shows_one_line_per_comparison_when_asked(tiny_task, capsys, monkeypatch):
    monkeypatch.setattr("utils.training.show_progress", lambda: True)
    run_seeds("noisy model", lambda d: build_classifier(d, pool="average", units=4), tiny_task, seeds=(0, 1, 2),
              epochs=1)
    out = capsys.readouterr().out
    assert "noisy model: seed 3/3" in out and "elapsed" in out


def test_jit_compile_keeps_the_returned_models_cudnn_eligible(tiny_task):
    comparison = run_seeds("jit", lambda d: build_classifier(d, pool="average", units=4), tiny_task, seeds=(0, 1),
                           epochs=1, keep_models=True, jit_compile=True)
    for run in comparison.runs:
        assert all(lstm.use_cudnn == "auto" for lstm in lstm_layers(run.model))
    with pytest.raises(ValueError, match="jit_compile must be"):
        run_seeds("bad", lambda d: build_classifier(d, pool="average", units=4), tiny_task, seeds=(0, 1),
                  epochs=1, jit_compile="yes")


def test_fast_mode_on_jax_turns_off_most_xla_optimisations_and_full_mode_does_not():
    """Checked in a fresh interpreter, where JAX reads the setting when it is imported."""
    from utils.runtime import FAST_XLA_FLAGS, _xla_knows

    wanted = [flag for flag, *lowest in FAST_XLA_FLAGS if _xla_knows(*lowest)]
    code = ("import os; from utils.runtime import choose_backend; "
            "choose_backend('jax'); import jax, jax.numpy as jnp; jnp.ones(2).sum().block_until_ready(); "
            "print(bool(jax.config.read('jax_disable_most_optimizations')), "
            f"all(f in os.environ.get('XLA_FLAGS', '').split() for f in {wanted!r}))")
    for fast, expected in (("1", "True True"), ("0", "False False")):
        env = {k: v for k, v in os.environ.items() if k not in ("JAX_DISABLE_MOST_OPTIMIZATIONS", "XLA_FLAGS")}
        env["COURSE_FAST"] = fast
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, cwd=ROOT,
                             text=True, check=True).stdout.strip().splitlines()[-1]
        assert out == expected, (fast, out)


@pytest.mark.backend_free
@pytest.mark.parametrize("installed, knows", [({"jaxlib": "0.5.1", "tensorflow": "2.21.0"}, False),
                                              ({"jaxlib": "0.7.2", "tensorflow": "2.19.0"}, False),
                                              ({"jaxlib": "0.7.2", "tensorflow": "2.20.0"}, True),
                                              ({"jaxlib": "0.10.2"}, True), ({"tensorflow": "2.21.0"}, True)])
def test_fast_mode_leaves_out_a_flag_an_installed_xla_does_not_know(monkeypatch, installed, knows):
    """jaxlib 0.5.1's and TensorFlow 2.19's XLA stop the process on an unknown flag in XLA_FLAGS (tried)."""
    import importlib.metadata

    from utils.runtime import FAST_XLA_FLAGS, fast_compilation

    def version(package):
        if package not in installed:
            raise importlib.metadata.PackageNotFoundError(package)
        return installed[package]

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    fast_compilation()
    flags = os.environ["XLA_FLAGS"].split()
    assert flags[:2] == ["--xla_cpu_multi_thread_eigen=false", FAST_XLA_FLAGS[0][0]]
    assert ("--xla_cpu_use_fusion_emitters=false" in flags) == knows, flags


@pytest.mark.backend_free
def test_every_xla_flag_this_run_sets_is_a_flag():
    """XLA ignores the whole of XLA_FLAGS when one token is not a ``--flag`` (a bare ``name=value``, say): fast mode's
    settings, the workers' one thread and a child's device count would all silently go."""
    tokens = os.environ.get("XLA_FLAGS", "").split()
    assert all(token.startswith("--") for token in tokens), tokens
