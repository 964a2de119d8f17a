"""Print pip constraints that pin the deep-learning stack to the lowest versions requirements.txt admits.

Usage: python tools/lowest_versions.py > constraints.txt   (make test-oldest does this)

Only the packages whose ranges the course claims to support from their lower bound are pinned: TensorFlow,
Keras, JAX and keras-self-attention. Everything else resolves as usual, so the result is what a learner with
an older preinstalled stack (Colab's, say) gets.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
PINNED = ("tensorflow", "keras", "jax", "keras-self-attention")


def lowest_versions(text: str) -> dict[str, str]:
    """``{package: lowest admitted version}`` for :data:`PINNED`; ValueError if one has no lower bound."""
    found = {}
    for line in text.splitlines():
        spec = line.split("#", 1)[0].strip()
        name = re.split(r"[<>=!~ ]", spec, 1)[0].strip().lower()
        if name in PINNED:
            bound = re.search(r"(?:>=|==)\s*([\w.]+)", spec)
            if not bound:
                raise ValueError(f"requirements.txt gives {name} no lower bound: {spec!r}")
            found[name] = bound.group(1)
    missing = set(PINNED) - set(found)
    if missing:
        raise ValueError(f"requirements.txt does not list {sorted(missing)}")
    return found


if __name__ == "__main__":
    sys.stdout.write("".join(f"{name}=={version}\n" for name, version in lowest_versions(REQUIREMENTS.read_text()).items()))
