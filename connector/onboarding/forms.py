"""Forms of the Connect Qonto and Settings pages.

Secrets are write-only: the secret key and the staging token inputs are ``type=password``,
``autocomplete=off``, always rendered empty (``render_value=False``), and an empty submission
keeps the stored value. Only ``QontoConnection.secret_key_hint`` (``…`` + last 4) is ever shown.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from connector.models import QontoConnection, Tenant
from connector.onboarding.services import PendingKey

_VAT_FORMAT = re.compile(r"^\d+(?:[.,]\d+)?$")
# What people put around the number: spaces (also the non-breaking ones French typography puts
# before "%"), and a trailing percent sign: "20 %", "20%", "5,5\u202f%".
_VAT_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_]{1,100}$")


def format_vat(value: Decimal | None) -> str:
    """20.00 → "20", 5.50 → "5,5" (how people type it)."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def format_iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def parse_vat_rate(text: str) -> Decimal:
    """ "20", "20 %", "20,0", "5,5", "8.50%" → Decimal; ``ValidationError`` for "abc", 150, "-5"."""
    compact = _VAT_SPACES.sub("", text)
    if compact.endswith("%"):
        compact = compact[:-1]
    if not _VAT_FORMAT.fullmatch(compact):
        raise ValidationError(
            _("Saisissez un taux en pour cent, par exemple 20, 20 % ou 5,5."),
            code="format",
        )
    number = Decimal(compact.replace(",", "."))
    if -number.as_tuple().exponent > 2:  # type: ignore[operator]
        raise ValidationError(_("Deux décimales au plus (par exemple 5,5 ou 8,50)."), code="decimals")
    if not Decimal("0") <= number <= Decimal("100"):
        raise ValidationError(_("Le taux de TVA doit être compris entre 0 et 100."), code="range")
    return number.quantize(Decimal("0.01"))


class VatRateField(forms.CharField):
    """VAT in percent as people type it ("20", "20 %", "20,0", "5,5"), 0 to 100, 2 decimals at most."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": "6"})

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        return parse_vat_rate(text)


class SecretInput(forms.PasswordInput):
    def __init__(self) -> None:
        super().__init__(
            render_value=False,
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
        )


def siret_property_field(choices: list[tuple[str, str]] | None) -> forms.Field:
    """A select of the portal's company properties, or a text input when HubSpot is unreachable."""
    label = _("Propriété d'entreprise HubSpot contenant le SIRET")
    if choices is not None:
        return forms.ChoiceField(
            label=label,
            choices=choices,
            help_text=_("Par défaut, la propriété « SIRET » que l'application crée dans HubSpot."),
        )
    return forms.CharField(
        label=label,
        max_length=100,
        help_text=_(
            "HubSpot ne répond pas pour le moment : saisissez le nom interne de la propriété "
            "(par défaut qonto_siret)."
        ),
    )


def clean_property_name(value: str) -> str:
    value = value.strip()
    if not _PROPERTY_NAME.fullmatch(value):
        raise ValidationError(
            _(
                "Nom interne de propriété attendu : lettres, chiffres et « _ » uniquement "
                "(par exemple qonto_siret)."
            )
        )
    return value


class QontoCredentialsForm(forms.Form):
    """Organization login, secret key, environment (+ staging token for Qonto's sandbox)."""

    organization_slug = forms.CharField(
        label=_("Identifiant de l'organisation (login)"),
        max_length=100,
        help_text=_(
            "Dans Qonto : Paramètres › Intégrations et partenariats › Clé API. Par exemple acme-sas-3066."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}),
    )
    secret_key = forms.CharField(label=_("Clé secrète"), max_length=255, required=False, widget=SecretInput())
    environment = forms.ChoiceField(
        label=_("Environnement"),
        choices=QontoConnection.Environment.choices,
        initial=QontoConnection.Environment.PRODUCTION,
        widget=forms.RadioSelect,
        help_text=_(
            "Choisissez « Sandbox Qonto » seulement pour une organisation de test du Developer Portal."
        ),
    )
    staging_token = forms.CharField(
        label=_("Jeton de staging (sandbox Qonto uniquement)"),
        max_length=255,
        required=False,
        widget=SecretInput(),
    )

    CREDENTIAL_FIELDS = ("organization_slug", "secret_key", "environment", "staging_token")

    def __init__(
        self,
        *args: Any,
        connection: QontoConnection | None = None,
        pending: PendingKey | None = None,
        **kwargs: Any,
    ) -> None:
        self.connection = connection
        self.pending = pending
        if connection is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = self.connection_initial(connection)
        super().__init__(*args, **kwargs)
        if connection is not None and connection.secret_key:
            self.fields["secret_key"].help_text = _(
                "Clé enregistrée : %(hint)s. Laissez vide pour la conserver."
            ) % {"hint": connection.secret_key_hint}
        else:
            self.fields["secret_key"].help_text = _(
                "Affichée une seule fois par Qonto ; nous la gardons chiffrée."
            )
        if connection is not None and connection.staging_token:
            self.fields["staging_token"].help_text = _("Jeton enregistré. Laissez vide pour le conserver.")
        else:
            self.fields["staging_token"].help_text = _(
                "Le jeton du Developer Portal de Qonto (sandbox seulement)."
            )

    @staticmethod
    def connection_initial(connection: QontoConnection) -> dict[str, Any]:
        return {"organization_slug": connection.organization_slug, "environment": connection.environment}

    def clean_organization_slug(self) -> str:
        slug = self.cleaned_data["organization_slug"].strip()
        if not _SLUG.fullmatch(slug):
            raise ValidationError(
                _(
                    "L'identifiant ne contient que des lettres, des chiffres et des tirets "
                    "(par exemple acme-sas-3066)."
                )
            )
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        existing = self.connection
        secret = data.get("secret_key") or ""
        pending = self.pending
        if pending is not None and (
            pending.organization_slug != data.get("organization_slug")
            or pending.environment != data.get("environment")
        ):
            pending = None  # kept for another login or environment: it does not apply
        data["secret_key_typed"] = bool(secret)
        if not secret:
            if pending is not None:
                data["secret_key"] = pending.secret_key  # verified a moment ago, kept in the session
                data["secret_key_pending"] = True
                if not data.get("staging_token"):
                    data["staging_token"] = pending.staging_token
            elif existing is not None and existing.secret_key:
                data["secret_key"] = existing.secret_key  # resubmitted without a new key: keep the old one
                data["secret_key_kept"] = True
            else:
                self.add_error("secret_key", _("Saisissez la clé secrète de l'API Qonto."))
        environment = data.get("environment")
        if environment == QontoConnection.Environment.SANDBOX:
            token = data.get("staging_token") or ""
            if (
                not token
                and existing is not None
                and existing.environment == QontoConnection.Environment.SANDBOX
            ):
                token = existing.staging_token
            token = token or settings.QONTO_STAGING_TOKEN
            if not token:
                self.add_error(
                    "staging_token", _("Le sandbox Qonto exige le jeton de staging du Developer Portal.")
                )
            data["staging_token"] = token
        else:
            data["staging_token"] = ""
        return data

    def credentials_clean(self) -> bool:
        """The login, key, environment (and staging token) passed validation, whatever the rest."""
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("secret_key")) and not any(
            name in self.errors for name in self.CREDENTIAL_FIELDS
        )

    def mark_key_kept(self) -> None:
        """Say next to the (empty) secret input that the verified key is kept: no need to retype it."""
        text = _(
            "Clé vérifiée par Qonto et gardée pendant 15 minutes : inutile de la saisir à nouveau. "
            "Corrigez le champ signalé puis validez."
        )
        self.fields["secret_key"].help_text = text
        self["secret_key"].help_text = text  # the bound field copied the old one when validating
        self.fields["secret_key"].widget.attrs["placeholder"] = str(_("Clé vérifiée, gardée"))

    def flag_credentials(self, message: Any) -> None:
        """Qonto refused the login + key pair (401/404): one message, both fields marked invalid.

        Qonto answers the same way for an unknown organization login and for a wrong key, so we
        cannot tell which one is wrong: the message sits in the form's alert, right above the two
        fields, and both inputs point to it (``aria-describedby``).
        """
        self.add_error(None, message)
        alert_id = f"{self.prefix or 'form'}-errors"
        for name in ("organization_slug", "secret_key"):
            bound = self[name]
            described = [alert_id] + ([f"{bound.auto_id}_helptext"] if bound.help_text else [])
            self.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": " ".join(described)}
            )


class QontoConnectForm(QontoCredentialsForm):
    """Onboarding step 2: the credentials plus the VAT rate and where the SIRET is kept."""

    vat_rate = VatRateField(
        label=_("Taux de TVA par défaut (%)"),
        initial="20",
        help_text=_("Par exemple 20, 20 % ou 5,5. Utilisé quand une ligne n'a pas son propre taux."),
    )

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        siret_choices: list[tuple[str, str]] | None,
        siret_guess: str | None = None,
        **kwargs: Any,
    ) -> None:
        connection = kwargs.get("connection")
        if connection is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = {
                **self.connection_initial(connection),
                "vat_rate": format_vat(connection.vat_rate),
            }
        super().__init__(*args, **kwargs)
        field = siret_property_field(siret_choices)
        field.initial = tenant.siret_property
        if siret_guess and siret_choices and siret_guess in {name for name, _label in siret_choices}:
            # Onboarding only (the view passes a guess until Qonto is connected): the property whose
            # values, in the portal's recent companies, are valid SIRETs.
            field.initial = siret_guess
            field.help_text = _(
                "Présélectionnée : dans vos entreprises HubSpot récentes, c'est elle qui contient des "
                "SIRET valides."
            )
        self.fields["siret_property"] = field

    def clean_siret_property(self) -> str:
        return clean_property_name(self.cleaned_data["siret_property"])


class IbanChoiceForm(forms.Form):
    """Which of the organization's accounts receives the payments (printed on invoices)."""

    iban = forms.ChoiceField(label=_("Compte de réception des paiements"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, accounts: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["iban"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (
                a["iban"],
                "{name} — {iban}{main}".format(
                    name=a.get("name") or _("Compte"),
                    iban=format_iban(a["iban"]),
                    main=(
                        " " + str(_("(compte principal)"))
                        if a.get("main") and "principal" not in str(a.get("name", "")).lower()
                        else ""
                    ),
                ),
            )
            for a in accounts
        ]


class InvoicingSettingsForm(forms.Form):
    """Settings: VAT, receiving IBAN, SIRET property and payment terms (no Qonto call needed)."""

    vat_rate = VatRateField(
        label=_("Taux de TVA par défaut (%)"),
        help_text=_("Par exemple 20, 20 % ou 5,5."),
    )
    payment_terms_days = forms.IntegerField(
        label=_("Délai de paiement (jours)"),
        min_value=0,
        max_value=365,
        help_text=_("Échéance = date d'émission + ce nombre de jours."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": "4"}),
    )

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        connection: QontoConnection,
        siret_choices: list[tuple[str, str]] | None,
        **kwargs: Any,
    ) -> None:
        if "initial" not in kwargs and not args:
            kwargs["initial"] = {
                "vat_rate": format_vat(connection.vat_rate),
                "payment_terms_days": tenant.payment_terms_days,
                "iban": connection.iban,
                "siret_property": tenant.siret_property,
            }
        super().__init__(*args, **kwargs)
        self.fields["siret_property"] = siret_property_field(siret_choices)
        accounts = list(connection.bank_accounts or [])
        if connection.iban and connection.iban not in {a.get("iban") for a in accounts}:
            accounts.append({"iban": connection.iban, "name": _("Compte enregistré"), "main": False})
        self.fields["iban"] = IbanChoiceForm(accounts=accounts).fields["iban"]

    def clean_siret_property(self) -> str:
        return clean_property_name(self.cleaned_data["siret_property"])


class PercentageField(forms.CharField):
    """A deposit percentage as people type it ("30", "12,5"): 1 to 99, two decimals at most."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": "6"})

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        from connector.invoicing.request_checks import parse_percentage

        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        parsed = parse_percentage(text.replace(",", "."))
        if parsed is None:
            raise ValidationError(
                _("Saisissez un pourcentage entre 1 et 99, deux décimales au plus (par exemple 30 ou 12,5)."),
                code="percentage",
            )
        return parsed


class StageRuleForm(forms.Form):
    """Settings › Automation: "when a deal enters stage X, create invoice Y" (off by default)."""

    enabled = forms.BooleanField(
        label=_("Créer automatiquement une facture quand une transaction entre dans la phase choisie"),
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("Facture à créer"),
        choices=[
            ("full", _("Facture complète (toute la transaction)")),
            ("deposit", _("Acompte (pourcentage de la transaction)")),
            ("balance", _("Solde (ce qui reste à facturer)")),
        ],
        widget=forms.RadioSelect,
    )
    percentage = PercentageField(
        label=_("Pourcentage de l'acompte"),
        required=False,
        help_text=_("Seulement pour un acompte, par exemple 30."),
    )

    def __init__(
        self,
        *args: Any,
        rule: Any,
        stage_choices: list[tuple[str, list[tuple[str, str]]]] | None,
        **kwargs: Any,
    ) -> None:
        current = f"{rule.pipeline_id}:{rule.stage_id}" if rule.stage_id else ""
        if "initial" not in kwargs and not args:
            kwargs["initial"] = {
                "enabled": rule.enabled,
                "stage": current,
                "kind": rule.kind,
                "percentage": format_vat(rule.percentage) if rule.percentage is not None else "",
            }
        super().__init__(*args, **kwargs)
        choices: list[Any] = [("", _("— Choisissez une phase —"))]
        if stage_choices is not None:
            choices += stage_choices
        known = {value for _group, stages in (stage_choices or []) for value, _label in stages}
        if current and current not in known:
            missing = (
                _("%(stage)s (HubSpot ne répond pas : liste indisponible)")
                if stage_choices is None
                else _("%(stage)s (introuvable dans HubSpot)")
            )
            choices.append((current, missing % {"stage": rule.stage_label or rule.stage_id}))
        self.labels = {
            value: (group, label) for group, stages in (stage_choices or []) for value, label in stages
        }
        self.rule = rule
        self.fields["stage"] = forms.ChoiceField(
            label=_("Phase de la transaction (pipeline › phase)"),
            choices=choices,
            required=False,
            help_text=_(
                "La facture est créée quand une transaction entre dans cette phase, pas pour les "
                "transactions qui y sont déjà."
            ),
        )
        self.order_fields(["enabled", "stage", "kind", "percentage"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stage = data.get("stage") or ""
        if data.get("enabled") and not stage:
            self.add_error("stage", _("Choisissez la phase qui déclenche la facture."))
        if data.get("kind") == "deposit" and data.get("percentage") is None and data.get("enabled"):
            self.add_error("percentage", _("Indiquez le pourcentage de l'acompte."))
        pipeline_id, _sep, stage_id = str(stage).partition(":")
        group, label = self.labels.get(stage, (self.rule.pipeline_label, self.rule.stage_label))
        data.update(
            {
                "pipeline_id": pipeline_id,
                "pipeline_label": str(group),
                "stage_id": stage_id,
                "stage_label": str(label),
            }
        )
        if data.get("kind") != "deposit":
            data["percentage"] = None
        return data
