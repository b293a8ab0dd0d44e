"""The core records: tenants, their Qonto connection, deals, invoices and sync runs.

Every tenant-owned row carries ``tenant`` and every unique constraint includes it, so one
tenant's data cannot collide with, or leak into, another's.

The records live in one module per concern (``tenants``, ``invoices``, ``actions``, ``automation``,
``sync``, ``history``, ``support``); import them from ``connector.models``.
"""

from connector.models.actions import InvoiceAction
from connector.models.automation import AutomationRun, StageRule
from connector.models.base import NOT_LOADED, BaseModel, loaded_relation, mark_loaded_with
from connector.models.history import HistoryCandidate, HistoryImport
from connector.models.invoices import Deal, Invoice, QontoClientLink
from connector.models.support import AuditLog, TaskFailure
from connector.models.sync import CreditNote, SyncRun
from connector.models.tenants import QontoConnection, Tenant

__all__ = [
    "NOT_LOADED",
    "AuditLog",
    "AutomationRun",
    "BaseModel",
    "CreditNote",
    "Deal",
    "HistoryCandidate",
    "HistoryImport",
    "Invoice",
    "InvoiceAction",
    "QontoClientLink",
    "QontoConnection",
    "StageRule",
    "SyncRun",
    "TaskFailure",
    "Tenant",
    "loaded_relation",
    "mark_loaded_with",
]
