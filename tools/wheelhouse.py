"""Download every wheel the course needs into wheelhouse/, for a room without network (``make wheelhouse``).

Usage: python -m tools.wheelhouse [--platforms all|host|NAME,...] [--dest DIR]

Run it before the workshop on a machine with network, then copy the repository with its ``wheelhouse/`` folder
to the learners' machines (a USB stick). There, ``make lab OFFLINE=1`` or ``python -m tools.course lab --offline``
installs requirements.txt from it with no package index.

``--platforms all`` (the default) fetches wheels for the machines learners bring, on Python 3.11, 3.12 and 3.13:
Linux (x86_64), macOS on Apple silicon, macOS on Intel, and Windows (x86_64). ``host`` fetches only what this
machine's Python needs (the offline-install test uses it).

macOS on Intel cannot run the course from wheels: TensorFlow publishes no macOS Intel wheel after 2.16 and jaxlib
none after 0.4.38, below the ranges of requirements.txt (checked on PyPI with this tool). The tool says so and
goes on; those learners use Colab or the course website.

keras-self-attention and keras-multi-head are published as source archives only; they are pure Python, so the
tool builds them once into universal ``py3-none-any`` wheels, which every platform installs without a build step.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from utils.check_setup import requirements  # (requirements.txt, parsed by packaging)

ROOT = Path(__file__).resolve().parents[1]

REQUIREMENTS = ROOT / "requirements.txt"
PYTHONS = ("3.11", "3.12", "3.13")
SOURCE_ONLY = ("keras-self-attention", "keras-multi-head")   # no wheels on PyPI: built here, pure Python
#: pip's platform tags for each kind of machine (pip matches a wheel if any tag fits)
PLATFORMS = {
    "linux-x86_64": ["manylinux2014_x86_64"] + [f"manylinux_2_{minor}_x86_64" for minor in range(17, 36)],
    "macos-arm64": [f"macosx_{major}_0_{arch}" for major in range(11, 16) for arch in ("arm64", "universal2")],
    "macos-x86_64": ([f"macosx_10_{minor}_{arch}" for minor in range(9, 16) for arch in ("x86_64", "universal2")]
                     + [f"macosx_{major}_0_{arch}" for major in range(11, 16) for arch in ("x86_64", "universal2")]),
    "windows-x86_64": ["win_amd64"],
}
NO_WHEELS = {"macos-x86_64": "TensorFlow >= 2.19 and jaxlib >= 0.5.2 publish no macOS Intel wheels; "
                             "learners with an Intel Mac use Colab or the course website"}


def pip(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, text=True, capture_output=True)


def source_only_pins() -> list[str]:
    return [str(requirement) for requirement in requirements(REQUIREMENTS) if requirement.name in SOURCE_ONLY]


def build_source_only(dest: Path) -> None:
    done = pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), *source_only_pins())
    if done.returncode:
        raise SystemExit(f"building {', '.join(SOURCE_ONLY)} into wheels failed:\n{done.stderr}")


def download(dest: Path, platform: str | None, python: str | None) -> subprocess.CompletedProcess:
    args = ["download", "--quiet", "--only-binary=:all:", "--dest", str(dest), "--find-links", str(dest),
            "-r", str(REQUIREMENTS)]
    if platform:
        args += [f"--platform={tag}" for tag in PLATFORMS[platform]]
        args += ["--python-version", python, "--implementation", "cp"]
    return pip(*args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platforms", default="all", help=f"all, host, or names among {', '.join(PLATFORMS)}")
    parser.add_argument("--dest", type=Path, default=ROOT / "wheelhouse")
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    if args.platforms == "host":
        targets = [(None, None)]
    else:
        names = list(PLATFORMS) if args.platforms == "all" else args.platforms.split(",")
        unknown = sorted(set(names) - set(PLATFORMS))
        if unknown:
            parser.error(f"unknown platform(s) {unknown}; choose among {', '.join(PLATFORMS)}")
        targets = [(name, python) for name in names for python in PYTHONS]
    build_source_only(dest)
    failed = []
    for platform, python in targets:
        label = "this machine" if platform is None else f"{platform}, Python {python}"
        done = download(dest, platform, python)
        if done.returncode == 0:
            print(f"✓ {label}: every wheel of requirements.txt is in {dest}", flush=True)
        elif platform in NO_WHEELS:
            print(f"– {label}: no wheels exist: {NO_WHEELS[platform]}", flush=True)
        else:
            reason = [line for line in done.stderr.splitlines() if line.startswith("ERROR")] or [done.stderr]
            print(f"✗ {label}: {reason[-1]}", flush=True)
            failed.append(label)
    size = sum(f.stat().st_size for f in dest.glob("*.whl")) / 1e9
    print(f"{len(list(dest.glob('*.whl')))} wheels, {size:.1f} GB in {dest}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
