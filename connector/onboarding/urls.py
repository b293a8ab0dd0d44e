from django.urls import path

from connector.onboarding import views

urlpatterns = [
    path("onboarding/qonto", views.qonto_connect, name="onboarding_qonto"),
    path("settings", views.tenant_settings, name="tenant_settings"),
]
