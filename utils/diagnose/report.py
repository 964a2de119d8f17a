"""The clinic's report: each check's :class:`Finding`, the :class:`Report` that holds them, and
:func:`before_after`, two reports side by side as a fix's evidence."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

WARNING, OK, INFO, CANNOT = "warning", "ok", "info", "cannot run"


@dataclass
class Finding:
    """One check's result: what was checked, its status, the measured evidence, why it matters, the fix."""

    area: str        # "model", "data" or "ceiling"
    check: str       # the check's name, e.g. "padding leak"
    status: str      # "warning", "ok", "info" or "cannot run"
    evidence: str    # what was measured, in words with the number
    value: float | None = None   # the measured number itself (None when nothing could be measured)
    why: str = ""
    fix: str = ""


class Report:
    """The clinic's report: ``report.frame`` (a DataFrame), ``print(report)``, ``report.warnings``."""

    def __init__(self, findings: list[Finding], model_name: str, data_name: str):
        self.findings, self.model_name, self.data_name = findings, model_name, data_name
        self.peers: pd.DataFrame | None = None   # the ceiling estimate's peer scores (ceiling=True)
        self.curve: pd.DataFrame | None = None   # the learning curve (ceiling=True)
        #: each peer's predicted labels on the test and the training split (ceiling=True), for paired verdicts
        self.peer_predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def frame(self) -> pd.DataFrame:
        """The findings as a table: one row per :class:`Finding`, one column per field."""
        return pd.DataFrame([asdict(f) for f in self.findings])

    @property
    def warnings(self) -> list[Finding]:
        """The findings whose status is ``"warning"``."""
        return [f for f in self.findings if f.status == WARNING]

    def checks(self, status: str = WARNING) -> set[str]:
        """The names of the checks with ``status`` (warnings by default).

        Args:
            status: ``"warning"``, ``"ok"``, ``"info"`` or ``"cannot run"``.

        Returns:
            The set of check names, e.g. ``{"padding leak"}``.
        """
        return {f.check for f in self.findings if f.status == status}

    def get(self, check: str) -> Finding:
        """The finding of one check.

        Args:
            check: the check's name, e.g. ``"padding leak"``.

        Returns:
            The first :class:`Finding` with that name.

        Raises:
            ValueError: the report has no such check (the message lists the checks it has).
        """
        for finding in self.findings:
            if finding.check == check:
                return finding
        raise ValueError(f"the report has no check {check!r}; it has {[f.check for f in self.findings]}")

    def __str__(self) -> str:
        marks = {WARNING: "!!", OK: "ok", INFO: "--", CANNOT: "??"}
        lines = [f"Clinic report: model {self.model_name!r} on {self.data_name}",
                 f"{len(self.warnings)} warning(s); '??' = a check that could not run here", ""]
        for area in ("model", "data", "ceiling"):
            found = [f for f in self.findings if f.area == area]
            if not found:
                continue
            lines.append(f"{area.upper()}")
            order = {WARNING: 0, CANNOT: 1, INFO: 2, OK: 3}
            for f in sorted(found, key=lambda f: order[f.status]):
                lines.append(f"  {marks[f.status]} {f.check}: {f.evidence}")
                if f.status == WARNING:
                    lines += [f"       why: {f.why}", f"       fix: {f.fix}"]
            lines.append("")
        return "\n".join(lines).rstrip()

    def _repr_pretty_(self, printer, cycle):  # a bare `report` in a notebook prints the readable form
        printer.text(str(self))


def before_after(before: Report, after: Report, checks=None) -> pd.DataFrame:
    """Two reports side by side (a fix's evidence): for each of ``checks`` (default: every check that warned in
    either report), its status and measured value before and after, and the evidence after.

    Args:
        before: the report before the fix.
        after: the report after it.
        checks: the check names to show; ``None`` shows every check that warned in either report.

    Returns:
        A ``DataFrame`` indexed by check, with columns ``before``, ``value before``, ``after``, ``value after``
        and ``evidence after``; a check a report does not run shows as ``"not applicable"``.

    Raises:
        ValueError: a check in ``checks`` that neither report has.

    Example:
        ::

            before_after(diagnose(model, data), diagnose(fixed, data))
    """
    names = list(checks) if checks is not None else \
        [f.check for f in before.findings if f.status == WARNING] + \
        [f.check for f in after.findings if f.status == WARNING and f.check not in before.checks()]
    def find(report, name):   # some checks report only when they apply (a Flatten head, a single vector)
        found = [f for f in report.findings if f.check == name]
        return found[0] if found else Finding("model", name, "not applicable", "the model has nothing to check here")

    rows = []
    for name in dict.fromkeys(names):
        b, a = find(before, name), find(after, name)
        if b.status == a.status == "not applicable":
            raise ValueError(f"neither report has a check {name!r}")
        rows.append({"check": name, "before": b.status, "value before": b.value, "after": a.status,
                     "value after": a.value, "evidence after": a.evidence})
    return pd.DataFrame(rows).set_index("check")
