"""Writes of the onboarding and settings pages: verify and save the Qonto connection, settings.

Qonto credentials are checked live (``GET /v2/organization``) before anything is saved. Failed
checks are counted per tenant (``MAX_FAILED_ATTEMPTS`` per ``FAILED_WINDOW_S``) so the form
cannot be used to guess keys — and because Qonto throttles an IP address after 200 responses
with status 401 per hour, a budget every tenant shares (spec/qonto.md §5).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal

from cryptography.fernet import InvalidToken
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import get_crypter

from connector.exceptions import QontoAuthError, QontoError
from connector.models import QontoConnection, Tenant
from connector.qonto_client import Organization, QontoClient, QontoCredentials
from hubspot_app.models import HubSpotInstallation
from hubspot_app.properties import SIRET_PROPERTY_NAME

logger = logging.getLogger(__name__)

MAX_FAILED_ATTEMPTS = 10
FAILED_WINDOW_S = 15 * 60


class QontoAttemptsExceededError(QontoError):
    code = "qonto_attempts_exceeded"
    default_user_message = _(
        "Trop de tentatives de connexion à Qonto ont échoué. Par sécurité, réessayez dans 15 minutes."
    )


class QontoNoUsableAccountError(QontoError):
    code = "qonto_no_usable_account"
    default_user_message = _(
        "Cette organisation Qonto n'a aucun compte actif en euros pour recevoir les paiements des factures."
    )


def _failures_key(tenant: Tenant) -> str:
    return f"onboarding:qonto-failures:{tenant.pk}"


def qonto_failed_attempts(tenant: Tenant) -> int:
    return int(cache.get(_failures_key(tenant)) or 0)


def _record_failure(tenant: Tenant) -> None:
    key = _failures_key(tenant)
    # The window starts at the first failure and is not extended by later ones.
    cache.add(key, 0, timeout=FAILED_WINDOW_S)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=FAILED_WINDOW_S)


def qonto_credentials_verify(*, tenant: Tenant, credentials: QontoCredentials) -> Organization:
    """The organization these credentials open, or one of our Qonto errors.

    ``QontoAuthError`` (code ``qonto_auth`` or ``qonto_environment_mismatch``) counts as a failed
    attempt; ``QontoAttemptsExceededError`` is raised without calling Qonto once the limit is hit.
    Unreachable / rate limited (``QontoRetryableError``) are not the user's fault and not counted.
    """
    if qonto_failed_attempts(tenant) >= MAX_FAILED_ATTEMPTS:
        raise QontoAttemptsExceededError(f"tenant {tenant.pk}: too many failed Qonto credential checks")
    try:
        organization = QontoClient(credentials).get_organization()
    except QontoAuthError:
        _record_failure(tenant)
        raise
    if not organization.usable_accounts:
        raise QontoNoUsableAccountError(f"organization {organization.slug}: no active EUR account")
    return organization


@transaction.atomic
def qonto_connection_save(
    *,
    tenant: Tenant,
    credentials: QontoCredentials,
    environment: str,
    organization: Organization,
    vat_rate: Decimal | None = None,
    siret_property: str | None = None,
    by_email: str = "",
) -> QontoConnection:
    """Store verified credentials (encrypted) and what Qonto said about the organization.

    The receiving IBAN stays the same when the organization still has it, else becomes the main
    account. Re-runs the HubSpot setup when it never completed or when the SIRET moves to our own
    ``qonto_siret`` company property (which the setup creates).
    """
    connection = QontoConnection.objects.select_for_update().filter(tenant=tenant).first()
    if connection is None:
        connection = QontoConnection(tenant=tenant)
        replaced = False
    else:
        replaced = (connection.organization_slug, connection.secret_key, connection.staging_token) != (
            credentials.login,
            credentials.secret_key,
            credentials.staging_token,
        )
    previous_slug = connection.organization_slug
    accounts = organization.usable_accounts
    connection.environment = environment
    connection.organization_slug = credentials.login
    connection.secret_key = credentials.secret_key
    connection.staging_token = credentials.staging_token
    connection.legal_name = organization.legal_name
    connection.organization_id = organization.id
    connection.bank_accounts = [{"iban": a.iban, "name": a.name, "main": a.main} for a in accounts]
    if connection.iban not in {a.iban for a in accounts}:
        connection.iban = accounts[0].iban if accounts else ""
    if vat_rate is not None:
        connection.vat_rate = vat_rate
    connection.verified_at = timezone.now()
    connection.last_error = ""
    connection.full_clean(exclude=["tenant"])
    connection.save()
    if replaced:
        from connector.audit import audit
        from connector.models import AuditLog

        audit(
            action=AuditLog.Action.CREDENTIALS_REPLACED,
            user_email=by_email,
            tenant=tenant,
            detail={
                "organization_slug": credentials.login,
                "previous_slug": previous_slug,
                "environment": environment,
                "key_hint": connection.secret_key_hint,
            },
        )
    cache.delete(_failures_key(tenant))
    _tenant_settings_save(tenant=tenant, siret_property=siret_property)
    logger.info("Qonto organization %s connected to portal %s", organization.slug, tenant.portal_id)
    return connection


def _tenant_settings_save(
    *, tenant: Tenant, siret_property: str | None = None, payment_terms_days: int | None = None
) -> None:
    from hubspot_app.services import hubspot_setup_enqueue

    fields = []
    needs_setup = False
    if siret_property is not None and siret_property != tenant.siret_property:
        tenant.siret_property = siret_property
        fields.append("siret_property")
        needs_setup = siret_property == SIRET_PROPERTY_NAME
    if payment_terms_days is not None and payment_terms_days != tenant.payment_terms_days:
        tenant.payment_terms_days = payment_terms_days
        fields.append("payment_terms_days")
    if fields:
        tenant.save(update_fields=[*fields, "updated_at"])
    installation = HubSpotInstallation.objects.filter(tenant=tenant).first()
    if (
        installation is not None
        and installation.has_tokens
        and (needs_setup or not installation.setup_completed_at)
    ):
        hubspot_setup_enqueue(tenant_id=tenant.pk)


@transaction.atomic
def qonto_iban_choose(*, tenant: Tenant, iban: str) -> QontoConnection:
    """Pick the receiving account among the organization's usable ones (raises ``ValueError``)."""
    connection = QontoConnection.objects.select_for_update().get(tenant=tenant)
    if iban not in {a.get("iban") for a in connection.bank_accounts or []}:
        raise ValueError("IBAN not among the organization's accounts")
    connection.iban = iban
    connection.save(update_fields=["iban", "updated_at"])
    return connection


@transaction.atomic
def tenant_invoicing_settings_save(
    *,
    tenant: Tenant,
    vat_rate: Decimal,
    iban: str,
    siret_property: str,
    payment_terms_days: int,
) -> None:
    """The Settings page's invoicing block (values already validated by the form)."""
    connection = QontoConnection.objects.select_for_update().get(tenant=tenant)
    connection.vat_rate = vat_rate
    connection.iban = iban
    connection.save(update_fields=["vat_rate", "iban", "updated_at"])
    _tenant_settings_save(tenant=tenant, siret_property=siret_property, payment_terms_days=payment_terms_days)


# --- a verified key kept while the rest of the form is corrected ------------------------------------
# When Qonto accepted the key but another field (VAT, SIRET property…) was wrong, the user should not
# have to type the secret key again — and the key must never be rendered back into the page. It is
# kept in the signed-in session instead: encrypted with FIELD_ENCRYPTION_KEY (sessions are only
# signed), tied to the tenant, the organization login and the environment, for 15 minutes.
PENDING_KEY_SESSION = "onboarding_pending_qonto_key"
PENDING_KEY_TTL_S = 15 * 60


@dataclass(frozen=True)
class PendingKey:
    organization_slug: str
    environment: str
    secret_key: str
    staging_token: str

    def __repr__(self) -> str:  # never print the key
        return f"PendingKey(organization_slug={self.organization_slug!r}, secret_key='…')"


def qonto_pending_key_keep(
    *, session: SessionBase, tenant: Tenant, credentials: QontoCredentials, environment: str
) -> None:
    """Keep credentials Qonto has just accepted, encrypted, in the session (see above)."""
    secret = json.dumps({"k": credentials.secret_key, "s": credentials.staging_token})
    session[PENDING_KEY_SESSION] = {
        "tenant": tenant.pk,
        "slug": credentials.login,
        "environment": environment,
        "token": get_crypter().encrypt(secret.encode()).decode(),
    }


def qonto_pending_key_get(*, session: SessionBase, tenant: Tenant) -> PendingKey | None:
    """The kept credentials of this tenant, or None (none kept, another tenant's, expired)."""
    kept = session.get(PENDING_KEY_SESSION)
    if not isinstance(kept, dict) or kept.get("tenant") != tenant.pk:
        return None
    try:
        secret = json.loads(get_crypter().decrypt(str(kept["token"]).encode(), ttl=PENDING_KEY_TTL_S))
    except (InvalidToken, KeyError, TypeError, ValueError):
        session.pop(PENDING_KEY_SESSION, None)
        return None
    return PendingKey(
        organization_slug=str(kept.get("slug", "")),
        environment=str(kept.get("environment", "")),
        secret_key=str(secret.get("k", "")),
        staging_token=str(secret.get("s", "")),
    )


def qonto_pending_key_forget(*, session: SessionBase) -> None:
    session.pop(PENDING_KEY_SESSION, None)
