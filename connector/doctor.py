"""What is wrong with a tenant, and why: the support diagnosis (admin, ``connector_doctor``).

``tenant_diagnose`` only reads our database (no provider call), so it is cheap enough to run for
every tenant. ``qonto_connection_check`` is the live test of a tenant's Qonto credentials.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from django.utils import timezone

from connector.exceptions import ApplicationError
from connector.models import Deal, Invoice, QontoConnection, SyncRun, Tenant
from connector.qonto_client import Organization, QontoClient
from connector.ratelimit import qonto_limiter

logger = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"
NOT_DRAFT_WINDOW = timedelta(days=30)


@dataclasses.dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # ERROR: the tenant cannot work as it should; WARNING: worth a look
    message: str


def tenant_diagnose(tenant: Tenant) -> list[Finding]:
    """Every misconfiguration of ``tenant``, most blocking first (empty list: all good)."""
    from billing.selectors import tenant_can_invoice
    from hubspot_app.models import HubSpotInstallation

    findings: list[Finding] = []
    installation = HubSpotInstallation.objects.filter(tenant=tenant).first()
    if tenant.status == Tenant.Status.UNINSTALLED:
        reason = (installation.uninstall_reason if installation else "") or tenant.status_reason
        findings.append(
            Finding(
                "uninstalled",
                ERROR,
                "Application désinstallée de HubSpot" + (f" : {reason}" if reason else "."),
            )
        )
    elif installation is None or not installation.has_tokens:
        findings.append(
            Finding("no_hubspot_tokens", ERROR, "Aucun jeton HubSpot : l'installation est à refaire.")
        )
    if tenant.status == Tenant.Status.SUSPENDED:
        findings.append(
            Finding(
                "suspended",
                ERROR,
                f"Suspendu par le support : {tenant.status_reason or 'raison non indiquée'}.",
            )
        )

    connection = QontoConnection.objects.filter(tenant=tenant).first()
    if connection is None:
        findings.append(
            Finding("qonto_not_connected", ERROR, "Qonto n'est pas connecté (étape « Connecter Qonto »).")
        )
    else:
        if connection.verified_at is None:
            why = connection.last_error or "identifiants jamais validés"
            findings.append(Finding("qonto_not_verified", ERROR, f"Connexion Qonto non vérifiée : {why}."))
        elif connection.last_error:
            findings.append(
                Finding("qonto_last_error", WARNING, f"Dernier test Qonto en échec : {connection.last_error}")
            )
        if not connection.iban:
            findings.append(Finding("iban_missing", ERROR, "Aucun IBAN choisi pour les factures."))

    if tenant.status == Tenant.Status.INSTALLED:
        decision = tenant_can_invoice(tenant)
        if not decision.allowed:
            findings.append(
                Finding(
                    "plan_not_active", ERROR, f"Abonnement inactif ({decision.status}) : {decision.message}"
                )
            )

    if installation is not None and installation.has_tokens:
        from hubspot_app.scopes import NOTES_SCOPE, TAX_RATES_SCOPE, USERS_SCOPE

        effects = {
            NOTES_SCOPE: "pas de note sur la transaction pour chaque facture",
            TAX_RATES_SCOPE: "les lignes avec un taux de TVA HubSpot prennent le taux du tenant",
            USERS_SCOPE: "personne ne peut modifier la connexion Qonto ni déconnecter depuis nos pages",
        }
        absent = [s for s in effects if s not in (installation.scopes or [])]
        if absent:
            findings.append(
                Finding(
                    "optional_scopes_missing",
                    WARNING,
                    "Autorisations HubSpot optionnelles non accordées (réinstaller pour les accorder) : "
                    + " ; ".join(f"{s} → {effects[s]}" for s in absent)
                    + ".",
                )
            )
    if installation is not None and installation.has_tokens and installation.setup_completed_at is None:
        findings.append(
            Finding(
                "hubspot_setup_incomplete",
                ERROR,
                "Configuration HubSpot jamais terminée (propriétés de la transaction absentes).",
            )
        )

    last_run = SyncRun.objects.filter(tenant=tenant).order_by("-started_at").first()
    if last_run is not None and last_run.status == SyncRun.Status.FAILED:
        when = f"{timezone.localtime(last_run.started_at):%d/%m/%Y %H:%M}"
        findings.append(
            Finding(
                "last_sync_failed",
                ERROR,
                f"Dernière synchronisation en échec ({when}) : {last_run.error or 'erreur inconnue'}",
            )
        )

    not_draft = list(
        Invoice.objects.filter(
            tenant=tenant, error_code="not_draft", updated_at__gte=timezone.now() - NOT_DRAFT_WINDOW
        )
        .order_by("-created_at")
        .values_list("reference", "status")[:6]
    )
    if not_draft:
        shown = ", ".join(f"{ref} ({status})" for ref, status in not_draft[:5])
        findings.append(
            Finding(
                "invoice_not_draft",
                ERROR,
                "Qonto a créé des factures qui ne sont pas des brouillons (nous envoyons toujours "
                f"status=draft) : {shown}{', …' if len(not_draft) > 5 else ''}. Vérifiez-les dans Qonto.",
            )
        )

    deleted = list(
        Deal.objects.filter(tenant=tenant, hubspot_deleted_at__isnull=False)
        .order_by("hubspot_deal_id")
        .values_list("hubspot_deal_id", flat=True)[:11]
    )
    if deleted:
        shown = ", ".join(deleted[:10]) + (", …" if len(deleted) > 10 else "")
        findings.append(
            Finding("deals_deleted", WARNING, f"Deals supprimés dans HubSpot (plus synchronisés) : {shown}")
        )
    return findings


def deployment_diagnose() -> list[Finding]:
    """What is wrong with this deployment as a whole (not one tenant): the URL HubSpot calls."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.http.request import validate_host
    from django.utils.translation import gettext

    from hubspot_app.signature_diagnosis import last_refusal

    findings: list[Finding] = []
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or ""
    if host and not validate_host(host, settings.ALLOWED_HOSTS):
        findings.append(
            Finding(
                "public_host_not_allowed",
                ERROR,
                gettext(
                    "L'hôte de PUBLIC_BASE_URL (%(host)s) n'est pas dans ALLOWED_HOSTS : Django "
                    "refusera les appels de HubSpot (400)."
                )
                % {"host": host},
            )
        )
    refusal = last_refusal()
    if refusal is not None:
        when = refusal.at[:16].replace("T", " ")
        if refusal.signed_as:
            message = gettext(
                "Appel signé de la carte refusé le %(when)s UTC : HubSpot a signé %(signed)s mais nous "
                "avons vérifié %(checked)s (diffère : %(parts)s). Corrigez PUBLIC_BASE_URL (schéma, "
                "hôte, préfixe de chemin du proxy)."
            ) % {
                "when": when,
                "signed": refusal.signed_as,
                "checked": refusal.checked,
                "parts": ", ".join(refusal.differences),
            }
        else:
            message = gettext(
                "Appel signé de la carte refusé le %(when)s UTC : nous avons vérifié %(checked)s, "
                "l'appel est arrivé comme %(arrived)s (en-têtes %(headers)s). Aucune variante de l'URL "
                "ne vérifie : mauvais secret client (HUBSPOT_CLIENT_SECRET), appel falsifié, ou URL "
                "publique sans rapport avec PUBLIC_BASE_URL."
            ) % {
                "when": when,
                "checked": refusal.checked,
                "arrived": refusal.arrived_as,
                "headers": ", ".join(f"{k}: {v}" for k, v in refusal.forwarded.items()) or "-",
            }
        if refusal.resolved_at:
            message += " " + gettext("Des appels signés ont été acceptés depuis.")
        severity = ERROR if refusal.signed_as and not refusal.resolved_at else WARNING
        findings.append(Finding("card_signature_refused", severity, message))
    return findings


@dataclasses.dataclass(frozen=True)
class QontoCheck:
    ok: bool
    message: str
    organization: Organization | None = None


def qonto_connection_check(*, tenant: Tenant) -> QontoCheck:
    """Call ``GET /v2/organization`` with the tenant's stored credentials, now.

    A success marks the connection verified again and clears its last error; a failure records
    the error (for people, no secret) but leaves ``verified_at`` alone: one timeout must not stop
    a tenant's invoicing.
    """
    connection = QontoConnection.objects.filter(tenant=tenant).first()
    if connection is None:
        return QontoCheck(False, "Qonto n'est pas connecté.")
    client = QontoClient.for_connection(connection, before_request=qonto_limiter().acquire)
    try:
        organization = client.get_organization()
    except ApplicationError as exc:
        message = f"{exc.code}: {exc.user_message}"
        QontoConnection.objects.filter(pk=connection.pk).update(last_error=message[:2000])
        logger.info("Qonto check of tenant %s failed: %s", tenant.portal_id, exc.code)
        return QontoCheck(False, message)
    QontoConnection.objects.filter(pk=connection.pk).update(verified_at=timezone.now(), last_error="")
    accounts = len(organization.usable_accounts)
    return QontoCheck(
        True,
        f"Qonto répond : {organization.legal_name or organization.slug} ({accounts} compte(s) EUR).",
        organization,
    )
