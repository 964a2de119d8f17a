"""Self-check helpers for the lessons' exercises, one module per lesson (``lesson01`` ...).

Each ``check_...`` function prints what is right or wrong and returns True or False; it never
raises on a wrong answer, so an unfinished exercise does not stop the notebook.
"""


def report(problems: list[str], success: str) -> bool:
    """Print each problem with ✗ (or the success line with ✓); True when there is no problem."""
    for problem in problems:
        print("✗", problem)
    if not problems:
        print("✓", success)
    return not problems
