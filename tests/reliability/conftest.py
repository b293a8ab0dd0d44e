"""The sandbox and the operational demo tenant (``invoice_world``) for the reliability tests."""

from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import invoice_world_fixture  # noqa: F401
