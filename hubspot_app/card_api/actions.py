"""The card's *Finaliser* and *Envoyer* (spec/card-api.md): thin views over ``connector.invoices.actions``.

Both answer ``202`` with the invoice (its ``last_action`` pending) while a worker does the work,
``200`` for the same ``idempotency_key`` again (or when the same action is already in flight),
``409`` when the invoice's status does not allow it, ``422`` with ``problems`` for a body the
service refuses, ``400`` for a malformed one.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from connector.invoices.actions import (
    ActionInvalid,
    ActionNotAllowed,
    invoice_action_request,
    send_params_clean,
)
from connector.models import InvoiceAction
from hubspot_app.card_api import serializers
from hubspot_app.card_api.errors import CardApiError
from hubspot_app.card_api.selectors import invoice_json, organization_slug_of
from hubspot_app.card_api.views import ERRORS, SIGNED_QUERY, CardApiView

RESPONSES = {
    200: serializers.InvoiceEnvelopeSerializer,
    202: serializers.InvoiceEnvelopeSerializer,
    409: serializers.ErrorSerializer,
    422: serializers.ErrorSerializer,
    **ERRORS,
}


class _CardInvoiceActionApi(CardApiView):
    kind = ""
    body_serializer: type[serializers.InvoiceActionSerializer] = serializers.InvoiceActionSerializer

    def params(self, data: dict[str, object], lang: str) -> dict[str, object]:
        return {}

    def post(self, request: Request, invoice_id: str) -> Response:
        lang = self.caller.locale
        invoice = self.get_invoice(invoice_id)  # 404 for another tenant's id
        body = self.body_serializer(data=request.data)
        if not body.is_valid():
            raise CardApiError(
                "bad_request", status=400, locale=lang, problems=serializers.problems_from(body, lang)
            )
        caller = self.caller
        try:
            result = invoice_action_request(
                tenant=self.tenant,
                invoice=invoice,
                kind=self.kind,
                idempotency_key=body.validated_data["idempotency_key"],
                user_id=caller.user_id,
                user_email=caller.user_email,
                params=self.params(body.validated_data, lang),
                lang=lang,
            )
        except ActionNotAllowed as exc:
            raise CardApiError(exc.code, status=409, locale=lang, message=exc.text) from exc
        except ActionInvalid as exc:
            raise CardApiError(
                exc.code, status=422, locale=lang, message=exc.problems[0]["message"], problems=exc.problems
            ) from exc
        invoice.refresh_from_db()
        slug = organization_slug_of(self.tenant)
        return Response(
            {"invoice": invoice_json(invoice, lang, organization_slug=slug)},
            status=202 if result.created else 200,
        )


class CardInvoiceFinalizeApi(_CardInvoiceActionApi):
    kind = InvoiceAction.Kind.FINALIZE

    @extend_schema(
        operation_id="invoice_finalize",
        parameters=SIGNED_QUERY,
        request=serializers.InvoiceActionSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, invoice_id: str) -> Response:
        return super().post(request, invoice_id)


class CardInvoiceSendApi(_CardInvoiceActionApi):
    kind = InvoiceAction.Kind.SEND
    body_serializer = serializers.InvoiceSendSerializer

    def params(self, data: dict[str, object], lang: str) -> dict[str, object]:
        try:
            return send_params_clean(
                send_to=list(data.get("send_to") or []),  # type: ignore[call-overload]
                email_title=str(data.get("email_title") or ""),
                email_body=str(data.get("email_body") or ""),
                copy_to_self=bool(data.get("copy_to_self", True)),
                lang=lang,
            )
        except ActionInvalid as exc:
            raise CardApiError(
                exc.code, status=422, locale=lang, message=exc.problems[0]["message"], problems=exc.problems
            ) from exc

    @extend_schema(
        operation_id="invoice_send",
        parameters=SIGNED_QUERY,
        request=serializers.InvoiceSendSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, invoice_id: str) -> Response:
        return super().post(request, invoice_id)
