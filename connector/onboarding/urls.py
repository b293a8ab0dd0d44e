from django.urls import path

from connector.onboarding import history_views, views

urlpatterns = [
    path("onboarding/qonto", views.qonto_connect, name="onboarding_qonto"),
    path("onboarding/history", history_views.history_step, name="onboarding_history"),
    path("settings", views.tenant_settings, name="tenant_settings"),
]
