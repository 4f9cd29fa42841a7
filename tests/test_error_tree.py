"""One error tree (domain/errors.py), one table of answers (api/errors.py). The HTTP layer's own
signals (a body too large, a slow client) are the server's, answered where they arise (api/limits.py)."""

import importlib
import inspect
import pkgutil

import pytest

from api.errors import ANSWERS, answer_for
from domain.errors import (
    BatchRejected,
    InvalidInput,
    LedgerError,
    NotPermitted,
    Problem,
    Unavailable,
)
from ledger.bundle_format import Tampered

# The offline verifier's errors ship in every bundle's standard-library-only verify.py.
OUTSIDE_THE_ROOT = {"Tampered", "CheckpointError", "ProofError", "VerifierKeyError", "PolicyError"}


def _our_exception_classes() -> list[type[BaseException]]:
    found = []
    for package in ("domain", "ledger", "projections"):
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
            module = importlib.import_module(info.name)
            found += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, BaseException) and cls.__module__ == info.name
            ]
    return found


def test_every_error_the_ledger_defines_is_in_the_tree_and_answered_by_the_table() -> None:
    classes = _our_exception_classes()
    assert len(classes) > 15
    for cls in classes:
        assert issubclass(cls, LedgerError) or cls.__name__ in OUTSIDE_THE_ROOT, cls
        assert any(issubclass(cls, row) for row in ANSWERS), cls


@pytest.mark.parametrize(
    "error, status, exit_code",
    [
        (NotPermitted("not yours"), 403, 1),
        (BatchRejected("forbidden", [Problem(0, "type", "no")]), 403, 1),
        (BatchRejected("conflict", [Problem(0, "event_id", "reused")]), 409, 1),
        (BatchRejected("invalid", [Problem(0, "data.member_id", "unknown")]), 422, 1),
        (InvalidInput("bad"), 422, 2),
        (Unavailable("busy"), 503, 1),
        (Tampered("changed", position=3), 500, 1),
    ],
)
def test_each_error_answers_by_its_nearest_row(error: BaseException, status: int, exit_code: int) -> None:
    answer = answer_for(error)
    assert (answer.status, answer.exit_code) == (status, exit_code)


def test_an_error_outside_the_tree_has_no_answer() -> None:
    with pytest.raises(LookupError):
        answer_for(KeyError("x"))
