"""A tiny "Qonto web app" for the demo (``/qonto/app``): each organization's invoices with the
actions a Qonto user has, and the fake PDF behind attachment URLs. Not Qonto's API; no auth.
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from sandbox.core import iso
from sandbox.qonto.serialize import Serializers
from sandbox.qonto.state import Invoice


class WebApp(Serializers):
    """The demo pages."""

    def app_index(self, request: Request) -> Response:
        with self.lock:
            rows = "".join(
                f"<tr><td><a href='/qonto/app/{quote(org.login)}'>{html.escape(org.login)}</a></td>"
                f"<td>{html.escape(org.legal_name)}</td><td class='num'>{len(org.invoices)}</td>"
                f"<td class='num'>{len(org.clients)}</td></tr>"
                for org in self.orgs.values()
            )
        body = (
            "<h1>Qonto (simulateur)</h1><p>Choisissez une organisation.</p>"
            "<table><thead><tr><th>Identifiant</th><th>Raison sociale</th><th>Factures</th><th>Clients</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        return _html_page("Qonto (simulateur)", body)

    def app_organization(self, request: Request, login: str) -> Response:
        limit = 500
        with self.lock:
            org = self.orgs.get(login)
            if org is None:
                return _html_page(
                    "Introuvable", f"<h1>Organisation inconnue : {html.escape(login)}</h1>", 404
                )
            invoices = list(org.invoices.values())[-limit:][::-1]
            total = len(org.invoices)
            next_url = f"/qonto/app/{quote(org.login)}"
            rows = "".join(self._app_row(inv, next_url) for inv in invoices)
            title = f"{org.legal_name} ({org.login})"
        msg = request.args.get("msg")
        flash = f"<p class='flash'>{html.escape(msg)}</p>" if msg else ""
        more = f"<p>Les {limit} plus récentes sur {total}.</p>" if total > limit else ""
        body = (
            f"<p><a href='/qonto/app'>← Organisations</a></p><h1>{html.escape(title)}</h1>{flash}"
            f"<p>Factures clients : {total}. <a href='{next_url}'>Rafraîchir</a></p>{more}"
            "<table><thead><tr><th>Numéro</th><th>Client</th><th>Commande</th><th>HT</th><th>TVA</th>"
            "<th>TTC</th><th>Statut</th><th>Mise à jour</th><th>Actions</th></tr></thead>"
            f"<tbody>{rows or '<tr><td colspan=9>Aucune facture.</td></tr>'}</tbody></table>"
        )
        return _html_page(title, body)

    def app_invoice(self, request: Request, login: str, invoice_id: str) -> Response:
        """One invoice as its seller sees it in the Qonto app (drafts included): never the payment page."""
        with self.lock:
            org = self.orgs.get(login)
            inv = self._invoices.get(invoice_id)
            if org is None or inv is None or inv.org_login != org.login or inv.status == "deleted":
                return _html_page(
                    "Introuvable", "<h1>Cette facture n'existe pas (ou plus) dans Qonto.</h1>", 404
                )
            here = f"/qonto/app/organizations/{quote(org.login)}/receivable-invoices/{quote(inv.id)}"
            row = self._app_row(inv, here)
            items = "".join(
                f"<tr><td>{html.escape(str(line.get('title') or ''))}</td>"
                f"<td class='num'>{html.escape(str(line.get('quantity') or ''))}</td>"
                f"<td class='num'>{html.escape(self._vat_label(line))}</td></tr>"
                for line in inv.items
            )
            footer = (
                f"<p class='mention' id='invoice-footer'>{html.escape(inv.footer)}</p>" if inv.footer else ""
            )
            title = f"{org.legal_name} — {inv.number or 'Brouillon'}"
        msg = request.args.get("msg")
        flash = f"<p class='flash'>{html.escape(msg)}</p>" if msg else ""
        body = (
            f"<p><a href='/qonto/app/{quote(login)}'>← Factures clients</a></p>"
            f"<h1 id='invoice-title'>{html.escape(title)}</h1>{flash}"
            "<p class='seller'>Vue vendeur (application Qonto) — pas la page de paiement du client.</p>"
            "<table><thead><tr><th>Numéro</th><th>Client</th><th>Commande</th><th>HT</th><th>TVA</th>"
            "<th>TTC</th><th>Statut</th><th>Mise à jour</th><th>Actions</th></tr></thead>"
            f"<tbody>{row}</tbody></table>"
            "<h2>Lignes</h2><table><thead><tr><th>Intitulé</th><th>Quantité</th><th>TVA</th></tr></thead>"
            f"<tbody>{items}</tbody></table>{footer}"
        )
        return _html_page(title, body)

    @staticmethod
    def _vat_label(line: dict[str, object]) -> str:
        rate = str(line.get("vat_rate") or "0")
        try:
            percent = f"{float(rate) * 100:g}".replace(".", ",")
        except ValueError:
            percent = rate
        return f"{percent} %"

    def app_file(self, request: Request, attachment_id: str) -> Response:
        with self.lock:
            inv = self._invoices.get(self._attachments.get(attachment_id, ""))
            if inv is None or self._visible_attachment(inv) is None:
                return Response("not found", status=404, content_type="text/plain")
            expires = request.args.get("expires", "")
            if expires.isdigit() and int(expires) < self.clock.now().timestamp():
                return Response("signed URL expired", status=403, content_type="text/plain")
            return Response(self._fake_pdf(inv), content_type="application/pdf")

    def _app_row(self, inv: Invoice, next_url: str) -> str:
        labels = {"draft": "Brouillon", "unpaid": "À payer", "paid": "Payée", "canceled": "Annulée"}
        nxt = urlencode({"next": next_url})

        def button(action: str, label: str, extra: str = "") -> str:
            return (
                f"<form method='post' action='/_sim/qonto/invoices/{quote(inv.id)}/{action}?{nxt}'>"
                f"{extra}<button type='submit'>{html.escape(label)}</button></form>"
            )

        actions: list[str] = []
        if inv.status == "draft":
            actions += [button("finalize", "Finaliser"), button("delete", "Supprimer le brouillon")]
        elif inv.status == "unpaid":
            actions += [
                button(
                    "mark_as_paid", "Marquer payée", "<input type='date' name='paid_at' title='Payée le'>"
                ),
                button("mark_as_canceled", "Annuler"),
            ]
        elif inv.status == "paid":
            actions.append(button("unmark_as_paid", "Marquer non payée"))
        if inv.status in ("unpaid", "paid"):
            # "Créer un avoir": the whole invoice (cancels it), or a partial amount excl. VAT.
            actions += [
                button("credit_notes", "Créer un avoir total"),
                button(
                    "credit_notes",
                    "Créer un avoir partiel",
                    "<input name='amount' inputmode='decimal' size='8' placeholder='HT €' "
                    "title='Montant HT de l’avoir'>",
                ),
            ]
        number = html.escape(inv.number) if inv.status != "draft" and inv.number else "<em>Brouillon</em>"
        page = f"/qonto/app/organizations/{quote(inv.org_login)}/receivable-invoices/{quote(inv.id)}"
        number = f"<a href='{page}'>{number}</a>"
        return (
            f"<tr class='{html.escape(inv.status)}'><td>{number}</td>"
            f"<td>{html.escape(str(inv.client.get('name') or ''))}</td>"
            f"<td>{html.escape(inv.purchase_order or '')}</td>"
            f"<td class='num'>{_eur_fr(inv.subtotal_cents)}</td><td class='num'>{_eur_fr(inv.vat_cents)}</td>"
            f"<td class='num'>{_eur_fr(inv.total_cents)}</td>"
            f"<td>{html.escape(labels.get(inv.status, inv.status))}</td>"
            f"<td>{html.escape(iso(inv.updated_at) or '')}</td>"
            f"<td class='actions'>{''.join(actions)}</td></tr>"
        )


def _eur_fr(cents: int) -> str:
    """1440.5 → "1 440,50 €" for the HTML page."""
    sign = "-" if cents < 0 else ""
    units = f"{abs(cents) // 100:,}".replace(",", "\u202f")
    return f"{sign}{units},{abs(cents) % 100:02d}\u00a0€"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d1d1b;background:#fafaf7}
h1{font-size:1.4rem}a{color:#5b3cc4}table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e4e2dc;padding:.45rem .6rem;text-align:left;font-size:.9rem}
td{vertical-align:middle}th{background:#f1efe9}td.num{text-align:right;white-space:nowrap}
td.actions form{display:inline-block;margin:0 .2rem}
button{border:1px solid #5b3cc4;background:#fff;color:#5b3cc4;border-radius:4px;padding:.2rem .5rem}
button{cursor:pointer}button:hover{background:#5b3cc4;color:#fff}
.flash{background:#eef7ee;border:1px solid #9c9;padding:.5rem;border-radius:4px}
tr.canceled td{color:#888}tr.paid td:nth-child(7){color:#1a7f37;font-weight:600}
input[type=date]{font-size:.8rem;margin-right:.2rem}
"""


def _html_page(title: str, body: str, status: int = 200) -> Response:
    page = (
        f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
    return Response(page, status=status, content_type="text/html; charset=utf-8")
