from django.contrib import admin
from django.urls import include, path

from connector import views as connector_views

handler404 = "connector.views.page_not_found"
handler500 = "connector.views.server_error"

urlpatterns = [
    path("favicon.svg", connector_views.favicon, name="favicon"),
    path("favicon.ico", connector_views.favicon_ico),
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
