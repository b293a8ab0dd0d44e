"""The card API (spec/card-api.md): four endpoints, each a thin view over one service or selector."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connector.exceptions import (
    HubSpotPermanentError,
    QontoPermanentError,
    QontoRetryableError,
    RetryableError,
)
from connector.invoices.request import (
    InvoiceRequestRefused,
    NotRetryable,
    invoice_request_create,
    invoice_retry,
)
from connector.models import Invoice, Tenant
from connector.sync.card_refresh import deal_invoices_refresh
from hubspot_app.card_api import serializers
from hubspot_app.card_api.authentication import CardCaller, HubSpotSignatureAuthentication
from hubspot_app.card_api.errors import CardApiError, card_exception_handler
from hubspot_app.card_api.selectors import card_state, invoice_json, organization_slug_of

logger = logging.getLogger(__name__)

SIGNED_QUERY = [
    OpenApiParameter("portalId", int, required=True, description="HubSpot portal (appended by the card)"),
    OpenApiParameter("userId", str, required=False),
    OpenApiParameter("userEmail", str, required=False),
    OpenApiParameter("appId", str, required=False, description="added by HubSpot"),
    OpenApiParameter("locale", str, required=False, description="fr or en (the user's HubSpot locale)"),
]
ERRORS = {
    400: serializers.ErrorSerializer,
    401: serializers.ErrorSerializer,
    404: serializers.ErrorSerializer,
}


class CardApiView(APIView):
    """Signed by HubSpot (v3), scoped to the verified portal; errors in the contract's shape."""

    authentication_classes = [HubSpotSignatureAuthentication]
    permission_classes: list[Any] = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return card_exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, HubSpotPermanentError) and exc.code == "hubspot_not_found":
            exc = CardApiError("not_found", status=404, locale=self._locale())
        elif isinstance(exc, HubSpotPermanentError) and exc.code == "hubspot_auth":
            exc = CardApiError("unknown_portal", status=404, locale=self._locale())
        elif isinstance(exc, RetryableError):
            logger.warning("card API: provider unavailable: %s", exc.detail)
            exc = CardApiError("unavailable", status=503, locale=self._locale())
        return super().handle_exception(exc)

    def _locale(self) -> str:
        user = getattr(self.request, "_user", None)
        return user.locale if isinstance(user, CardCaller) else "fr"

    @property
    def tenant(self) -> Tenant:
        return self.request.auth  # type: ignore[return-value]

    @property
    def caller(self) -> CardCaller:
        return self.request.user  # type: ignore[return-value]

    def get_invoice(self, invoice_id: str) -> Invoice:
        """Only ever inside the verified tenant: another tenant's id is answered like a missing one."""
        key = _uuid_or_none(invoice_id)
        invoice = Invoice.objects.filter(tenant=self.tenant, pk=key).first() if key else None
        if invoice is None:
            raise CardApiError("not_found", status=404, locale=self.caller.locale)
        return invoice


def _uuid_or_none(value: str) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class CardDealStateApi(CardApiView):
    @extend_schema(
        operation_id="deal_card",
        parameters=SIGNED_QUERY,
        responses={200: serializers.CardStateSerializer, **ERRORS},
    )
    def get(self, request: Request, deal_id: str) -> Response:
        caller = self.caller
        return Response(
            card_state(
                tenant=self.tenant,
                deal_id=deal_id,
                lang=caller.locale,
                user_id=caller.user_id,
                user_email=caller.user_email,
            )
        )


class CardDealRefreshApi(CardApiView):
    """*Actualiser*: read the deal's invoices from Qonto now (one list call), then the card state."""

    @extend_schema(
        operation_id="deal_refresh",
        parameters=SIGNED_QUERY,
        request=None,
        responses={
            200: serializers.CardStateSerializer,
            502: serializers.ErrorSerializer,
            503: serializers.ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, deal_id: str) -> Response:
        lang = self.caller.locale
        try:
            deal_invoices_refresh(tenant=self.tenant, deal_id=deal_id)
        except QontoRetryableError as exc:
            logger.warning("card refresh: Qonto unavailable: %s", exc.detail or exc.code)
            raise CardApiError("qonto_unavailable", status=503, locale=lang) from exc
        except QontoPermanentError as exc:  # e.g. the key was revoked: say what Qonto said
            with translation.override(lang):
                message = str(exc.user_message)
            raise CardApiError("qonto_refused", status=502, locale=lang, message=message) from exc
        caller = self.caller
        return Response(
            card_state(
                tenant=self.tenant,
                deal_id=deal_id,
                lang=lang,
                user_id=caller.user_id,
                user_email=caller.user_email,
            )
        )


class CardInvoiceCreateApi(CardApiView):
    @extend_schema(
        operation_id="invoice_create",
        parameters=SIGNED_QUERY,
        request=serializers.InvoiceCreateSerializer,
        responses={
            200: serializers.InvoiceEnvelopeSerializer,
            202: serializers.InvoiceEnvelopeSerializer,
            422: serializers.ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, deal_id: str) -> Response:
        lang = self.caller.locale
        body = serializers.InvoiceCreateSerializer(data=request.data)
        if not body.is_valid():
            raise CardApiError(
                "bad_request", status=400, locale=lang, problems=serializers.problems_from(body, lang)
            )
        data = body.validated_data
        try:
            result = invoice_request_create(
                tenant=self.tenant,
                deal_id=deal_id,
                kind=data["kind"],
                percentage=data.get("percentage"),
                idempotency_key=data["idempotency_key"],
                lang=lang,
                vat_mode=data.get("vat_mode"),
                confirm_shared_client=data.get("confirm_shared_client", False),
            )
        except InvoiceRequestRefused as refused:
            problems = [p.as_json(lang) for p in refused.problems]
            raise CardApiError(
                refused.code, status=422, locale=lang, message=problems[0]["message"], problems=problems
            ) from refused
        return Response(
            {
                "invoice": invoice_json(
                    result.invoice, lang, organization_slug=organization_slug_of(self.tenant)
                )
            },
            status=202 if result.created else 200,
        )


class CardInvoiceDetailApi(CardApiView):
    @extend_schema(
        operation_id="invoice_get",
        parameters=SIGNED_QUERY,
        responses={200: serializers.InvoiceEnvelopeSerializer, **ERRORS},
    )
    def get(self, request: Request, invoice_id: str) -> Response:
        invoice = self.get_invoice(invoice_id)
        slug = organization_slug_of(self.tenant)
        return Response({"invoice": invoice_json(invoice, self.caller.locale, organization_slug=slug)})


class CardInvoiceRetryApi(CardApiView):
    @extend_schema(
        operation_id="invoice_retry",
        parameters=SIGNED_QUERY,
        request=None,
        responses={
            202: serializers.InvoiceEnvelopeSerializer,
            409: serializers.ErrorSerializer,
            422: serializers.ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, invoice_id: str) -> Response:
        lang = self.caller.locale
        invoice = self.get_invoice(invoice_id)
        try:
            invoice = invoice_retry(invoice=invoice, lang=lang)
        except NotRetryable as exc:
            raise CardApiError("not_retryable", status=409, locale=lang) from exc
        except InvoiceRequestRefused as refused:
            problems = [p.as_json(lang) for p in refused.problems]
            raise CardApiError(
                refused.code, status=422, locale=lang, message=problems[0]["message"], problems=problems
            ) from refused
        invoice.refresh_from_db()
        slug = organization_slug_of(self.tenant)
        return Response({"invoice": invoice_json(invoice, lang, organization_slug=slug)}, status=202)
