"""What one sync run counted, and what it still has to do (shared by the run's steps)."""

from __future__ import annotations

import dataclasses
from datetime import datetime


@dataclasses.dataclass
class SyncStats:
    seen: int = 0
    changed: int = 0
    deals_written: int = 0
    hubspot_calls: int = 0
    credit_notes_seen: int = 0
    credit_notes_new: int = 0
    drafts_deleted: int = 0
    dirty_deals: set[str] = dataclasses.field(default_factory=set)
    max_updated: datetime | None = None
    # Credit notes our invoices list (``credit_notes_ids``) that we do not know yet.
    unknown_credit_notes: set[str] = dataclasses.field(default_factory=set)
