"""Authentication of the card's calls: a valid HubSpot v3 signature, then an installed portal.

HubSpot signs each ``hubspot.fetch`` with our app's client secret over the public URL it called
(``PUBLIC_BASE_URL`` + path + query), so the query parameters the card appends (``portalId``,
``userId``, ``userEmail``) are tamper-proof once the signature verifies.
"""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db.models import OuterRef, Subquery
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from connector.logging import bind_tenant
from connector.models import SyncRun, Tenant, mark_loaded_with
from hubspot_app.card_api.errors import CardApiError
from hubspot_app.card_api.locale import caller_locale
from hubspot_app.signature import SignatureError, SignatureMismatchError, verify_v3
from hubspot_app.signature_diagnosis import record_refusal, record_success

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CardCaller:
    """Who is calling, as the verified URL says."""

    portal_id: int
    user_id: str
    user_email: str
    locale: str

    @property
    def is_authenticated(self) -> bool:
        return True


def card_tenant(portal_id: int) -> Tenant | None:
    """The installed tenant of ``portal_id`` with what every card call reads about it, in one query:
    its Qonto connection, its subscription, and when a sync last read Qonto (``last_qonto_read_at``)."""
    last_read = SyncRun.objects.filter(tenant=OuterRef("pk"), status=SyncRun.Status.SUCCEEDED).order_by(
        "-started_at"
    )
    tenant = (
        Tenant.objects.filter(portal_id=portal_id)
        .exclude(status=Tenant.Status.UNINSTALLED)
        .select_related("qonto_connection", "billing_subscription")
        .annotate(last_qonto_read_at=Subquery(last_read.values("started_at")[:1]))
        .first()
    )
    if tenant is not None:
        mark_loaded_with(tenant, "qonto_connection", "billing_subscription")
    return tenant


class HubSpotSignatureAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[CardCaller, Tenant]:
        locale = caller_locale(request)
        uri = settings.PUBLIC_BASE_URL + request._request.get_full_path()
        try:
            verify_v3(
                secret=settings.HUBSPOT_CLIENT_SECRET,
                method=request.method or "GET",
                uri=uri,
                body=request._request.body,
                timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
                signature=request.headers.get("X-HubSpot-Signature-v3"),
            )
        except SignatureError as exc:
            why = str(exc)
            if isinstance(exc, SignatureMismatchError):
                # Right secret, other URL? (proxy prefix, host, scheme): see signature_diagnosis.
                refusal = record_refusal(
                    request=request._request,
                    public_base_url=settings.PUBLIC_BASE_URL,
                    secret=settings.HUBSPOT_CLIENT_SECRET,
                    body=request._request.body,
                    timestamp=request.headers.get("X-HubSpot-Request-Timestamp", ""),
                    signature=request.headers.get("X-HubSpot-Signature-v3", ""),
                )
                why += f" for {refusal.checked}"
                if refusal.signed_as:
                    why += f", but it verifies for {refusal.signed_as}: fix PUBLIC_BASE_URL"
            logger.warning("card API: signature refused: %s", why)
            raise CardApiError("invalid_signature", status=401, locale=locale) from exc
        record_success()
        raw_portal = request.query_params.get("portalId", "")
        tenant = None
        if raw_portal.isascii() and raw_portal.isdecimal() and len(raw_portal) <= 19:
            tenant = card_tenant(int(raw_portal))
        if tenant is None:
            raise CardApiError("unknown_portal", status=404, locale=locale)
        bind_tenant(tenant.portal_id)
        caller = CardCaller(
            portal_id=tenant.portal_id,
            user_id=request.query_params.get("userId", ""),
            user_email=request.query_params.get("userEmail", ""),
            locale=locale,
        )
        return caller, tenant

    def authenticate_header(self, request: Request) -> str:
        return "HubSpot-Signature-v3"


class HubSpotSignatureScheme(OpenApiAuthenticationExtension):
    """Describes the v3 signature in the OpenAPI schema (drf-spectacular)."""

    target_class = "hubspot_app.card_api.authentication.HubSpotSignatureAuthentication"
    name = "HubSpotSignatureV3"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-HubSpot-Signature-v3",
            "description": "base64(HMAC-SHA256(client secret, METHOD + public URL + body + "
            "X-HubSpot-Request-Timestamp)); the timestamp must be under 5 minutes old.",
        }
