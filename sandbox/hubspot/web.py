"""``app.hubspot.com`` stand-in under ``/hubspot-app``: the OAuth consent page, an index of the demo
deals and a deal page whose sidebar renders our card through ``card_fetch``.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import demo
from sandbox.core import json_response
from sandbox.hubspot import templates as tpl
from sandbox.hubspot.automation_panel import AutomationPanel
from sandbox.hubspot.card_fetch import CardFetchProxy
from sandbox.hubspot.model import always_properties
from sandbox.hubspot.oauth import AUTH_CODE_TTL_S
from sandbox.hubspot.scopes import APP_SCOPES, DECLARED_SCOPES, SCOPE_LABELS_FR


class HubSpotWebApp(AutomationPanel, CardFetchProxy):
    """``app.hubspot.com`` stand-in under ``/hubspot-app``, sharing ``HubSpotApi``'s state."""

    name = "hubspot_web"
    prefix = "/hubspot-app"
    rules = [
        Rule("/", endpoint="index", methods=["GET"]),
        # HubSpot's deals index (what our "Ouvrir HubSpot" button opens): the demo deals index here.
        Rule("/contacts/<int:portal_id>/objects/0-3/views/all/list", endpoint="deals_list", methods=["GET"]),
        Rule("/oauth/authorize", endpoint="authorize", methods=["GET"]),
        Rule("/oauth/<int:portal_id>/authorize", endpoint="authorize", methods=["GET"]),
        Rule("/oauth/authorize/decision", endpoint="decision", methods=["POST"]),
        Rule("/contacts/<int:portal_id>/record/0-3/<deal_id>", endpoint="deal_page", methods=["GET"]),
        Rule(
            "/contacts/<int:portal_id>/record/0-3/<deal_id>/properties.json",
            endpoint="deal_props",
            methods=["GET"],
        ),
        Rule("/contacts/<int:portal_id>/record/0-2/<company_id>", endpoint="company_page", methods=["GET"]),
        Rule("/_card-fetch", endpoint="card_fetch", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        # A person plays HubSpot's automation on the deal page (sandbox/hubspot/workflows.py).
        Rule(
            "/contacts/<int:portal_id>/record/0-3/<deal_id>/automation.json",
            endpoint="deal_automation",
            methods=["GET"],
        ),
        Rule(
            "/contacts/<int:portal_id>/record/0-3/<deal_id>/workflow-action",
            endpoint="deal_workflow_action",
            methods=["POST"],
        ),
        Rule("/contacts/<int:portal_id>/record/0-3/<deal_id>/stage", endpoint="deal_stage", methods=["POST"]),
    ]

    control_rules = [Rule("/card-settings", endpoint="ctl_card_settings", methods=["GET", "POST"])]

    def portal_of(self, request: Request) -> str | None:
        match = re.match(r"^/hubspot-app/(?:contacts|oauth)/(\d+)/", request.path)
        if match:
            return match.group(1)
        return request.args.get("portalId") or None

    def _check_authorize(self, values: Any) -> tuple[list[str], list[str], str | None]:
        """(required scopes asked, optional scopes asked, error message)."""
        if values.get("client_id") != self.config.hubspot_client_id:
            return [], [], "Cette application n'existe pas (client_id inconnu)."
        if values.get("redirect_uri") not in self.config.hubspot_redirect_uris:
            return [], [], "L'URL de redirection ne correspond à aucune URL déclarée par l'application."
        scopes = [s for s in re.split(r"[\s+]+", values.get("scope", "")) if s]
        optional = [s for s in re.split(r"[\s+]+", values.get("optional_scope", "")) if s]
        undeclared = [s for s in scopes + optional if s not in DECLARED_SCOPES]
        if undeclared:
            return (
                [],
                [],
                "Les autorisations demandées ne correspondent pas à celles de l'application : "
                + ", ".join(undeclared),
            )
        missing = [s for s in APP_SCOPES["required"] if s not in scopes]
        if missing:
            return [], [], "Autorisations obligatoires absentes de la demande : " + ", ".join(missing)
        return scopes, optional, None

    def _error_page(self, message: str, status: int = 400) -> Response:
        body = tpl.render(tpl.ERROR_PAGE, message=message)
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    def authorize(self, request: Request, portal_id: int | None = None) -> Response:
        scopes, optional, error = self._check_authorize(request.args)
        if error:
            return self._error_page(error)
        with self.lock:
            portals = list(self.api.state["portals"].values())
            if portal_id is not None and str(portal_id) not in self.api.state["portals"]:
                return self._error_page(f"Le compte HubSpot {portal_id} n'existe pas.", 404)
            selected = portal_id or (
                demo.PORTAL_ID if str(demo.PORTAL_ID) in self.api.state["portals"] else None
            )
            options_html = "".join(
                '<option value="{id}"{sel}>{name} ({id}) — {domain}</option>'.format(
                    id=p["id"],
                    sel=" selected" if p["id"] == selected else "",
                    name=html.escape(p["name"]),
                    domain=html.escape(p["domain"]),
                )
                for p in portals
            )
        scope_items = "".join(
            "<li><code>{s}</code> {label}{opt}</li>".format(
                s=html.escape(s),
                label=html.escape(SCOPE_LABELS_FR.get(s, "")),
                opt=' <span class="optional">(facultatif)</span>'
                if s in optional and s not in scopes
                else "",
            )
            for s in list(dict.fromkeys(scopes + optional))
        )
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(request.args.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "scope", "optional_scope", "state")
        )
        body = tpl.render(
            tpl.CONSENT_PAGE,
            app_name="Qonto Connector",
            portal_options_html=options_html,
            scopes_html=scope_items,
            hidden_html=hidden,
            action=f"{self.prefix}/oauth/authorize/decision",
        )
        return Response(body, content_type="text/html; charset=utf-8")

    def decision(self, request: Request) -> Response:
        form = request.form
        scopes, optional, error = self._check_authorize(form)
        if error:
            return self._error_page(error)
        redirect_uri = form["redirect_uri"]
        state = form.get("state")
        if form.get("action") != "install":
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The user refused to install the app",
                    "state": state,
                },
            )
        with self.lock:
            portal = self.api.state["portals"].get(form.get("portal_id", ""))
            if portal is None:
                return self._error_page("Choisissez un compte HubSpot.")
            code = self.ids.uuid()
            self.api.state["codes"][code] = {
                "portal": str(portal["id"]),
                "user_id": portal["installer_user_id"],
                "scopes": sorted(set(scopes) | set(optional)),
                "redirect_uri": redirect_uri,
                "client_id": form["client_id"],
                "expires_at": self.clock.now().timestamp() + AUTH_CODE_TTL_S,
            }
        return _redirect(redirect_uri, {"code": code, "state": state})

    def deals_list(self, request: Request, portal_id: int) -> Response:
        return self.index(request)

    def index(self, request: Request) -> Response:
        sections = []
        with self.lock:
            for p in self.api.state["portals"].values():
                deals = sorted(
                    (d for d in p["objects"]["deals"].values() if not d["archived"]),
                    key=lambda d: int(d["id"]),
                )
                rows = "".join(
                    '<li><a href="{href}">{name}</a> '
                    '<span class="muted">{amount} {cur} · #{id}</span></li>'.format(
                        href=f"{self.prefix}/contacts/{p['id']}/record/0-3/{d['id']}",
                        name=html.escape(d["properties"].get("dealname", "(sans nom)")),
                        amount=html.escape(d["properties"].get("amount", "")),
                        cur=html.escape(d["properties"].get("deal_currency_code", "")),
                        id=d["id"],
                    )
                    for d in deals[:50]
                )
                more = f'<p class="muted">… et {len(deals) - 50} autres</p>' if len(deals) > 50 else ""
                status = "installée" if p["installed"] else "non installée"
                sections.append(
                    f'<section class="panel"><h2>{html.escape(p["name"])} <span class="muted">'
                    f"({p['id']} · {html.escape(p['domain'])})</span></h2>"
                    f"<p>Application : <strong>{status}</strong></p>"
                    f'<ul class="deals">{rows}</ul>{more}</section>'
                )
        install_url = f"{self.config.connector_base_url.rstrip('/')}/hubspot/install"
        body = tpl.render(tpl.INDEX_PAGE, portals_html="".join(sections), install_url=install_url)
        return Response(body, content_type="text/html; charset=utf-8")

    def _deal_snapshot(self, portal: dict[str, Any], deal: dict[str, Any]) -> dict[str, Any]:
        defs = portal["properties"]["deals"]
        stored = deal["properties"]
        shown = ["dealname", "amount", "deal_currency_code", "dealstage", "closedate", "pipeline"]
        shown += sorted(n for n, d in defs.items() if n.startswith("qonto_") and not d["archived"])
        shown += sorted(n for n in stored if n not in shown and n not in always_properties("deals"))
        company = None
        company_ids = self.api._assoc_targets(portal, "deals", deal["id"], "companies")
        primary = next((cid for cid, tids in company_ids.items() if 5 in tids), None)
        if primary:
            c = portal["objects"]["companies"][primary]["properties"]
            company = {"id": primary, "name": c.get("name"), "country": c.get("country")}
        return {
            "id": deal["id"],
            "properties": [
                {
                    "name": n,
                    "label": DEAL_LABELS_FR.get(n) or (defs[n]["label"] if n in defs else n),
                    "value": display_value(defs.get(n), stored.get(n)),
                }
                for n in shown
            ],
            "company": company,
            "updatedAt": deal["updatedAt"],
        }

    def deal_props(self, request: Request, portal_id: int, deal_id: str) -> Response:
        with self.lock:
            portal = self.api.state["portals"].get(str(portal_id))
            deal = portal["objects"]["deals"].get(deal_id) if portal else None
            if portal is None or deal is None or deal["archived"]:
                return json_response({"error": "not found"}, 404)
            return json_response(self._deal_snapshot(portal, deal))

    def company_page(self, request: Request, portal_id: int, company_id: str) -> Response:
        """The company's record page (the card links here to fix a missing SIRET, address…)."""
        with self.lock:
            portal = self.api.state["portals"].get(str(portal_id))
            company = portal["objects"]["companies"].get(company_id) if portal else None
            if portal is None or company is None or company["archived"]:
                return self._error_page("Cette entreprise n'existe pas ou a été supprimée.", 404)
            defs = portal["properties"]["companies"]
            stored = company["properties"]
            names = [n for n in COMPANY_SHOWN if n in defs or n in stored]
            names += sorted(n for n in stored if n not in names and n not in always_properties("companies"))
            rows = "".join(
                '<div class="prop" data-name="{n}"><dt>{label}</dt><dd>{value}</dd></div>'.format(
                    n=html.escape(n),
                    label=html.escape(str(defs[n]["label"]) if n in defs else n),
                    value=html.escape(str(display_value(defs.get(n), stored.get(n)) or "—")),
                )
                for n in names
            )
            deal_ids = self.api._assoc_targets(portal, "companies", company_id, "deals")
            deals = "".join(
                '<li><a href="{href}">{name}</a></li>'.format(
                    href=f"{self.prefix}/contacts/{portal['id']}/record/0-3/{d}",
                    name=html.escape(portal["objects"]["deals"][d]["properties"].get("dealname") or d),
                )
                for d in deal_ids
                if d in portal["objects"]["deals"] and not portal["objects"]["deals"][d]["archived"]
            )
            title = stored.get("name") or f"Entreprise {company_id}"
        body = tpl.render(
            tpl.COMPANY_PAGE, title=title, properties_html=rows, deals_html=deals or "<li>Aucune</li>"
        )
        return Response(body, content_type="text/html; charset=utf-8")

    def deal_page(self, request: Request, portal_id: int, deal_id: str) -> Response:
        with self.lock:
            portal = self.api.state["portals"].get(str(portal_id))
            deal = portal["objects"]["deals"].get(deal_id) if portal else None
            if portal is None or deal is None or deal["archived"]:
                return self._error_page("Cette transaction n'existe pas ou a été supprimée.", 404)
            try:
                user_id = int(request.args.get("userId") or portal["installer_user_id"])
            except ValueError:
                user_id = portal["installer_user_id"]
            user = portal["users"].get(str(user_id)) or portal["users"][str(portal["installer_user_id"])]
            snapshot = self._deal_snapshot(portal, deal)
            ctx = {
                "portalId": portal["id"],
                "portalName": portal["name"],
                "dealId": deal["id"],
                "userId": user["id"],
                "userEmail": user["email"],
                "appId": self.config.hubspot_app_id,
                "proxyUrl": f"{self.prefix}/_card-fetch",
                "propertiesUrl": f"{self.prefix}/contacts/{portal['id']}/record/0-3/{deal['id']}"
                "/properties.json",
                "indexUrl": f"{self.prefix}/",
                "automationUrl": f"{self.prefix}/contacts/{portal['id']}/record/0-3/{deal['id']}",
                "deal": snapshot,
            }
            title = deal["properties"].get("dealname") or f"Transaction {deal['id']}"
        body = tpl.render(
            tpl.DEAL_PAGE,
            title=title,
            portal_name=ctx["portalName"],
            user_email=ctx["userEmail"],
            ctx_json_html=tpl.json_for_script(ctx),
        )
        return Response(body, content_type="text/html; charset=utf-8")


PORTAL_TIME_ZONE = ZoneInfo("Europe/Paris")  # the demo portal's time zone, as HubSpot displays dates


def display_value(definition: dict[str, Any] | None, raw: Any) -> Any:
    """A stored value as HubSpot's record page shows it: an option's label (never ``draft``), a date
    ``25/12/2026``, a datetime in the portal's time zone, ``Oui``/``Non`` for a checkbox."""
    if raw in (None, "") or definition is None:
        return raw
    kind = definition.get("type")
    if kind in ("enumeration", "bool"):
        labels = {str(o.get("value")): o.get("label") for o in definition.get("options") or []}
        if kind == "bool" and not labels:
            labels = {"true": "Oui", "false": "Non"}
        return labels.get(str(raw), raw)
    if kind in ("date", "datetime"):
        moment = _parse_moment(str(raw))
        if moment is None:
            return raw
        if kind == "date":
            return moment.strftime("%d/%m/%Y")
        return moment.astimezone(PORTAL_TIME_ZONE).strftime("%d/%m/%Y %H:%M")
    return raw


def _parse_moment(raw: str) -> datetime | None:
    if raw.isdigit():  # epoch milliseconds
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


COMPANY_SHOWN = [
    "name",
    "address",
    "address2",
    "city",
    "zip",
    "country",
    "siret",
    "qonto_siret",
    "qonto_vat_number",
]

DEAL_LABELS_FR: dict[str, str] = {
    "dealname": "Nom de la transaction",
    "amount": "Montant",
    "deal_currency_code": "Devise",
    "dealstage": "Phase de la transaction",
    "closedate": "Date de fermeture",
    "pipeline": "Pipeline",
    "description": "Description",
    "dealtype": "Type de transaction",
}


def _redirect(url: str, params: dict[str, Any]) -> Response:
    split = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    location = urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(query)))
    return Response(status=302, headers={"Location": location})
