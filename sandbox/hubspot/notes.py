"""Notes on deals: what tests read back, and the scope HubSpot asks to write them."""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.records import Records


class Notes(Records):
    """Notes (created through the objects endpoints)."""

    def notes_for_deal(self, portal_id: int, deal_id: str) -> list[dict[str, Any]]:
        with self.lock:
            portal = self._get_portal(portal_id)
            notes = portal["objects"]["notes"]
            ids = self._assoc_targets(portal, "deals", str(deal_id), "notes")
            return [self._out(portal, "notes", notes[i], all_props=True) for i in sorted(ids, key=int)]

    def set_notes_require_contacts_scope(self, strict: bool) -> None:
        """Strict (default): creating a note needs ``crm.objects.contacts.write``, as HubSpot's notes
        docs say. Lenient: ``crm.objects.deals.write`` is enough too."""
        with self.lock:
            self.state["settings"]["notes_require_contacts_scope"] = bool(strict)
