"""``HubSpotApi``: the HubSpot API (``api.hubapi.com``) under ``/hubspot``, assembled from one mixin
per resource. The routes (v3 and ``2026-03`` families onto the same handlers) are in ``routes``.
"""

from __future__ import annotations

from sandbox.hubspot.associations import Associations
from sandbox.hubspot.batch import Batch
from sandbox.hubspot.control import Control
from sandbox.hubspot.limits import Limits
from sandbox.hubspot.objects import Objects
from sandbox.hubspot.routes import API_RULES, CONTROL_RULES
from sandbox.hubspot.search import Search


class HubSpotApi(Limits, Objects, Batch, Search, Associations, Control):
    """The HubSpot API (``api.hubapi.com``) under ``/hubspot``."""

    name = "hubspot"
    prefix = "/hubspot"
    rules = API_RULES
    control_rules = CONTROL_RULES
