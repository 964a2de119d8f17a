import pytest

from utils.exercises.lesson10 import check_score_bytes_10b

# --- 10b: long sequences ---------------------------------------------------------------------------------------


@pytest.mark.backend_free
def test_10b_solution_passes_and_wrong_sizes_get_their_hint(solutions, capsys):
    assert check_score_bytes_10b(solutions.predicted_score_bytes(8, 2048), batch=8, T=2048)
    assert check_score_bytes_10b(solutions.predicted_score_bytes(4, 512, heads=2, bytes_per_number=2), batch=4,
                                 T=512, heads=2, dtype="bfloat16")
    assert "✗" not in capsys.readouterr().out
    assert not check_score_bytes_10b(8 * 2048 * 2048, batch=8, T=2048)        # numbers, not bytes
    assert "bytes" in capsys.readouterr().out
    assert not check_score_bytes_10b(8 * 2048 * 4, batch=8, T=2048)           # T instead of T x T
    assert "T x T" in capsys.readouterr().out
    assert not check_score_bytes_10b(2048 * 2048 * 4, batch=8, T=2048)        # one sequence
    assert "batch" in capsys.readouterr().out
    for wrong in (None, "many", 1.0, float("nan")):
        assert not check_score_bytes_10b(wrong, batch=8, T=2048)


# --- 10a: streaming and bucketing -------------------------------------------------------------------------------


@pytest.mark.backend_free
def test_10a_solution_passes_and_wrong_shares_get_their_hint(solutions, capsys):
    from utils.exercises.lesson10 import check_bucket_padding_10a

    assert check_bucket_padding_10a(solutions.bucket_padding)
    assert "✗" not in capsys.readouterr().out
    for wrong, hint in ((42 / 111, "without rounding"), (1 - 51 / 120, "real share"), (111 / 180, "longest sequence"),
                        (0.9, "Hint")):
        assert not check_bucket_padding_10a(wrong)
        assert hint in capsys.readouterr().out
    for wrong in (None, "lots", float("nan")):
        assert not check_bucket_padding_10a(wrong)


# --- 10c: more devices ------------------------------------------------------------------------------------------


@pytest.mark.backend_free
def test_10c_solution_passes_and_wrong_splits_get_their_hint(solutions, capsys):
    from utils.exercises.lesson10 import check_device_split_10c

    assert solutions.valid_counts == [1, 2, 3, 6]
    assert check_device_split_10c(solutions.per_device_batch, solutions.valid_counts)
    assert "✗" not in capsys.readouterr().out
    assert not check_device_split_10c(96, [1, 2, 3, 6])                 # the global batch, not a device's
    assert "global batch" in capsys.readouterr().out
    assert not check_device_split_10c(32, [1, 2, 3, 4, 6, 8])           # forgot the last batch
    assert "last batch" in capsys.readouterr().out
    assert not check_device_split_10c(32, [1, 2])
    assert "divides both" in capsys.readouterr().out
    for wrong in (None, "many"):
        assert not check_device_split_10c(wrong, [1, 2, 3, 6])
    assert not check_device_split_10c(32, None)
