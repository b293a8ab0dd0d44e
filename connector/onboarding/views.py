"""Connect Qonto (onboarding step 2) and Settings. Thin: parse the form, call a service, render."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from connector.automation.stage_rule import stage_rule_for, stage_rule_save
from connector.exceptions import QontoAuthError, QontoError, QontoRetryableError
from connector.models import QontoConnection, Tenant
from connector.onboarding.forms import (
    IbanChoiceForm,
    InvoicingSettingsForm,
    QontoConnectForm,
    QontoCredentialsForm,
    StageRuleForm,
    format_iban,
)
from connector.onboarding.selectors import (
    company_property_choices,
    deal_stage_choices,
    qonto_connection_for,
    siret_property_guess,
)
from connector.onboarding.services import (
    QontoAttemptsExceededError,
    QontoNoUsableAccountError,
    qonto_connection_save,
    qonto_credentials_verify,
    qonto_iban_choose,
    qonto_pending_key_forget,
    qonto_pending_key_get,
    qonto_pending_key_keep,
    tenant_invoicing_settings_save,
)
from connector.qonto_client import (
    Organization,
    QontoCredentials,
    QontoNotFoundError,
    QontoRateLimitedError,
)
from connector.tenancy import SESSION_USER_EMAIL, SESSION_USER_ID, tenant_required
from hubspot_app.models import HubSpotInstallation
from hubspot_app.services import hubspot_setup_enqueue
from hubspot_app.settings_access import ChangeAccess, connection_change_access, connection_change_refused

logger = logging.getLogger(__name__)

BILLING_PLANS_PATH = "/billing/plans"  # step 3, served by the billing app
BILLING_HOME_PATH = "/billing/"


PAIR_REFUSED = gettext_lazy(
    "Qonto ne reconnaît pas cet identifiant d'organisation avec cette clé secrète : vérifiez les deux "
    "(Qonto › Paramètres › Intégrations et partenariats › Clé API)."
)


def _check(form: QontoCredentialsForm, tenant: Tenant) -> Organization | None:
    """Check the credentials with Qonto; put each failure next to the field(s) it concerns."""
    data = form.cleaned_data
    credentials = _credentials(form)
    try:
        return qonto_credentials_verify(tenant=tenant, credentials=credentials)
    except QontoAttemptsExceededError as exc:
        form.add_error(None, str(exc.user_message))
    except QontoAuthError as exc:
        if exc.code == "qonto_environment_mismatch":
            field = (
                "staging_token"
                if data["environment"] == QontoConnection.Environment.SANDBOX
                else "environment"
            )
            form.add_error(field, str(exc.user_message))
        elif data["environment"] == QontoConnection.Environment.SANDBOX:
            form.flag_credentials(
                _(
                    "Qonto refuse ces identifiants sur son sandbox. Vérifiez l'identifiant, la clé et le "
                    "jeton de staging — ou choisissez « Production » si c'est une clé de production."
                )
            )
        else:
            form.flag_credentials(PAIR_REFUSED)
    except QontoNotFoundError:
        form.flag_credentials(PAIR_REFUSED)
    except QontoRateLimitedError:
        form.add_error(None, _("Qonto limite temporairement les requêtes. Réessayez dans une minute."))
    except QontoRetryableError:
        form.add_error(
            None,
            _(
                "Qonto est injoignable pour le moment : vos identifiants n'ont pas pu être vérifiés. "
                "Réessayez dans un instant."
            ),
        )
    except QontoNoUsableAccountError as exc:
        form.add_error(None, str(exc.user_message))
    except QontoError as exc:
        logger.warning("Qonto check for portal %s failed: %s", tenant.portal_id, exc.code)
        form.add_error(
            None, _("Qonto a renvoyé une erreur inattendue (%(code)s). Réessayez.") % {"code": exc.code}
        )
    return None


def _credentials(form: QontoCredentialsForm) -> QontoCredentials:
    data = form.cleaned_data
    return QontoCredentials(data["organization_slug"], data["secret_key"], data["staging_token"])


def _submit(
    request: HttpRequest,
    form: QontoCredentialsForm,
    tenant: Tenant,
    *,
    extra_fields: tuple[str, ...] = (),
) -> QontoConnection | None:
    """Validate, check with Qonto, save. On an error in another field, a key Qonto accepts is kept
    (encrypted, in the session) so the user does not type it again."""
    valid = form.is_valid()
    if not form.credentials_clean():
        return None
    data = form.cleaned_data
    if not valid:
        if data.get("secret_key_pending"):
            form.mark_key_kept()
        elif data.get("secret_key_typed") and _check(form, tenant) is not None:
            qonto_pending_key_keep(
                session=request.session,
                tenant=tenant,
                credentials=_credentials(form),
                environment=data["environment"],
            )
            form.mark_key_kept()
        return None
    organization = _check(form, tenant)
    if organization is None:
        return None
    connection = qonto_connection_save(
        tenant=tenant,
        credentials=_credentials(form),
        environment=data["environment"],
        organization=organization,
        vat_rate=data.get("vat_rate") if "vat_rate" in extra_fields else None,
        siret_property=data.get("siret_property") if "siret_property" in extra_fields else None,
        by_email=request.session.get(SESSION_USER_EMAIL, ""),
    )
    qonto_pending_key_forget(session=request.session)
    messages.success(
        request,
        _("Connexion à Qonto réussie : %(name)s.") % {"name": organization.legal_name or organization.slug},
    )
    return connection


def _change_access(request: HttpRequest, tenant: Tenant) -> ChangeAccess:
    """May the signed-in HubSpot user change the Qonto connection? (A HubSpot super admin.)"""
    return connection_change_access(tenant=tenant, user_id=request.session.get(SESSION_USER_ID))


def _refuse(request: HttpRequest, tenant: Tenant, access: ChangeAccess, what: str, form: Any) -> None:
    """Keep the form as typed, say why it was not saved, and audit the refusal."""
    connection_change_refused(
        tenant=tenant,
        user_id=request.session.get(SESSION_USER_ID),
        user_email=request.session.get(SESSION_USER_EMAIL, ""),
        what=what,
        reason=access.reason,
    )
    if form is not None:
        form.add_error(None, str(access.message))


def _iban_form(connection: QontoConnection | None, data: Any = None) -> IbanChoiceForm | None:
    if connection is None or connection.verified_at is None or len(connection.bank_accounts or []) < 2:
        return None
    return IbanChoiceForm(data, accounts=connection.bank_accounts, initial={"iban": connection.iban})


@never_cache
@tenant_required
@require_http_methods(["GET", "POST"])
def qonto_connect(request: HttpRequest) -> HttpResponse:
    """Step 2: organization login + secret key + VAT + SIRET property, checked live with Qonto."""
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    connection = qonto_connection_for(tenant)
    choices = company_property_choices(tenant)
    connected = connection is not None and connection.verified_at is not None
    form = QontoConnectForm(
        connection=connection,
        tenant=tenant,
        siret_choices=choices,
        siret_guess=None if connected or request.method != "GET" else siret_property_guess(tenant, choices),
    )
    iban_form = _iban_form(connection)
    access = _change_access(request, tenant)
    status = 200
    if request.method == "POST" and request.POST.get("form") == "iban":
        iban_form = _iban_form(connection, request.POST)
        if not access.allowed:
            _refuse(request, tenant, access, "qonto_iban", iban_form)
            status = 403
        elif iban_form is not None and iban_form.is_valid():
            qonto_iban_choose(tenant=tenant, iban=iban_form.cleaned_data["iban"])
            return HttpResponseRedirect(BILLING_PLANS_PATH)
        else:
            status = 400
    elif request.method == "POST":
        form = QontoConnectForm(
            request.POST,
            connection=connection,
            tenant=tenant,
            siret_choices=choices,
            pending=qonto_pending_key_get(session=request.session, tenant=tenant),
        )
        if not access.allowed:
            _refuse(request, tenant, access, "qonto_connection", form)
            status = 403
        elif _submit(request, form, tenant, extra_fields=("vat_rate", "siret_property")):
            return redirect("onboarding_qonto")
        else:
            status = 400
    return render(
        request,
        "onboarding/qonto.html",
        {
            "form": form,
            "iban_form": iban_form,
            "connection": connection if connection and connection.verified_at else None,
            "main_iban": format_iban(connection.iban) if connection and connection.iban else "",
            "hubspot_unreachable": choices is None,
            "billing_plans_url": BILLING_PLANS_PATH,
            "step": 2,
            "refusal": "" if access.allowed else access.message,
        },
        status=status,
    )


@never_cache
@tenant_required
@require_http_methods(["GET", "POST"])
def tenant_settings(request: HttpRequest) -> HttpResponse:
    """Settings: invoicing (VAT, IBAN, SIRET property, payment terms), Qonto key, installation."""
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    connection = qonto_connection_for(tenant)
    if connection is not None and connection.verified_at is None:
        connection = None
    choices = company_property_choices(tenant)
    invoicing_form = (
        InvoicingSettingsForm(tenant=tenant, connection=connection, siret_choices=choices)
        if connection
        else None
    )
    qonto_form = QontoCredentialsForm(connection=connection, prefix="qonto")
    rule = stage_rule_for(tenant)
    stage_choices = deal_stage_choices(tenant)
    rule_form = StageRuleForm(rule=rule, stage_choices=stage_choices, prefix="rule")
    access = _change_access(request, tenant)
    status = 200
    section = request.POST.get("form") if request.method == "POST" else None
    if section == "invoicing" and connection is not None:
        invoicing_form = InvoicingSettingsForm(
            request.POST, tenant=tenant, connection=connection, siret_choices=choices
        )
        if not invoicing_form.is_valid():
            status = 400
        elif invoicing_form.cleaned_data.get("iban") != connection.iban and not access.allowed:
            # The receiving account is part of the Qonto connection: super admins only.
            _refuse(request, tenant, access, "qonto_iban", invoicing_form)
            status = 403
        else:
            tenant_invoicing_settings_save(tenant=tenant, **invoicing_form.cleaned_data)
            messages.success(request, _("Réglages de facturation enregistrés."))
            return redirect("tenant_settings")
    elif section == "qonto":
        qonto_form = QontoCredentialsForm(
            request.POST,
            connection=connection,
            prefix="qonto",
            pending=qonto_pending_key_get(session=request.session, tenant=tenant),
        )
        if not access.allowed:
            _refuse(request, tenant, access, "qonto_connection", qonto_form)
            status = 403
        elif _submit(request, qonto_form, tenant):
            return redirect("tenant_settings")
        else:
            status = 400
    elif section == "automation":
        rule_form = StageRuleForm(request.POST, rule=rule, stage_choices=stage_choices, prefix="rule")
        if rule_form.is_valid():
            data = rule_form.cleaned_data
            stage_rule_save(
                tenant=tenant,
                enabled=data["enabled"],
                pipeline_id=data["pipeline_id"],
                pipeline_label=data["pipeline_label"],
                stage_id=data["stage_id"],
                stage_label=data["stage_label"],
                kind=data["kind"],
                percentage=data["percentage"],
                by_email=request.session.get(SESSION_USER_EMAIL, ""),
            )
            messages.success(
                request,
                _("Règle d'automatisation enregistrée : elle est active.")
                if data["enabled"]
                else _("Règle d'automatisation enregistrée : elle est désactivée."),
            )
            return redirect("tenant_settings")
        status = 400
    elif section == "setup":
        hubspot_setup_enqueue(tenant_id=tenant.pk)
        messages.info(request, _("La création des propriétés Qonto dans HubSpot est relancée."))
        return redirect("tenant_settings")
    elif request.method == "POST":
        status = 400
    installation = HubSpotInstallation.objects.filter(tenant=tenant).first()
    return render(
        request,
        "onboarding/settings.html",
        {
            "tenant": tenant,
            "connection": connection,
            "invoicing_form": invoicing_form,
            "qonto_form": qonto_form,
            "rule_form": rule_form,
            "rule": rule,
            "pipelines_unreachable": stage_choices is None,
            "installation": installation,
            "hubspot_unreachable": choices is None,
            "billing_url": BILLING_HOME_PATH,
            "user_email": request.session.get("tenant_user_email", ""),
            "refusal": "" if access.allowed else access.message,
        },
        status=status,
    )
