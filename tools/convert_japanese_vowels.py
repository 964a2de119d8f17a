"""Convert the UEA JapaneseVowels .ts files into the course's compact data/japanese_vowels.npz.

Usage: python -m tools.convert_japanese_vowels [SOURCE_DIR]
SOURCE_DIR defaults to ../shared/datasets/JapaneseVowels. Writes the .npz byte-for-byte
reproducibly and refreshes data/SHA256SUMS.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "japanese_vowels.npz"
SUMS = ROOT / "data" / "SHA256SUMS"


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Parse a multivariate, unequal-length .ts file into (sequences (T, F), labels)."""
    sequences, labels, in_data = [], [], False
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() == "@data":
            in_data = True
            continue
        if not in_data:
            continue
        *channels, label = line.split(":")
        seq = np.array([[float(v) for v in ch.split(",")] for ch in channels], dtype=np.float32).T
        sequences.append(seq)
        labels.append(label)
    return sequences, labels


def pad(sequences: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad with zeros to max_len; return (X, lengths)."""
    n_features = sequences[0].shape[1]
    X = np.zeros((len(sequences), max_len, n_features), dtype=np.float32)
    for i, seq in enumerate(sequences):
        X[i, : len(seq)] = seq
    return X, np.array([len(s) for s in sequences], dtype=np.int32)


def save_npz_reproducibly(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez_compressed, but with fixed zip timestamps so the bytes never change."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buffer.getvalue())


def main(source: Path) -> None:
    train, y_train = read_ts(source / "JapaneseVowels_TRAIN.ts")
    test, y_test = read_ts(source / "JapaneseVowels_TEST.ts")
    classes = sorted(set(y_train), key=int)
    max_len = max(len(s) for s in train + test)
    X_train, len_train = pad(train, max_len)
    X_test, len_test = pad(test, max_len)
    to_index = {c: i for i, c in enumerate(classes)}
    save_npz_reproducibly(OUT, {
        "X_train": X_train, "lengths_train": len_train,
        "y_train": np.array([to_index[c] for c in y_train], dtype=np.int32),
        "X_test": X_test, "lengths_test": len_test,
        "y_test": np.array([to_index[c] for c in y_test], dtype=np.int32),
        "class_names": np.array([f"speaker {c}" for c in classes]),
    })
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    SUMS.write_text(f"{digest}  {OUT.name}\n")
    print(f"wrote {OUT.relative_to(ROOT)}: train {X_train.shape}, test {X_test.shape}; sha256 {digest}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=ROOT.parent / "shared" / "datasets" / "JapaneseVowels",
                        help="the folder of the original UEA files")
    main(parser.parse_args().source)
