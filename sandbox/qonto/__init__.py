"""Local simulator of Qonto's Business API v2 (organization, clients, client invoices).

It implements the documented contract of ``/work/shared/spec/qonto.md`` §9 and, where the facts are
uncertain, it is *stricter* than Qonto so that a connector that passes against it is likely to pass
against the real API. Mounted under ``/qonto`` (``QONTO_API_BASE=http://host:port/qonto``).

Choices where the spec is silent (all switchable through ``set_switches`` / ``POST /_sim/qonto/switches``):

- creates (clients and invoices) answer **200** (``create_status`` switch: 200 or 201);
- deletes and ``send``/``send_by_einvoice`` answer 204 with an empty body;
- invalid transitions answer 422 ``invalid_status_transition``;
- unit prices with more than 2 decimals are rounded half-up to cents *before* the line is computed
  (Qonto holds amounts in cents), then ``subtotal = qty × unit_price × (1 − discount)`` and
  ``total_vat = subtotal × vat_rate`` are each rounded half-up to cents; an invoice-level discount is
  spread over the lines so the invoice totals stay the sums of the lines;
- a client that cannot be invoiced gives 422 ``blank`` with the pointer the spec quotes
  (``/data/attributes/currency``, ``/data/attributes/locale``,
  ``/data/attributes/billing_address/<field>``) and a detail naming the client;
- the default ``sort_by`` of the invoice list is ``created_at:desc``; of the client list ``name:asc``;
- ``paid_at`` is taken as a date (``YYYY-MM-DD``, kept as midnight UTC) or a datetime and returned as an
  ISO datetime; "in the future" is judged against today in Europe/Paris on the sandbox clock;
- a staging token sent while staging mode is off gets 401 (production rejects it; switch
  ``reject_staging_token_in_production``);
- numbers are ``F-<year>-<seq:04d>``, sequential per organization; drafts show ``number: null`` (a requested
  ``number`` is reserved and applied at finalize) but do have an ``invoice_url`` (as in the spec example);
- ``quantity`` must be > 0 and ``unit_price.value`` ≥ 0; ``send`` is refused on drafts and canceled invoices;
- ``errors_as_object`` mode (422 only) answers ``{"errors": {"items.0.vat_rate": ["…"]}, "trace_id"}``.

The control surface lives under ``/_sim/qonto`` (no auth) and mirrors the public Python methods of
``QontoSim`` (see ``control_rules``); ``/qonto/app`` is a tiny "Qonto web app" for the demo.

Layout: ``app`` assembles ``QontoSim`` from one mixin per resource over ``base`` (state, switches,
plumbing): ``limits`` (staging token, rate limits, API key), ``organization``, ``clients``,
``invoices``, ``items`` and ``validation`` (invoice bodies and amounts), ``lifecycle`` (status
transitions), ``listing`` (filters, sorts, pagination), ``serialize`` (Qonto's JSON), ``bulk``
(benchmarks), ``persistence`` (state dump), ``web`` (the demo pages) and ``control``
(``/_sim/qonto``). ``state`` holds the records, ``model`` the contract's constants and value helpers,
``errors`` Qonto's error bodies, ``signatures`` the webhook signature.
"""

from __future__ import annotations

from sandbox.qonto.app import QontoSim
from sandbox.qonto.errors import QontoSimError, api_error
from sandbox.qonto.signatures import sign_webhook

__all__ = ["QontoSim", "QontoSimError", "api_error", "sign_webhook"]
