"""The data files' checksums (``data/SHA256SUMS``). Standard library only, so the set-up check can verify the
data before (or without) the course's packages."""
from __future__ import annotations

import hashlib
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def listed_files(data_dir: Path | str = DATA_DIR) -> dict[str, str]:
    """``{file name: SHA-256}`` for every file that ``data_dir/SHA256SUMS`` lists."""
    listed = {}
    for line in (Path(data_dir) / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip():
            listed[name.strip()] = digest
    return listed


def verified_path(data_dir: Path | str, filename: str, restore: str = "`git checkout data/`") -> Path:
    """The path of ``data_dir/filename`` after checking it against ``data_dir/SHA256SUMS``; a ValueError that
    says how to ``restore`` it when it is missing or its checksum differs."""
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
