"""Status sync: Qonto → our invoice rows (and credit notes) → HubSpot deals, incremental, cheap and
within budgets.

Per tenant (``tenant_sync``, in ``runs``), under a lock held across processes:

1. ``pages``: list the tenant's Qonto invoices updated since the last cursor (minus an overlap),
   page by page (``per_page=100``), applied and committed page by page;
2. ``drafts``: notice drafts deleted in Qonto (they vanish from the list): on a full run, those
   the listing did not show; on an incremental run, a comparison with Qonto's drafts every
   ``SYNC_DRAFT_CHECK_MINUTES``; each candidate confirmed with a GET before it is marked;
3. ``credit_notes``: the credit notes created since the same lower bound, plus those our invoices
   list and we do not know yet; they reduce their invoice's amounts;
4. ``deals``: the deals of every invoice seen (or credited, or deleted) are write-back
   candidates; a deal is written (``batch/update``, 100 per call) only when the fingerprint of its
   properties differs from the one last pushed;
5. ``pdfs``: the PDF note of invoices finalized lately (in Qonto directly, or a click whose polls
   ran out) that are not noted on their deal yet is queued;
6. the cursor moves to the highest ``updated_at`` seen only once every page is committed and the
   write-back is done; a run that dies half-way leaves it where it was and the next run re-lists
   and re-applies (idempotently) what it had already applied.

The full reconciliation (daily, ``full=True``) lists everything and writes every deal whose
fingerprint is behind. ``deal_sync`` (``refresh``) refreshes one deal by id for the card.
"""

from connector.sync.refresh import deal_sync
from connector.sync.runs import CURSOR_OVERLAP, operational_tenant_ids, tenant_sync

__all__ = ["CURSOR_OVERLAP", "deal_sync", "operational_tenant_ids", "tenant_sync"]
