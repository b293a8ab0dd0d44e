"""The Customer Portal: its session endpoint and its page (switch plan, cancel, invoices)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.lifecycle import Lifecycle
from sandbox.stripe_sim.model import PORTAL_CONFIGURATION_ID
from sandbox.stripe_sim.pages import Pages, date_fr, euros, form_html, interval_label
from sandbox.stripe_sim.params import PORTAL_CREATE_PARAMS, as_dict, check_unknown, check_url, missing_param


class Portal(Pages, Lifecycle):
    """Customer Portal."""

    def api_create_portal_session(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            check_unknown(params, PORTAL_CREATE_PARAMS)
            if not params.get("customer"):
                raise missing_param("customer")
            customer = self._get(params["customer"], "customer", param="customer")
            return_url = check_url(params["return_url"], "return_url") if params.get("return_url") else None
            flow = as_dict(params.get("flow_data"), "flow_data") or None
            if flow is not None and flow.get("type") not in (
                "payment_method_update",
                "subscription_cancel",
                "subscription_update",
                "subscription_update_confirm",
            ):
                raise StripeSimError("Invalid flow_data[type]", param="flow_data[type]")
            session_id = self._new_id("bps_", 24)
            session = {
                "id": session_id,
                "object": "billing_portal.session",
                "configuration": params.get("configuration") or PORTAL_CONFIGURATION_ID,
                "created": self.clock.epoch(),
                "customer": customer["id"],
                "customer_account": None,
                "flow": flow,
                "livemode": False,
                "locale": params.get("locale"),
                "on_behalf_of": None,
                "return_url": return_url,
                "url": f"{self._base()}{self.prefix}/portal/{session_id}",
            }
            return self._store(session)

        return self._call(request, run)

    def page_portal(self, request: Request, object_id: str) -> Response:
        with self.lock:
            portal = self.objects.get(object_id)
            if portal is None or portal.get("object") != "billing_portal.session":
                return self._html("Session introuvable", "<h1>Session du portail introuvable</h1>", 404)
            customer = self.objects[portal["customer"]]
            subs = sorted(
                (s for s in self._of_kind("subscription") if s["customer"] == customer["id"]),
                key=lambda s: (s["status"] != "canceled", s["created"], s["_seq"]),
            )
            sub = subs[-1] if subs else None
            if request.method == "POST":
                if sub is None or sub["status"] == "canceled":
                    return Response(status=303, headers={"Location": f"{self.prefix}/portal/{object_id}"})
                action = request.form.get("action")
                done = action
                try:
                    if action == "switch":
                        price = self._get(request.form.get("price", ""), "price")
                        current = sub["items"]["data"][0]["price"]
                        shorter = (
                            current["recurring"]["interval"] == "year"
                            and price["recurring"]["interval"] == "month"
                        )
                        self.switch_plan(
                            sub["id"],
                            price["id"],
                            "always_invoice",
                            at_period_end=shorter and self.settings.portal_downgrade_at_period_end,
                        )
                    elif action == "cancel":
                        self.cancel(sub["id"], at_period_end=True)
                    elif action == "uncancel":
                        self.uncancel(sub["id"])
                    else:
                        done = "unknown"
                except StripeSimError as exc:
                    done = "error:" + exc.message
                return Response(
                    status=303,
                    headers={"Location": f"{self.prefix}/portal/{object_id}?{urlencode({'done': done})}"},
                )
            return self._html(
                "Gérer l'abonnement", self._portal_body(portal, customer, sub, request.args.get("done"))
            )

    def _portal_body(
        self, portal: dict[str, Any], customer: dict[str, Any], sub: dict[str, Any] | None, done: str | None
    ) -> str:
        notices = {
            "switch": "Votre formule a été modifiée.",
            "cancel": "Votre abonnement prendra fin à la fin de la période en cours.",
            "uncancel": "Votre abonnement a été renouvelé.",
        }
        parts = [
            "<h1>Gérer l'abonnement</h1>",
            f'<p id="customer">{html.escape(customer.get("name") or "")} — '
            f"{html.escape(customer.get('email') or '')}</p>",
        ]
        if done:
            cls = "error" if done.startswith("error:") else "notice"
            text = done[len("error:") :] if done.startswith("error:") else notices.get(done, done)
            parts.append(f'<p class="{cls}" id="notice" role="status">{html.escape(text)}</p>')
        action_url = f"{self.prefix}/portal/{portal['id']}"
        if sub is None or sub["status"] == "canceled":
            parts.append('<p id="no-subscription">Aucun abonnement actif.</p>')
        else:
            item = sub["items"]["data"][0]
            price = item["price"]
            label, unit = interval_label(price)
            end = item["current_period_end"]
            status_line = (
                f"Prend fin le {date_fr(end)}"
                if sub["cancel_at_period_end"]
                else f"Renouvellement le {date_fr(end)}"
            )
            parts.append(
                f'<p>Formule : <strong id="plan">{html.escape(label)}</strong> — '
                f"{euros(price['unit_amount'] * item['quantity'])} HT / {unit}</p>"
                f'<p>Statut : <span id="status">{html.escape(sub["status"])}</span> — '
                f'<span id="period">{status_line}</span></p>'
            )
            if sub["_pending_price"]:
                pending_label = interval_label(self.objects[sub["_pending_price"]])[0]
                parts.append(
                    f'<p id="pending">Passage à la formule {html.escape(pending_label)} '
                    f"le {date_fr(end)}.</p>"
                )
            others = [
                p
                for p in self._of_kind("price")
                if p["product"] == price["product"]
                and p["active"]
                and p["type"] == "recurring"
                and p["id"] != price["id"]
            ]
            for other in others:
                other_label, other_unit = interval_label(other)
                key = other.get("lookup_key") or other["id"]
                label_text = (
                    f"Passer à la formule {other_label} ({euros(other['unit_amount'])} HT / {other_unit})"
                )
                parts.append(
                    form_html(
                        action_url,
                        "switch",
                        f"switch-to-{key}",
                        label_text,
                        "primary",
                        {"price": other["id"]},
                    )
                )
            if sub["cancel_at_period_end"]:
                parts.append(
                    form_html(action_url, "uncancel", "renew-button", "Renouveler l'abonnement", "primary")
                )
            else:
                parts.append(
                    form_html(action_url, "cancel", "cancel-button", "Annuler l'abonnement", "danger")
                )
        invoices = sorted(
            (i for i in self._of_kind("invoice") if i["customer"] == customer["id"]),
            key=lambda i: (i["created"], i["_seq"]),
            reverse=True,
        )
        if invoices:
            parts.append("<h2>Factures</h2><table>")
            for inv in invoices:
                parts.append(
                    f'<tr><td><a href="{html.escape(inv["hosted_invoice_url"])}">'
                    f"{html.escape(inv['number'])}</a></td>"
                    f"<td>{date_fr(inv['created'])}</td><td>{html.escape(inv['status'])}</td>"
                    f'<td class="amount">{euros(inv["total"])}</td></tr>'
                )
            parts.append("</table>")
        if portal["return_url"]:
            parts.append(
                f'<p><a id="return-link" href="{html.escape(portal["return_url"])}">← Retour</a></p>'
            )
        return "\n".join(parts)
