"""Fetch the JavaScript the course website loads, so its pages render with no network.

Usage: python -m tools.vendor_site_js      (run by ``make site``'s set-up step; idempotent)

Sphinx loads MathJax, and myst-nb loads require.js and the Jupyter widget manager, from CDNs by default. The
website serves its own copies instead, taken once from the npm registry at the pinned versions below, each
tarball checked against the registry's SHA-512 integrity string, and unpacked under ``site/_vendor/`` (not
committed; ``site/conf.py`` points Sphinx and myst-nb at it). After this step ``make site`` needs no network.

- MathJax 3.2.2 (``es5/``: the TeX+MathML input, CommonHTML output and its woff fonts, which it loads from
  beside itself). MathJax 4 would fetch its fonts from a CDN.
- require.js 2.3.8, which the widget manager needs.
- @jupyter-widgets/html-manager 1.0.15 (``dist/``): renders the widget views stored in lessons 02 and 07
  (ipywidgets 8), with the controls and output widgets built in.
- axe-core 4.10.3 (``axe.min.js``), the accessibility engine ``tools/check_site.py`` injects into each page in the
  browser; the pages themselves never load it (it lives in ``site/_vendor/axe/``, which Sphinx does not copy).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "site" / "_vendor"
REGISTRY = "https://registry.npmjs.org"

#: name, version, the registry's integrity string, the folder inside the package to keep, where it goes
PACKAGES = (
    ("mathjax", "3.2.2",
     "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
     "es5", "mathjax"),
    ("requirejs", "2.3.8",
     "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
     "require.js", "requirejs/require.js"),
    ("@jupyter-widgets/html-manager", "1.0.15",
     "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
     "dist", "html-manager"),
    ("axe-core", "4.10.3",
     "sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg==",
     "axe.min.js", "axe/axe.min.js"),
)


def fetch(name: str, version: str, integrity: str) -> bytes:
    url = f"{REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    algorithm, expected = integrity.split("-", 1)
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{url}: integrity check failed ({algorithm} {actual} != {expected})")
    return data


def unpack(data: bytes, inside: str, target: Path) -> None:
    prefix = f"package/{inside}"
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not (member.name == prefix or member.name.startswith(prefix + "/")):
                continue
            relative = member.name[len(prefix):].lstrip("/")
            out = tmp / relative if relative else tmp
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)   # --help, nothing else
    for name, version, integrity, inside, where in PACKAGES:
        target = VENDOR / where
        stamp = VENDOR / f".{name.replace('/', '_')}-{version}"
        if stamp.exists() and target.exists():
            continue
        print(f"vendoring {name}@{version} from the npm registry into {target.relative_to(ROOT)}", flush=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        unpack(fetch(name, version, integrity), inside, target)
        stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
