from django.urls import path

from hubspot_app import automation_api, views

urlpatterns = [
    path("hubspot/install", views.install, name="hubspot_install"),
    path("hubspot/oauth/callback", views.oauth_callback, name="hubspot_oauth_callback"),
    path("hubspot/oauth/error", views.oauth_error, name="hubspot_oauth_error"),
    path("signin", views.signin, name="signin"),
    path("signout", views.signout, name="signout"),
    path("settings/open", views.settings_open, name="settings_open"),
    path("settings/disconnect", views.disconnect, name="hubspot_disconnect"),
    # HubSpot → us, signed (README "Automation"): the workflow action's actionUrl, the webhooks' targetUrl.
    path(
        "hubspot/workflow-actions/create-invoice",
        automation_api.workflow_action,
        name="hubspot_workflow_action",
    ),
    path("hubspot/webhooks", automation_api.webhooks, name="hubspot_webhooks"),
]
