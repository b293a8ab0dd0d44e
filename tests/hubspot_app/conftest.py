"""The sandbox fixtures (``running_sandbox``, ``sandbox``) for every test of this package."""

from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
