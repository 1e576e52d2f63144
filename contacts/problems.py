"""One 400 for every problem a request shows, rather than one per check."""

from collections.abc import Callable
from typing import Any

from .bulk_input import BodyProblems


def problems_gathered(*checks: Callable[[], Any]) -> list[Any]:
    """Run every check in order and return their results; if any raised BodyProblems,
    raise one naming the problems of all of them, in the order of the checks."""
    results, problems = [], []
    for check in checks:
        try:
            results.append(check())
        except BodyProblems as exc:
            problems += exc.errors
            results.append(None)
    if problems:
        raise BodyProblems(problems)
    return results
