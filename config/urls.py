"""URL wiring: each app's pages, the JSON API and the error handlers."""
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import include, path

from config import api

# No two apps share a page pattern, so the order only sets how many are tried: hotspot's first,
# for the captive portal (at a busy hotspot's peak, resolving past ~100 staff patterns was a
# sixth of the portal's CPU per page).
urlpatterns = [
    path("", include("hotspot.urls")),
    path("", include("monitoring.urls")),
    path("", include("accounts.urls")),
    path("", include("radius.urls")),
    path("", include("billing.urls")),
    path("", include("routers.urls")),
    path("api/", api.urls()),
]


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Internal error; it has been logged"}, status=500)
    # No request context: the error may be the database, which context processors would need.
    return HttpResponseServerError(loader.get_template("500.html").render({}))


def forbidden(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Forbidden"}, status=403)
    return render(request, "403.html", {"message": "You do not have access to this page."}, status=403)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request"}, status=400)
    return render(request, "400.html", status=400)


handler400 = bad_request
handler403 = forbidden
handler404 = not_found
handler500 = server_error
