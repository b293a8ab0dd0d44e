from django.contrib import admin
from django.urls import include, path

from connector import views as connector_views

urlpatterns = [
    path("healthz", connector_views.healthz, name="healthz"),
    path("readyz", connector_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/hubspot/v1/", include("hubspot_app.card_api.urls")),
    path("billing/", include("billing.urls", namespace="billing")),
    path("", include("connector.urls")),
    path("", include("hubspot_app.urls")),
    path("", include("connector.onboarding.urls")),
]
