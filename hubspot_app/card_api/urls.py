from django.urls import path

from hubspot_app.card_api import actions, views

app_name = "card_api"

urlpatterns = [
    path("deals/<str:deal_id>/card", views.CardDealStateApi.as_view(), name="deal-card"),
    path("deals/<str:deal_id>/refresh", views.CardDealRefreshApi.as_view(), name="deal-refresh"),
    path("deals/<str:deal_id>/invoices", views.CardInvoiceCreateApi.as_view(), name="invoice-create"),
    path("invoices/<str:invoice_id>", views.CardInvoiceDetailApi.as_view(), name="invoice-detail"),
    path("invoices/<str:invoice_id>/retry", views.CardInvoiceRetryApi.as_view(), name="invoice-retry"),
    path(
        "invoices/<str:invoice_id>/finalize",
        actions.CardInvoiceFinalizeApi.as_view(),
        name="invoice-finalize",
    ),
    path("invoices/<str:invoice_id>/send", actions.CardInvoiceSendApi.as_view(), name="invoice-send"),
]
