"""The data files' checksums (``data/SHA256SUMS``). Standard library only, so the set-up check can verify the
data before (or without) the course's packages."""
from __future__ import annotations

import hashlib
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def sha256(path: Path, chunk: int = 1 << 16) -> str:
    """Hex SHA-256 of a file, read ``chunk`` bytes at a time, so checking a large file (a lesson 10a shard) does
    not hold a second copy of it in memory.

    Args:
        path: the file.
        chunk: bytes read at a time.

    Returns:
        The 64-character hexadecimal digest of the file's bytes.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def listed_files(data_dir: Path | str = DATA_DIR) -> dict[str, str]:
    """``{file name: SHA-256}`` for every file that ``data_dir/SHA256SUMS`` lists.

    Args:
        data_dir: the folder that holds ``SHA256SUMS`` (default: the course's ``data/``).

    Returns:
        A dict from each listed file name to its expected hex digest.
    """
    listed = {}
    for line in (Path(data_dir) / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip():
            listed[name.strip()] = digest
    return listed


def verified_path(data_dir: Path | str, filename: str, restore: str = "`git checkout data/`") -> Path:
    """The path of ``data_dir/filename`` after checking it against ``data_dir/SHA256SUMS``; a ValueError that
    says how to ``restore`` it when it is missing or its checksum differs.

    Args:
        data_dir: the folder that holds the file and ``SHA256SUMS``.
        filename: the file's name, as ``SHA256SUMS`` lists it.
        restore: how to get the file back, quoted in the error message.

    Returns:
        ``data_dir / filename``, verified.

    Raises:
        ValueError: the file is missing, ``SHA256SUMS`` does not list it, or its SHA-256 differs.
    """
    path = Path(data_dir) / filename
    if not path.exists():
        raise ValueError(f"{path} is missing; restore it with {restore}")
    expected = listed_files(data_dir).get(filename)
    if expected is None:
        raise ValueError(f"{filename} is not listed in {Path(data_dir) / 'SHA256SUMS'}")
    actual = sha256(path)
    if actual != expected:
        raise ValueError(f"{path} is corrupted: SHA-256 {actual[:12]}... expected {expected[:12]}...; "
                         f"restore it with {restore}")
    return path
