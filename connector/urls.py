from django.urls import path

from connector import pdf_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("invoices/pdf/<str:token>", pdf_views.invoice_pdf, name="invoice-pdf"),
]
