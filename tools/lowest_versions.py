"""Print pip constraints that pin the deep-learning stack to the lowest versions requirements.txt admits.

Usage: python -m tools.lowest_versions > constraints.txt   (make test-oldest does this, with packaging installed)

Only the packages whose ranges the course claims to support from their lower bound are pinned: TensorFlow,
Keras, JAX and keras-self-attention. Everything else resolves as usual, so the result is what a learner with
an older preinstalled stack (Colab's, say) gets.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from utils.check_setup import requirements

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
PINNED = ("tensorflow", "keras", "jax", "keras-self-attention")


def lowest_versions(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``{package: lowest admitted version}`` for :data:`PINNED`; ValueError if one has no lower bound."""
    found = {}
    for requirement in requirements(path):
        name = requirement.name.lower()
        if name in PINNED:
            bounds = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==")]
            if not bounds:
                raise ValueError(f"requirements.txt gives {name} no lower bound: {requirement}")
            found[name] = bounds[0]
    missing = set(PINNED) - set(found)
    if missing:
        raise ValueError(f"requirements.txt does not list {sorted(missing)}")
    return found


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()   # --help, nothing else
    sys.stdout.write("".join(f"{name}=={version}\n" for name, version in lowest_versions().items()))
