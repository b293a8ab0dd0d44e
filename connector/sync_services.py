"""The status sync moved to the ``connector.sync`` package; this name stays for older callers."""

from connector.sync import CURSOR_OVERLAP, deal_sync, operational_tenant_ids, tenant_sync

__all__ = ["CURSOR_OVERLAP", "deal_sync", "operational_tenant_ids", "tenant_sync"]
