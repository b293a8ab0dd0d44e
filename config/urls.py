from django.contrib import admin
from django.urls import include, path

from connector import views as connector_views

urlpatterns = [
    path("healthz", connector_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("billing/", include("billing.urls", namespace="billing")),
    path("", include("connector.urls")),
]
