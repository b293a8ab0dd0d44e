"""The HubSpot API route table: every path family mapped onto ONE set of handlers.

HubSpot serves each legacy API family under a date-versioned twin with the same bodies since
30 March 2026 (hubspot.md §1, §5.1 [doc]): ``/crm/v3/objects/{type}…`` ↔
``/crm/objects/2026-03/{type}…``, v4 ``/crm/v4/objects/{type}/{id}/associations/{toType}`` ↔
``/crm/objects/2026-03/…``, ``/crm/v4/associations/{from}/{to}/…`` ↔ ``/crm/associations/2026-03/…``,
``/crm/v3/properties/{type}…`` ↔ ``/crm/properties/2026-03/{type}…``, and so on for OAuth,
app installs, account details and tax rates. A family below lists its prefixes; each of its
routes is mounted under every prefix and names the same handler method of ``HubSpotApi``.

The legacy v3 association routes (``/crm/v3/objects/{type}/{id}/associations/…``) answer v3's
own body shapes (``{id, type}`` pairs), so they have no dated twin and their own handlers; their
dated successor is the v4 family (``RECORD_ASSOCIATIONS``).
"""

from __future__ import annotations

import dataclasses

from werkzeug.routing import Rule

# The date versions the simulator accepts in a path ("2026-09" is the next release's name).
VERSIONS = "any('2026-03', '2026-09')"
VERSION = f"<{VERSIONS}:ver>"


@dataclasses.dataclass(frozen=True)
class Family:
    """One API family: the path prefixes that all serve it (legacy first, then dated)."""

    prefixes: tuple[str, ...]
    # (path below the prefix, method, handler)
    routes: tuple[tuple[str, str, str], ...]

    def rules(self) -> list[Rule]:
        return [
            Rule(f"{prefix}{path}", endpoint=endpoint, methods=[method])
            for prefix in self.prefixes
            for path, method, endpoint in self.routes
        ]


OAUTH_TOKEN = Family(("/oauth/v1", "/oauth/v3", f"/oauth/{VERSION}"), (("/token", "POST", "oauth_token"),))
OAUTH = Family(
    ("/oauth/v3", f"/oauth/{VERSION}"),
    (
        ("/token/introspect", "POST", "oauth_introspect"),
        ("/token/revoke", "POST", "oauth_revoke"),
    ),
)
OAUTH_V1 = Family(
    ("/oauth/v1",),
    (
        ("/access-tokens/<token>", "GET", "oauth_v1_access_token"),
        ("/refresh-tokens/<token>", "GET", "oauth_v1_refresh_token"),
        ("/refresh-tokens/<token>", "DELETE", "oauth_v1_refresh_revoke"),
    ),
)
APP_INSTALLS = Family(
    ("/appinstalls/v3", f"/appinstalls/{VERSION}"), (("/external-install", "DELETE", "appinstall_delete"),)
)
ACCOUNT_INFO = Family(
    ("/account-info/v3", f"/account-info/{VERSION}"), (("/details", "GET", "account_info"),)
)
SETTINGS_USERS = Family(
    ("/settings/v3/users", f"/settings/users/{VERSION}"), (("/<user_id>", "GET", "settings_user_get"),)
)
TAX_RATES = Family(
    ("/tax-rates/<any('v1', '2026-03', '2026-09'):ver>",),
    (
        ("/tax-rates", "GET", "tax_rates_list"),
        ("/tax-rates/<rate_id>", "GET", "tax_rates_get"),
    ),
)
OBJECTS = Family(
    ("/crm/v3/objects", f"/crm/objects/{VERSION}"),
    (
        ("/<otype>", "GET", "obj_list"),
        ("/<otype>", "POST", "obj_create"),
        ("/<otype>/search", "POST", "obj_search"),
        ("/<otype>/batch/<any(read, create, update, archive):op>", "POST", "obj_batch"),
        ("/<otype>/<oid>", "GET", "obj_get"),
        ("/<otype>/<oid>", "PATCH", "obj_update"),
        ("/<otype>/<oid>", "DELETE", "obj_archive"),
    ),
)
ASSOCIATIONS_V3 = Family(
    ("/crm/v3/objects",),
    (
        ("/<otype>/<oid>/associations/<totype>", "GET", "assoc_v3_list"),
        ("/<otype>/<oid>/associations/<totype>/<toid>/<atype>", "PUT", "assoc_v3_put"),
        ("/<otype>/<oid>/associations/<totype>/<toid>/<atype>", "DELETE", "assoc_v3_delete"),
    ),
)
RECORD_ASSOCIATIONS = Family(
    ("/crm/v4/objects", f"/crm/objects/{VERSION}"),
    (
        ("/<otype>/<oid>/associations/<totype>", "GET", "assoc_v4_list"),
        ("/<otype>/<oid>/associations/default/<totype>/<toid>", "PUT", "assoc_v4_put_default"),
        ("/<otype>/<oid>/associations/<totype>/<toid>", "PUT", "assoc_v4_put"),
        ("/<otype>/<oid>/associations/<totype>/<toid>", "DELETE", "assoc_v4_delete"),
    ),
)
ASSOCIATIONS = Family(
    ("/crm/v4/associations", f"/crm/associations/{VERSION}"),
    (
        ("/<otype>/<totype>/batch/read", "POST", "assoc_batch_read"),
        ("/<otype>/<totype>/labels", "GET", "assoc_labels"),
    ),
)
PROPERTIES = Family(
    ("/crm/v3/properties", f"/crm/properties/{VERSION}"),
    (
        ("/<otype>", "GET", "props_list"),
        ("/<otype>", "POST", "props_create"),
        ("/<otype>/batch/<any(create, read):op>", "POST", "props_batch"),
        ("/<otype>/groups", "GET", "groups_list"),
        ("/<otype>/groups", "POST", "groups_create"),
        ("/<otype>/groups/<gname>", "GET", "groups_get"),
        ("/<otype>/groups/<gname>", "PATCH", "groups_update"),
        ("/<otype>/groups/<gname>", "DELETE", "groups_archive"),
        ("/<otype>/<pname>", "GET", "props_get"),
        ("/<otype>/<pname>", "PATCH", "props_update"),
        ("/<otype>/<pname>", "DELETE", "props_archive"),
    ),
)
PIPELINES = Family(
    ("/crm/v3/pipelines", f"/crm/pipelines/{VERSION}"),
    (
        ("/<otype>", "GET", "pipelines_list"),
        ("/<otype>/<pipeline_id>", "GET", "pipelines_get"),
    ),
)
# The dated twin puts the version after "callbacks": /automation/actions/callbacks/2026-03/… [doc].
AUTOMATION_CALLBACKS = Family(
    ("/automation/v4/actions/callbacks", f"/automation/actions/callbacks/{VERSION}"),
    (
        ("/complete", "POST", "callback_complete_batch"),
        ("/<callback_id>/complete", "POST", "callback_complete"),
    ),
)
FAMILIES = (
    OAUTH_TOKEN,
    OAUTH,
    OAUTH_V1,
    APP_INSTALLS,
    ACCOUNT_INFO,
    SETTINGS_USERS,
    TAX_RATES,
    OBJECTS,
    ASSOCIATIONS_V3,
    RECORD_ASSOCIATIONS,
    ASSOCIATIONS,
    PROPERTIES,
    PIPELINES,
    AUTOMATION_CALLBACKS,
)
API_RULES: list[Rule] = [rule for family in FAMILIES for rule in family.rules()]

# Handlers that need no bearer token and are not rate limited.
PUBLIC_ENDPOINTS = frozenset(
    {
        "oauth_token",
        "oauth_introspect",
        "oauth_revoke",
        "oauth_v1_access_token",
        "oauth_v1_refresh_token",
        "oauth_v1_refresh_revoke",
    }
)

# Query parameters each handler understands; the request log records the others as unknown.
KNOWN_PARAMS: dict[str, tuple[str, ...]] = {
    "obj_get": ("properties", "propertiesWithHistory", "associations", "archived", "idProperty"),
    "obj_list": ("limit", "after", "properties", "propertiesWithHistory", "associations", "archived"),
    "obj_update": ("idProperty",),
    "obj_create": (),
    "obj_batch": ("archived",),
    "obj_search": (),
    "assoc_v4_list": ("limit", "after"),
    "assoc_v3_list": ("limit", "after"),
    "assoc_batch_read": (),
    "props_list": ("archived", "dataSensitivity", "locale", "properties"),
    "props_get": ("archived", "dataSensitivity", "locale", "properties"),
    "groups_list": ("locale",),
    "tax_rates_list": ("limit", "after"),
    "tax_rates_get": (),
    "settings_user_get": ("idProperty",),
}
CONTROL_RULES: list[Rule] = [
    Rule("/", endpoint="ctl_summary", methods=["GET"]),
    Rule("/settings", endpoint="ctl_settings", methods=["GET", "POST"]),
    Rule("/portals", endpoint="ctl_create_portal", methods=["POST"]),
    Rule("/portals/<int:portal_id>/install", endpoint="ctl_install", methods=["POST"]),
    Rule("/portals/<int:portal_id>/uninstall", endpoint="ctl_uninstall", methods=["POST"]),
    Rule("/portals/<int:portal_id>/expire-tokens", endpoint="ctl_expire_tokens", methods=["POST"]),
    Rule("/portals/<int:portal_id>/companies", endpoint="ctl_create_company", methods=["POST"]),
    Rule("/portals/<int:portal_id>/deals", endpoint="ctl_create_deal", methods=["POST"]),
    Rule("/portals/<int:portal_id>/line-items", endpoint="ctl_create_line_item", methods=["POST"]),
    Rule("/portals/<int:portal_id>/bulk-deals", endpoint="ctl_bulk_deals", methods=["POST"]),
    Rule("/portals/<int:portal_id>/tax-rates", endpoint="ctl_add_tax_rate", methods=["POST"]),
    Rule("/portals/<int:portal_id>/properties/<otype>", endpoint="ctl_define_property", methods=["POST"]),
    Rule("/portals/<int:portal_id>/objects/<otype>/<oid>", endpoint="ctl_get_object", methods=["GET"]),
    Rule("/portals/<int:portal_id>/objects/<otype>/<oid>", endpoint="ctl_update_object", methods=["PATCH"]),
    Rule("/portals/<int:portal_id>/deals/<oid>", endpoint="ctl_delete_deal", methods=["DELETE"]),
    Rule("/portals/<int:portal_id>/deals/<oid>/notes", endpoint="ctl_notes", methods=["GET"]),
    Rule("/portals/<int:portal_id>/calls", endpoint="ctl_calls", methods=["GET"]),
    Rule("/webhooks", endpoint="ctl_webhook", methods=["POST"]),
    Rule("/workflows/settings", endpoint="ctl_workflow_settings", methods=["GET", "POST"]),
    Rule("/workflows/executions", endpoint="ctl_workflow_executions", methods=["GET"]),
    Rule("/workflows/deliveries", endpoint="ctl_webhook_deliveries", methods=["GET"]),
    Rule(
        "/portals/<int:portal_id>/deals/<oid>/workflow-action",
        endpoint="ctl_workflow_action",
        methods=["POST"],
    ),
    Rule("/portals/<int:portal_id>/deals/<oid>/stage", endpoint="ctl_deal_stage", methods=["POST"]),
]
