"""Webhook events as HubSpot sends them, posted signed to our product."""

from __future__ import annotations

from typing import Any

import requests

from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.signatures import post_webhook


class Webhooks(HubSpotBase):
    """Webhook events."""

    def webhook_event(
        self, portal_id: int, subscription_type: str, object_id: str | int, **extra: Any
    ) -> dict[str, Any]:
        """One webhook event with HubSpot's fields (eventId, subscriptionId, occurredAt in ms, …)."""
        return {
            "eventId": self.ids.sequence("hubspot:webhook-event", start=1000000001),
            "subscriptionId": 2500001,
            "portalId": int(portal_id),
            "appId": int(self.config.hubspot_app_id),
            "occurredAt": int(self.clock.now().timestamp() * 1000),
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeSource": "CRM_UI",
            "changeFlag": extra.pop(
                "changeFlag", "DELETED" if subscription_type.endswith(".deletion") else "UPDATED"
            ),
            "sourceId": "userId:7001",
            **extra,
        }

    def send_webhook(self, events: list[dict[str, Any]], url: str | None = None) -> requests.Response:
        """POST a signed webhook batch to our product (default: connector_base_url + /hubspot/webhooks)."""
        target = url or f"{self.config.connector_base_url.rstrip('/')}/hubspot/webhooks"
        return post_webhook(target, events, client_secret=self.config.hubspot_client_secret)
