"""Invoice creation, from a click on the card to a draft in Qonto — never twice.

Modules: ``state`` (is the tenant operational?), ``selectors`` (reads), ``request`` (step 1 and the
card's retry), ``submit`` and ``qonto_clients`` (step 2), ``apply`` (Qonto's answer onto our row,
shared with the sync), ``write_back`` (step 3).

The flow (journey step 5 of ARCHITECTURE.md):

1. ``invoice_request_create`` (web, synchronous, < 1 s): the idempotency key answers a repeated
   click with the same row; the tenant must be operational; the deal is read from HubSpot (≤ 3
   calls) and validated; under a row lock on the deal, the request is checked against the
   invoices already made (one live *full* invoice, deposits ≤ the deal), the Qonto payload is
   built (pure function) and the ``Invoice`` row is committed as PENDING; the task is queued on
   commit.
2. ``invoice_submit_to_qonto`` (worker): under a lock held across processes, finds or creates the
   Qonto client, commits CREATING, then POSTs the invoice with ``status: "draft"``. If an earlier
   attempt may have created it (status CREATING: a timeout, a 5xx, a worker killed after the
   POST, a retry hours later), Qonto is searched for our key first and the invoice adopted.
3. ``invoice_write_back`` (worker): one PATCH of the deal's properties and one note per invoice.

Retryable errors are retried by the tasks with backoff; when retries run out, the row ends FAILED
with the reason the card shows.
"""
