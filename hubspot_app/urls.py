from django.urls import path

from hubspot_app import views

urlpatterns = [
    path("hubspot/install", views.install, name="hubspot_install"),
    path("hubspot/oauth/callback", views.oauth_callback, name="hubspot_oauth_callback"),
    path("hubspot/oauth/error", views.oauth_error, name="hubspot_oauth_error"),
    path("signin", views.signin, name="signin"),
    path("signout", views.signout, name="signout"),
    path("settings/open", views.settings_open, name="settings_open"),
    path("settings/disconnect", views.disconnect, name="hubspot_disconnect"),
]
