from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("plans", views.plans, name="plans"),
    path("return", views.checkout_return, name="return"),
    path("status", views.status, name="status"),
    path("portal", views.portal, name="portal"),
    path("stripe/webhook", views.stripe_webhook, name="stripe_webhook"),
]
