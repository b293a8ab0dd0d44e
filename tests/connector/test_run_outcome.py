"""``failure_recorded``: how a sync or a history import ends FAILED with a reason support can read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connector.exceptions import QontoPermanentError
from connector.models import SyncRun
from connector.run_outcome import ERROR_MAX_CHARS, failure_recorded


class _Run(SimpleNamespace):
    Status = SyncRun.Status


def test_an_application_error_ends_the_run_failed_with_its_code_and_is_not_raised() -> None:
    run = _Run(status=SyncRun.Status.RUNNING, error="")
    with failure_recorded(run, what="sync", portal_id=42):
        raise QontoPermanentError(detail="list refused: 403 forbidden")
    assert run.status == SyncRun.Status.FAILED
    assert run.error == f"{QontoPermanentError.code}: list refused: 403 forbidden"


def test_an_unexpected_error_ends_the_run_failed_and_is_raised_again() -> None:
    run = _Run(status=SyncRun.Status.RUNNING, error="")
    with pytest.raises(KeyError), failure_recorded(run, what="sync", portal_id=42):
        raise KeyError("x" * 5000)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("KeyError: ")
    assert len(run.error) == ERROR_MAX_CHARS


def test_a_run_that_succeeds_keeps_the_status_it_set() -> None:
    run = _Run(status=SyncRun.Status.RUNNING, error="")
    with failure_recorded(run, what="sync", portal_id=42):
        run.status = SyncRun.Status.SUCCEEDED
    assert (run.status, run.error) == (SyncRun.Status.SUCCEEDED, "")
