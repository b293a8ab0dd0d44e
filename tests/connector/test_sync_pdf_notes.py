"""Issue 13, the PDF on the deal: an invoice finalized directly in Qonto (or whose PDF came after the
click's polls ran out) gets its PDF note from the next sync, once, and only while it is recent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from connector.models import Invoice
from connector.sync.pdfs import PDF_NOTE_WINDOW
from sandbox import demo
from tests.connector.test_credit_notes import click, sync
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401


def pdf_notes(world: InvoiceWorld) -> list[dict[str, Any]]:
    notes = world.hubspot.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)
    return [n for n in notes if "/invoices/pdf/" in n["properties"]["hs_note_body"]]


@pytest.mark.django_db
def test_an_invoice_finalized_in_qonto_gets_its_pdf_note_from_the_next_sync_once(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, settings
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    settings.QONTO_PDF_POLL_S = 0
    world.qonto.set_switches(attachment_delay_s=0)
    inv = click(world, django_capture_on_commit_callbacks, "pdf-sync-1")
    world.qonto.finalize(inv.qonto_invoice_id)  # in Qonto's app, not from the card
    assert pdf_notes(world) == []

    with django_capture_on_commit_callbacks(execute=True):
        sync(world)
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.UNPAID
    assert inv.attachment_id
    assert inv.pdf_noted_at is not None
    notes = pdf_notes(world)
    assert len(notes) == 1
    assert inv.number in notes[0]["properties"]["hs_note_body"]

    with django_capture_on_commit_callbacks(execute=True):
        sync(world, full=True)
    assert len(pdf_notes(world)) == 1  # never twice


@pytest.mark.django_db
def test_an_invoice_finalized_long_ago_is_left_alone(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, settings
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    settings.QONTO_PDF_POLL_S = 0
    world.qonto.set_switches(attachment_delay_s=0)
    inv = click(world, django_capture_on_commit_callbacks, "pdf-sync-old")
    world.qonto.finalize(inv.qonto_invoice_id)
    with django_capture_on_commit_callbacks(execute=True):
        sync(world)
    # As if the note had never been made and the invoice was finalized before the window.
    Invoice.objects.filter(pk=inv.pk).update(
        pdf_noted_at=None, finalized_at=timezone.now() - PDF_NOTE_WINDOW - timedelta(hours=1)
    )
    before = len(pdf_notes(world))
    with django_capture_on_commit_callbacks(execute=True):
        sync(world, full=True)
    assert len(pdf_notes(world)) == before
    inv.refresh_from_db()
    assert inv.pdf_noted_at is None
