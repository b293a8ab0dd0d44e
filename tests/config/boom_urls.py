"""The site's URLs plus one view that fails, to see the 500 page (``ROOT_URLCONF`` in a test)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as site_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("boom", boom), *site_urlpatterns]
__all__ = ["handler404", "handler500", "urlpatterns"]
