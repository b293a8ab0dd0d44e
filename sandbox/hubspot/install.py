"""The app's installation in a portal: install without the browser (tests), uninstall by the portal
or by the app (``DELETE /appinstalls/.../external-install``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.hubspot.model import hs_time
from sandbox.hubspot.oauth import OAuth
from sandbox.hubspot.scopes import DECLARED_SCOPES


class Install(OAuth):
    """Install lifecycle; an uninstall kills every token of the installation."""

    def appinstall_delete(self, request: Request, **_: str) -> Response:
        self._require(request, ["oauth"])
        with self.lock:
            self._uninstall(self._portal(request))
        return Response(status=204)

    def _uninstall(self, portal: dict[str, Any]) -> None:
        portal["installed"] = False
        portal["uninstalled_at"] = hs_time(self.clock.now())
        portal["install_gen"] += 1  # every token of the installation dies
        portal["scopes"] = []

    def install(
        self, portal_id: int, scopes: Iterable[str] | None = None, *, user_id: int | None = None
    ) -> tuple[str, str]:
        """Install the app without the browser: returns (access_token, refresh_token)."""
        granted = sorted(DECLARED_SCOPES) if scopes is None else list(scopes)
        with self.lock:
            portal = self._get_portal(portal_id)
            uid = int(user_id if user_id is not None else portal["installer_user_id"])
            self._mark_installed(portal, uid, granted)
            return self._issue(portal, uid, granted)

    def uninstall(self, portal_id: int) -> None:
        """The portal uninstalls the app: refresh → invalid_grant, API calls → 401."""
        with self.lock:
            self._uninstall(self._get_portal(portal_id))

    def is_installed(self, portal_id: int) -> bool:
        with self.lock:
            return bool(self._get_portal(portal_id)["installed"])
