"""The text of a committed notebook's stored outputs, for the tests that check prose and pages against them."""
from pathlib import Path

import nbformat


def output_text(path: Path) -> str:
    """Every stored output of a notebook as text: streams, plain text and HTML (tables)."""
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            data = output.get("data", {})
            texts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(t if isinstance(t, str) else "".join(t) for t in texts)
