"""Request validation and the OpenAPI description of the card API's bodies."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,80}$")


class InvoiceCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["full", "deposit", "balance"])
    percentage = serializers.CharField(required=False, allow_null=True, max_length=10)
    idempotency_key = serializers.CharField(max_length=80)
    # Outside France the card says which VAT the invoice carries (``vat_regime``); absent = French VAT
    # for a French client, refused with ``vat_mode_required`` for a client abroad.
    vat_mode = serializers.ChoiceField(
        choices=["standard", "reverse_charge"], required=False, allow_null=True
    )
    # The user confirmed billing the Qonto client another HubSpot company with this SIRET uses.
    confirm_shared_client = serializers.BooleanField(required=False, default=False)

    def to_internal_value(self, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and isinstance(data.get("percentage"), int | float)
            and not isinstance(data.get("percentage"), bool)
        ):
            data = {**data, "percentage": str(data["percentage"])}
        return super().to_internal_value(data)

    def validate_percentage(self, value: str | None) -> Decimal | None:
        if value in (None, ""):
            return None
        try:
            number = Decimal(str(value).replace(",", "."))
        except InvalidOperation:
            raise serializers.ValidationError("not a number") from None
        if not number.is_finite():
            raise serializers.ValidationError("not a number")
        return number

    def validate_idempotency_key(self, value: str) -> str:
        if not KEY_RE.match(value):
            raise serializers.ValidationError("8 to 80 letters, digits, '-' or '_'")
        return value


class InvoiceActionSerializer(serializers.Serializer):
    """``POST …/invoices/{id}/finalize``: only the click's key."""

    idempotency_key = serializers.CharField(max_length=80)

    def validate_idempotency_key(self, value: str) -> str:
        if not KEY_RE.match(value):
            raise serializers.ValidationError("8 to 80 letters, digits, '-' or '_'")
        return value


class InvoiceSendSerializer(InvoiceActionSerializer):
    """``POST …/invoices/{id}/send``: Qonto e-mails the finalized invoice (its PDF and payment link).

    ``send_to`` empty or absent: the client's e-mail in Qonto. The values are checked again by the
    service (``send_params_clean``), which words the problems.
    """

    send_to = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=50
    )
    email_title = serializers.CharField(max_length=1000, allow_blank=True)
    email_body = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    copy_to_self = serializers.BooleanField(required=False, default=True)


FIELD_MESSAGES = {
    "kind": {
        "fr": "Type de facture inconnu (full, deposit ou balance).",
        "en": "Unknown kind (full, deposit or balance).",
    },
    "percentage": {"fr": "Le pourcentage doit être un nombre.", "en": "The percentage must be a number."},
    "idempotency_key": {
        "fr": "Clé d'idempotence manquante ou invalide.",
        "en": "Missing or invalid idempotency key.",
    },
    "vat_mode": {
        "fr": "Mode de TVA inconnu : « standard » (TVA française) ou « reverse_charge » (autoliquidation).",
        "en": "Unknown VAT mode: “standard” (French VAT) or “reverse_charge”.",
    },
    "confirm_shared_client": {
        "fr": "confirm_shared_client doit valoir true ou false.",
        "en": "confirm_shared_client must be true or false.",
    },
    "send_to": {
        "fr": "send_to doit être une liste d'adresses e-mail.",
        "en": "send_to must be a list of e-mail addresses.",
    },
    "email_title": {"fr": "L'objet de l'e-mail est obligatoire.", "en": "The e-mail subject is required."},
    "email_body": {"fr": "Message trop long.", "en": "Message too long."},
    "copy_to_self": {
        "fr": "copy_to_self doit valoir true ou false.",
        "en": "copy_to_self must be true or false.",
    },
}


def problems_from(serializer: serializers.Serializer, lang: str) -> list[dict[str, str]]:
    errors = serializer.errors if isinstance(serializer.errors, dict) else {}
    out = []
    for field in errors:
        messages = FIELD_MESSAGES.get(field, {"fr": "Champ invalide.", "en": "Invalid field."})
        out.append({"code": f"invalid_{field}", "field": field, "message": messages[lang]})
    if not out:
        out.append(
            {
                "code": "invalid_body",
                "field": "",
                "message": "Corps JSON invalide." if lang == "fr" else "Invalid JSON body.",
            }
        )
    return out


# --- response shapes (documentation: drf-spectacular reads them for the OpenAPI schema) ---------
class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()
    url = serializers.URLField(required=False, help_text="where to fix it (the company in HubSpot, settings)")


class NoticeSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    problems = ProblemSerializer(many=True, required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class InvoiceErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    retryable = serializers.BooleanField()


class InvoiceActionErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class InvoiceLastActionSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField(help_text="finalize | send")
    status = serializers.CharField(help_text="pending | running | succeeded | failed")
    error = InvoiceActionErrorSerializer(allow_null=True)


class EinvoicingCheckSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["siret", "address", "vat_number"])
    ok = serializers.BooleanField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label


class InvoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["full", "deposit", "balance"])
    percentage = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["pending", "draft", "unpaid", "paid", "canceled", "failed"])
    number = serializers.CharField(allow_null=True)
    issue_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    total_amount = serializers.CharField()
    vat_amount = serializers.CharField()
    subtotal_amount = serializers.CharField()
    currency = serializers.CharField()
    qonto_url = serializers.URLField(allow_null=True, help_text="the invoice in the seller's Qonto app")
    payment_url = serializers.URLField(
        allow_null=True, help_text="the customer's payment page, once finalized"
    )
    vat_mode = serializers.ChoiceField(choices=["standard", "reverse_charge"])
    deducted = serializers.ListField(child=serializers.DictField())
    notices = NoticeSerializer(many=True)
    can_finalize = serializers.BooleanField(help_text="a draft Qonto holds: the card offers Finaliser")
    can_send = serializers.BooleanField(help_text="finalized (unpaid or paid): the card offers Envoyer")
    sent_at = serializers.DateTimeField(
        allow_null=True, help_text="when Qonto last e-mailed it from the card"
    )
    pdf_url = serializers.URLField(
        allow_null=True, help_text="our stable link to Qonto's PDF (redirects to a fresh signed URL)"
    )
    einvoicing_status = serializers.CharField(allow_null=True, help_text="Qonto's einvoicing_status, as sent")
    einvoicing_label = serializers.CharField(
        allow_null=True, help_text="e.g. 'Facture électronique : déposée'"
    )
    last_action = InvoiceLastActionSerializer(allow_null=True)
    error = InvoiceErrorSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class InvoiceEnvelopeSerializer(serializers.Serializer):
    invoice = InvoiceSerializer()


class TenantStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["active", "grace", "needs_qonto", "needs_plan", "suspended", "uninstalled"]
    )
    plan = serializers.CharField(allow_null=True)
    settings_url = serializers.URLField(allow_null=True)
    message = serializers.CharField(allow_null=True)


class DealSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    amount = serializers.CharField(allow_null=True)
    currency = serializers.CharField()


class ReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField()
    problems = ProblemSerializer(many=True)
    warnings = ProblemSerializer(many=True)
    einvoicing = EinvoicingCheckSerializer(many=True, allow_null=True)


class CompanySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    url = serializers.URLField()


class DealStatusSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["ready", "not_ready", "fully_invoiced", "tenant_blocked"])
    message = serializers.CharField(allow_null=True)


class ActionSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    reason_code = serializers.CharField(allow_null=True)


class ActionsSerializer(serializers.Serializer):
    full = ActionSerializer()
    deposit = ActionSerializer()
    balance = ActionSerializer()


class VatSerializer(serializers.Serializer):
    regime = serializers.ChoiceField(choices=["france", "eu", "outside_eu", "unknown"])
    country = serializers.CharField(allow_null=True)
    vat_number = serializers.CharField(allow_null=True)
    choice_required = serializers.BooleanField()
    modes = serializers.ListField(child=serializers.ChoiceField(choices=["standard", "reverse_charge"]))
    default_mode = serializers.ChoiceField(choices=["standard", "reverse_charge"])
    locked_mode = serializers.ChoiceField(choices=["standard", "reverse_charge"], allow_null=True)
    reverse_charge_mention = serializers.CharField(allow_null=True)


class TotalsSerializer(serializers.Serializer):
    deal_amount = serializers.CharField(allow_null=True)
    invoiced = serializers.CharField()
    paid = serializers.CharField()
    left_to_invoice = serializers.CharField()


class CardStateSerializer(serializers.Serializer):
    tenant = TenantStateSerializer()
    deal = DealSerializer()
    company = CompanySerializer(allow_null=True)
    status = DealStatusSerializer()
    readiness = ReadinessSerializer()
    actions = ActionsSerializer()
    vat = VatSerializer()
    invoices = InvoiceSerializer(many=True)
    totals = TotalsSerializer()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    last_read_at = serializers.DateTimeField(
        allow_null=True, help_text="when Qonto was last read for this deal (Refresh or a successful sync)"
    )
    hubspot_read_at = serializers.DateTimeField(help_text="when HubSpot was read for this card")
