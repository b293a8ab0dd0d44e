from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "connector"
    verbose_name = _("Connecteur Qonto")

    def ready(self) -> None:
        from celery.signals import task_failure

        from connector.task_failures import record_task_failure

        task_failure.connect(record_task_failure, weak=False, dispatch_uid="connector.record_task_failure")
