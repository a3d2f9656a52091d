"""The bench's own URLconf (bench/portal.py, through bench.portal_settings): every production URL
plus /bench/minimal, the least a Django view can answer through the same middleware, as the
ceiling the portal's first page is measured against. Never part of the deployed URLs."""
from django.http import HttpResponse
from django.urls import path

from accounts.access import PUBLIC, access
from config.urls import urlpatterns as production


@access(PUBLIC)
def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal", minimal), *production]
