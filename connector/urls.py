from django.urls import path

from connector import views

urlpatterns = [
    path("", views.home, name="home"),
]
