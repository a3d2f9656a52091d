"""A text file as a download, for pages and the API alike."""
from django.http import HttpResponse


def text_download(body: str, filename: str) -> HttpResponse:
    """Never cached: what we hand out this way (a wg-quick file, an onboarding script) holds keys
    and passwords."""
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
