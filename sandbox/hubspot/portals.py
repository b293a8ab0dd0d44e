"""Portals (HubSpot accounts): creation with the standard properties, account details, their
users (``GET /settings/users/2026-03/{userId}`` and its legacy ``/settings/v3/users/{userId}``,
scope ``settings.users.read``, with ``superAdmin`` [doc]), and the request log of one portal.

Users: the first one of a portal (its installer) is a super admin, the others are not, unless
``set_super_admin`` says otherwise [sim decision].
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import LoggedRequest, json_response
from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.model import DEFAULT_GROUPS, OBJECT_TYPE_IDS
from sandbox.hubspot.oauth import DATA_CENTRE
from sandbox.hubspot.standard import standard_properties


class Portals(HubSpotBase):
    """Portal accounts."""

    def create_portal(
        self,
        portal_id: int,
        *,
        domain: str | None = None,
        name: str | None = None,
        users: Iterable[tuple[int, str]] | None = None,
        currency: str = "EUR",
    ) -> dict[str, Any]:
        """A portal with HubSpot's standard properties and groups, not installed. Returns a copy."""
        user_list = (
            list(users)
            if users is not None
            else [(int(portal_id) % 100000 + 1, f"admin@{portal_id}.example")]
        )
        with self.lock:
            if str(portal_id) in self.state["portals"]:
                raise ValueError(f"portal {portal_id} already exists")
            portal: dict[str, Any] = {
                "id": int(portal_id),
                "domain": domain or f"portal-{portal_id}.hubspot.com",
                "name": name or f"Portail {portal_id}",
                "currency": currency,
                "time_zone": "Europe/Paris",
                "users": {
                    str(uid): {"id": int(uid), "email": email, "super_admin": n == 0}
                    for n, (uid, email) in enumerate(user_list)
                },
                "installer_user_id": int(user_list[0][0]),
                "installed": False,
                "install_gen": 0,
                "installed_at": None,
                "uninstalled_at": None,
                "scopes": [],
                "objects": {t: {} for t in OBJECT_TYPE_IDS},
                "assoc": {},
                "properties": {t: standard_properties(t) for t in OBJECT_TYPE_IDS},
                "groups": {
                    t: {g: {"name": g, "label": label, "displayOrder": -1, "archived": False}}
                    for t, (g, label) in DEFAULT_GROUPS.items()
                },
                "tax_rates": {},
            }
            self.state["portals"][str(portal_id)] = portal
            return copy.deepcopy(
                {k: v for k, v in portal.items() if k not in ("objects", "assoc", "properties")}
            )

    def account_info(self, request: Request, **_: str) -> Response:
        self._require(request, ["oauth"])
        with self.lock:
            portal = self._portal(request)
            return json_response(
                {
                    "portalId": portal["id"],
                    "accountType": "STANDARD",
                    "timeZone": portal.get("time_zone", "Europe/Paris"),
                    "companyCurrency": portal.get("currency", "EUR"),
                    "additionalCurrencies": [],
                    "utcOffset": "+01:00",
                    "utcOffsetMilliseconds": 3600000,
                    "uiDomain": "app.hubspot.com",
                    "dataHostingLocation": DATA_CENTRE,
                }
            )

    def set_super_admin(self, portal_id: int, user_id: int, super_admin: bool = True) -> None:
        """Make a user of the portal a super admin (or take it away)."""
        with self.lock:
            self.state["portals"][str(portal_id)]["users"][str(user_id)]["super_admin"] = bool(super_admin)

    def settings_user_get(self, request: Request, user_id: str, **_: str) -> Response:
        """One user of the portal; ``idProperty=EMAIL`` looks it up by e-mail [doc]."""
        self._require(request, ["settings.users.read"])
        by_email = request.args.get("idProperty", "USER_ID").upper() == "EMAIL"
        with self.lock:
            users = self._portal(request)["users"]
            if by_email:
                user = next((u for u in users.values() if u["email"].lower() == user_id.lower()), None)
            else:
                user = users.get(user_id) if user_id.isdecimal() else None
            if user is None:
                return self._error(404, f"No user {user_id} in this account", "OBJECT_NOT_FOUND")
            return json_response(
                {
                    "id": str(user["id"]),
                    "email": user["email"],
                    "roleIds": [],
                    "superAdmin": bool(user.get("super_admin")),
                    "sendWelcomeEmail": False,  # only true in a provisioning answer [doc]
                }
            )

    def calls(
        self, portal_id: int, *, method: str | None = None, path_contains: str | None = None
    ) -> list[LoggedRequest]:
        """The HubSpot API requests logged for the portal (its bearer token or OAuth token)."""
        return [
            e
            for e in self.sandbox.log.entries(self.name)
            if e.portal == str(portal_id)
            and (method is None or e.method == method.upper())
            and (path_contains is None or path_contains in e.path)
        ]
