from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubSpotAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hubspot_app"
    verbose_name = _("HubSpot")

    def ready(self) -> None:
        from hubspot_app import checks, log_filters  # noqa: F401 (checks registers itself)

        log_filters.install()
