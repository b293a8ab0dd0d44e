"""Install, OAuth callback, sign-in / sign-out, the card's settings link and Disconnect.

Customers have no password of ours: every way in goes through HubSpot (OAuth) or a short-lived
link signed by us, and ends in ``connector.tenancy.tenant_login``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connector.exceptions import HubSpotError, HubSpotRetryableError
from connector.onboarding.selectors import onboarding_next_url
from connector.tenancy import (
    SESSION_USER_EMAIL,
    SESSION_USER_ID,
    session_tenant,
    tenant_login,
    tenant_logout,
    tenant_required,
)
from hubspot_app.models import HubSpotInstallation
from hubspot_app.oauth import HubSpotOAuth
from hubspot_app.oauth_state import StateError, safe_next, state_consume, state_issue
from hubspot_app.services import install_from_oauth_code, oauth_redirect_uri, tenant_disconnect
from hubspot_app.settings_access import (
    SettingsLinkError,
    connection_change_access,
    connection_change_refused,
    settings_link_consume,
)
from hubspot_app.transport import HubSpotOAuthError

logger = logging.getLogger(__name__)

# Why an install or sign-in failed → (title, explanation), shown on the error page.
OAUTH_ERRORS = {
    "state_missing": (
        gettext_lazy("Lien d'installation incomplet"),
        gettext_lazy(
            "Le retour de HubSpot ne contient pas le jeton de sécurité attendu. "
            "Recommencez depuis notre site."
        ),
    ),
    "state_invalid": (
        gettext_lazy("Lien d'installation non valide"),
        gettext_lazy(
            "Le jeton de sécurité renvoyé par HubSpot n'a pas été émis par notre site. Recommencez."
        ),
    ),
    "state_expired": (
        gettext_lazy("Lien d'installation expiré"),
        gettext_lazy("Plus de 10 minutes se sont écoulées depuis le début de l'installation. Recommencez."),
    ),
    "state_unknown": (
        gettext_lazy("Lien d'installation déjà utilisé"),
        gettext_lazy(
            "Ce retour de HubSpot a déjà servi, ou l'installation a commencé dans un autre navigateur. "
            "Recommencez depuis ce navigateur."
        ),
    ),
    "access_denied": (
        gettext_lazy("Installation annulée"),
        gettext_lazy("Vous avez refusé l'accès à HubSpot : rien n'a été installé."),
    ),
    "hubspot_error": (
        gettext_lazy("HubSpot a interrompu l'installation"),
        gettext_lazy("HubSpot a signalé une erreur pendant l'autorisation. Réessayez dans un instant."),
    ),
    "code_missing": (
        gettext_lazy("Autorisation absente"),
        gettext_lazy("HubSpot n'a pas transmis de code d'autorisation. Recommencez l'installation."),
    ),
    "code_rejected": (
        gettext_lazy("Autorisation expirée"),
        gettext_lazy(
            "HubSpot a refusé le code d'autorisation (expiré ou déjà utilisé). Recommencez l'installation."
        ),
    ),
    "hubspot_unavailable": (
        gettext_lazy("HubSpot ne répond pas"),
        gettext_lazy("Nous n'avons pas pu joindre HubSpot. Réessayez dans quelques minutes."),
    ),
    "unexpected": (
        gettext_lazy("Une erreur est survenue"),
        gettext_lazy(
            "L'installation n'a pas pu aboutir. Réessayez ; si cela persiste, contactez le support."
        ),
    ),
}
SETTINGS_LINK_ERRORS = {
    "expired": gettext_lazy(
        "Ce lien a expiré (il est valable 15 minutes). Rouvrez les réglages depuis la carte Qonto de la "
        "transaction, ou connectez-vous avec HubSpot."
    ),
    "invalid": gettext_lazy(
        "Ce lien n'est pas valide. Connectez-vous avec HubSpot pour ouvrir vos réglages."
    ),
    "used": gettext_lazy(
        "Ce lien a déjà servi (il ne s'ouvre qu'une fois). Rechargez la carte Qonto de la transaction "
        "pour en obtenir un nouveau, ou connectez-vous avec HubSpot."
    ),
    "uninstalled": gettext_lazy(
        "L'application n'est plus installée sur ce compte HubSpot. "
        "Réinstallez-la pour retrouver vos réglages."
    ),
}


@never_cache
@require_GET
def install(request: HttpRequest) -> HttpResponse:
    """Start HubSpot's OAuth consent (install, or sign-in of a returning user with ``next``)."""
    next_url = safe_next(request.GET.get("next"))
    state = state_issue(request, next_url=next_url)
    return HttpResponseRedirect(HubSpotOAuth.authorize_url(state=state, redirect_uri=oauth_redirect_uri()))


def _fail(reason: str) -> HttpResponse:
    # A redirect, not a 4xx page, on purpose: the callback URL carries the OAuth code, and servers
    # log 4xx request lines (with their query string) at WARNING.
    return HttpResponseRedirect(f"{reverse('hubspot_oauth_error')}?{urlencode({'reason': reason})}")


@never_cache
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """HubSpot's redirect after consent: ``?code&state`` or ``?error&state``."""
    try:
        next_url = state_consume(request, request.GET.get("state"))
    except StateError as exc:
        logger.warning("OAuth callback refused: state %s", exc.reason)
        return _fail(f"state_{exc.reason}")
    error = request.GET.get("error")
    if error:
        logger.info("OAuth callback: HubSpot returned error %s", error[:50])
        return _fail("access_denied" if error == "access_denied" else "hubspot_error")
    code = request.GET.get("code")
    if not code:
        return _fail("code_missing")
    try:
        result = install_from_oauth_code(code=code)
    except HubSpotOAuthError as exc:
        logger.warning("OAuth code exchange refused: %s %s", exc.error, exc.hubspot_status)
        return _fail("code_rejected" if exc.is_invalid_grant else "hubspot_error")
    except HubSpotRetryableError as exc:
        logger.warning("OAuth code exchange: HubSpot unavailable (%s)", exc.code)
        return _fail("hubspot_unavailable")
    except HubSpotError as exc:
        logger.warning("OAuth install failed: %s", exc.code)
        return _fail("hubspot_error")
    except Exception:
        # Logged here, without the URL, rather than by Django's handler, which would print it.
        logger.exception("OAuth install failed unexpectedly")
        return _fail("unexpected")
    tenant_login(request, tenant=result.tenant, user_email=result.user_email, user_id=result.user_id)
    if result.revived:
        messages.success(
            request, _("Bon retour ! L'application est réinstallée, vos factures sont conservées.")
        )
    elif result.created:
        messages.success(request, _("HubSpot est connecté. Étape suivante : votre compte Qonto."))
    return HttpResponseRedirect(next_url or onboarding_next_url(result.tenant))


@never_cache
@require_GET
def oauth_error(request: HttpRequest) -> HttpResponse:
    reason = request.GET.get("reason", "")
    title, text = OAUTH_ERRORS.get(reason, OAUTH_ERRORS["unexpected"])
    return render(
        request,
        "hubspot/oauth_error.html",
        {"title": title, "text": text, "reason": reason},
        status=400,
    )


@never_cache
@require_GET
def signin(request: HttpRequest) -> HttpResponse:
    """ "Se connecter avec HubSpot": the same OAuth flow, back to ``next`` afterwards."""
    next_url = safe_next(request.GET.get("next"))
    install_url = reverse("hubspot_install") + (f"?{urlencode({'next': next_url})}" if next_url else "")
    tenant = session_tenant(request)
    return render(
        request,
        "hubspot/signin.html",
        {
            "install_url": install_url,
            "tenant": tenant,
            "next_url": next_url or (onboarding_next_url(tenant) if tenant else ""),
        },
    )


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    tenant_logout(request)
    messages.info(request, _("Vous êtes déconnecté."))
    return redirect("home")


@never_cache
@require_GET
def settings_open(request: HttpRequest) -> HttpResponse:
    """The card's "Réglages" link: single use, 15 minutes, for the HubSpot user the card named."""
    try:
        payload = settings_link_consume(request.GET.get("t"), client_ip=request.META.get("REMOTE_ADDR", ""))
    except SettingsLinkError as exc:
        logger.info("settings link refused: %s", exc.reason)
        return render(
            request,
            "hubspot/link_error.html",
            {
                "text": SETTINGS_LINK_ERRORS[exc.reason],
                "signin_url": f"{reverse('signin')}?{urlencode({'next': reverse('tenant_settings')})}",
            },
            status=400,
        )
    tenant_login(request, tenant=payload.tenant, user_email=payload.user_email, user_id=payload.user_id)
    return HttpResponseRedirect(onboarding_next_url(payload.tenant))


@never_cache
@tenant_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest) -> HttpResponse:
    """Confirm, then uninstall the app from the portal and forget its tokens."""
    tenant = request.tenant  # type: ignore[attr-defined]
    error: Any = ""
    access = connection_change_access(tenant=tenant, user_id=request.session.get(SESSION_USER_ID))
    if access.reason == "uninstalled":
        # Already uninstalled in HubSpot (the check's 401 recorded it): the disconnect is done.
        tenant_logout(request)
        return render(request, "hubspot/disconnected.html", {"portal_id": tenant.portal_id})
    if request.method == "POST" and not access.allowed:
        connection_change_refused(
            tenant=tenant,
            user_id=request.session.get(SESSION_USER_ID),
            user_email=request.session.get(SESSION_USER_EMAIL, ""),
            what="disconnect",
            reason=access.reason,
        )
        error = access.message
    elif request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error = _("Cochez la case pour confirmer la déconnexion.")
        else:
            try:
                tenant_disconnect(tenant=tenant, by_email=request.session.get(SESSION_USER_EMAIL, ""))
            except HubSpotRetryableError:
                error = _("HubSpot ne répond pas : rien n'a été déconnecté. Réessayez dans un instant.")
            except HubSpotError as exc:
                logger.warning("disconnect of portal %s failed: %s", tenant.portal_id, exc.code)
                error = _(
                    "HubSpot a refusé la déconnexion. Réessayez, "
                    "ou désinstallez l'application depuis HubSpot."
                )
            else:
                tenant_logout(request)
                return render(request, "hubspot/disconnected.html", {"portal_id": tenant.portal_id})
    installation = HubSpotInstallation.objects.filter(tenant=tenant).first()
    status = 200
    if error:
        status = 403 if request.method == "POST" and not access.allowed else 400
    return render(
        request,
        "hubspot/disconnect_confirm.html",
        {
            "tenant": tenant,
            "installation": installation,
            "error": error,
            "refusal": "" if access.allowed else access.message,
        },
        status=status,
    )
