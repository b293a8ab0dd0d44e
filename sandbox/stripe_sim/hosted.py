"""The hosted Checkout page (*Payer*, *Carte refusée*) and the hosted invoice page."""

from __future__ import annotations

import html
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.checkout import Checkout
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.lifecycle import Lifecycle
from sandbox.stripe_sim.pages import Pages, euros, form_html, interval_label


class HostedPages(Pages, Checkout, Lifecycle):
    """Hosted Checkout and invoice pages."""

    def _checkout_summary(self, session: dict[str, Any]) -> str:
        rows = []
        tax_rate = self._session_tax_rate(session)
        for li in session["_line_items"]:
            price = self.objects[li["price"]]
            label, unit = interval_label(price)
            product = self.objects.get(price["product"], {}).get("name", price["product"])
            rows.append(
                f'<tr><td>{html.escape(product)} — <span id="plan">{html.escape(label)}</span>'
                f"{' × ' + str(li['quantity']) if li['quantity'] > 1 else ''}</td>"
                f'<td class="amount" id="subtotal">{euros(price["unit_amount"] * li["quantity"])} HT / '
                f"{unit}</td></tr>"
            )
        amounts = self._amounts(session["_line_items"], tax_rate)
        tax_label = "TVA 20 %" if tax_rate else "TVA (non calculée)"
        rows.append(f'<tr><td>{tax_label}</td><td class="amount" id="tax">{euros(amounts["tax"])}</td></tr>')
        rows.append(
            '<tr class="total"><td>Total TTC</td>'
            f'<td class="amount" id="total">{euros(amounts["total"])}</td></tr>'
        )
        return "<table>" + "".join(rows) + "</table>"

    def page_checkout(self, request: Request, object_id: str) -> Response:
        with self.lock:
            session = self.objects.get(object_id)
            if session is None or session.get("object") != "checkout.session":
                return self._html("Session introuvable", "<h1>Session de paiement introuvable</h1>", 404)
            self._session(object_id)
            if session["status"] == "complete":
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                return self._html(
                    "Paiement effectué",
                    f'<h1>Paiement déjà effectué</h1><p><a id="success-link" href="{html.escape(target)}">'
                    "Retour au site</a></p>",
                )
            if session["status"] == "expired":
                return self._html(
                    "Session expirée",
                    "<h1>Cette session de paiement a expiré.</h1>"
                    f'<p><a id="cancel-link" href="{html.escape(session["cancel_url"])}">Retour</a></p>',
                )
            error = ""
            if request.method == "POST":
                form = request.form
                action = form.get("action", "pay")
                if action == "decline":
                    self.decline_checkout(object_id)
                    error = "Votre carte a été refusée."
                else:
                    email = (form.get("email") or "").strip() or None
                    try:
                        self.complete_checkout(
                            object_id,
                            email=email,
                            name=(form.get("name") or "").strip() or None,
                            vat_number=(form.get("vat_number") or "").strip() or None,
                            address={
                                "line1": (form.get("line1") or "").strip(),
                                "postal_code": (form.get("postal_code") or "").strip(),
                                "city": (form.get("city") or "").strip(),
                                "country": (form.get("country") or "").strip().upper(),
                            },
                        )
                    except StripeSimError as exc:
                        error = "Adresse e-mail requise." if exc.param == "email" else exc.message
                    else:
                        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                        return Response(status=303, headers={"Location": target})
            customer = self.objects.get(session["customer"] or "") or {}
            email = customer.get("email") or session.get("customer_email") or ""
            name = customer.get("name") or ""
            address = customer.get("address") or {}
            body = f"""<h1>Abonnement</h1>
{self._checkout_summary(session)}
{f'<p class="error" id="error" role="alert">{html.escape(error)}</p>' if error else ""}
<form method="post" action="{self.prefix}/checkout/{html.escape(session["id"])}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" value="{html.escape(email)}">
<label for="name">Nom / raison sociale</label>
<input id="name" name="name" value="{html.escape(name)}">
<label for="vat_number">Numéro de TVA intracommunautaire (facultatif)</label>
<input id="vat_number" name="vat_number" placeholder="FR12345678901">
<label for="line1">Adresse</label>
<input id="line1" name="line1" value="{html.escape(address.get("line1") or "1 rue de l'Exemple")}">
<label for="postal_code">Code postal</label>
<input id="postal_code" name="postal_code" value="{html.escape(address.get("postal_code") or "75002")}">
<label for="city">Ville</label>
<input id="city" name="city" value="{html.escape(address.get("city") or "Paris")}">
<label for="country">Pays</label>
<input id="country" name="country" value="{html.escape(address.get("country") or "FR")}">
<label for="card">Carte</label>
<input id="card" name="card" value="4242 4242 4242 4242" readonly>
<button class="primary" id="pay-button" type="submit" name="action" value="pay">Payer</button>
<button class="danger" id="decline-button" type="submit" name="action" value="decline">Carte refusée</button>
</form>
<p><a id="cancel-link" href="{html.escape(session["cancel_url"])}">← Annuler et revenir</a></p>"""
            return self._html("Paiement — Qonto Connector", body)

    def page_invoice(self, request: Request, object_id: str) -> Response:
        with self.lock:
            invoice = self.objects.get(object_id)
            if invoice is None or invoice.get("object") != "invoice":
                return self._html("Facture introuvable", "<h1>Facture introuvable</h1>", 404)
            message = ""
            if request.method == "POST" and invoice["status"] == "open":
                self.pay_invoice(object_id)
                message = '<p class="notice" id="notice">Paiement effectué.</p>'
            rows = "".join(
                f"<tr><td>{html.escape(line['description'])}</td>"
                f'<td class="amount">{euros(line["amount"])}</td></tr>'
                for line in invoice["lines"]["data"]
            )
            tax = invoice["total"] - invoice["subtotal"]
            body = f"""<h1>Facture {html.escape(invoice["number"])}</h1>
{message}<p>Statut : <strong id="status">{html.escape(invoice["status"])}</strong></p>
<table>{rows}<tr><td>TVA</td><td class="amount">{euros(tax)}</td></tr>
<tr class="total"><td>Total</td><td class="amount" id="total">{euros(invoice["total"])}</td></tr>
<tr><td>Reste à payer</td>
<td class="amount" id="remaining">{euros(invoice["amount_remaining"])}</td></tr></table>"""
            if invoice["status"] == "open":
                action_url = f"{self.prefix}/invoice/{invoice['id']}"
                body += form_html(action_url, "pay", "pay-invoice-button", "Payer la facture", "primary")
            return self._html(f"Facture {invoice['number']}", body)
