"""The sandbox and the operational demo tenant (``invoice_world``) for the security tests."""

from collections.abc import Iterator

import pytest

from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import invoice_world_fixture  # noqa: F401


@pytest.fixture(autouse=True)
def _eager_tasks_retry_like_a_worker() -> Iterator[None]:
    """As config/settings/test.py says (a retry re-runs the task), whatever an earlier test left."""
    from config.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous
