from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubSpotAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hubspot_app"
    verbose_name = _("HubSpot")
