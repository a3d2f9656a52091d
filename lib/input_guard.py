"""One rule at the edge for input PostgreSQL cannot store: a NUL, a lone surrogate or invalid UTF-8
in the path, a query parameter, a form field or a JSON string is refused (400 page, 422 for /api/).

PostgreSQL text holds any Unicode but NUL, and psycopg cannot encode a lone surrogate, so either
reaching a query or an INSERT was a 500 on whichever view met it first. Django decodes query strings
and form bodies with errors="replace", so invalid UTF-8 is only visible in the raw bytes; those are
checked, not the parsed QueryDict. JSON bodies are scanned as bytes and parsed only when they hold a
NUL byte or a \\u escape (how NUL and lone surrogates get into JSON): django-ninja parses every API
body again, so the common body costs a byte search, not a second parse. Multipart field values are
checked after Django's parse (file contents are not text and are not checked).

A cookie that cannot be stored is dropped rather than refused (see __call__).

A view marked @keeps_raw_body (the M-Pesa callbacks) is left alone: it stores each body as
received, whatever it holds, and answers the sender itself.
"""
import json
import re
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest, get_bytes_from_wsgi
from django.http import HttpResponseBadRequest, JsonResponse
from django.template import loader

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def keeps_raw_body(view):
    """Mark a view that takes any body as it came and answers for it itself (as csrf_exempt marks)."""
    view.keeps_raw_body = True
    return view


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A cookie is replayed by the browser on every request, so refusing it would lock that
        # browser out; one that cannot be stored (Django decodes "\\000" in a quoted value to a
        # NUL, and the session middleware looks the session key up) is ignored instead: dropped
        # here, before SessionMiddleware reads it.
        for name in [name for name, value in request.COOKIES.items() if UNSTORABLE.search(value)]:
            del request.COOKIES[name]
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "keeps_raw_body", False):
            return None
        problem = unstorable_input(request)
        if problem is None:
            return None
        message = f"{problem} holds a character that cannot be stored (a NUL, or text that is not valid UTF-8)."
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message}, status=422)
        # No request context: a context processor must not meet the same input.
        # The way back: a customer on the portal is sent to the portal, never to the staff dashboard.
        back = "/portal/" if request.path_info.startswith("/portal/") else "/"
        return HttpResponseBadRequest(loader.render_to_string("400.html", {"message": message, "back": back}))


def unstorable_input(request) -> str | None:
    """Where the request carries something that cannot be stored ("query parameter 'q'", …), or None."""
    if UNSTORABLE.search(request.path_info):
        return "The address"
    problem = _urlencoded_problem(_raw_query(request), "query parameter")
    if problem or request.method not in BODY_METHODS:
        return problem
    content_type = request.content_type
    if content_type == MULTIPART:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None or length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            # Read the raw body before parsing it: a view may still want it (django-ninja reads a
            # JSON body whatever the content type claims), and Django can only parse it from memory
            # then. A larger upload is parsed from the stream, as the view would have.
            request.body  # noqa: B018
        for key, values in request.POST.lists():
            if UNSTORABLE.search(key) or any(UNSTORABLE.search(value) for value in values):
                return f"Form field {key!r}"
        return None
    body = request.body
    if content_type == FORM:
        return _urlencoded_problem(body, "form field")
    return _json_problem(body)


def _raw_query(request) -> bytes:
    if isinstance(request, WSGIRequest):  # gunicorn: the bytes as sent, latin-1 in the environ
        return get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    return request.META.get("QUERY_STRING", "").encode()  # ASGI already refused invalid UTF-8


def _urlencoded_problem(raw: bytes, kind: str) -> str | None:
    if not raw or (raw.isascii() and b"%" not in raw and b"\x00" not in raw):
        return None
    # Percent-decoding the whole string at once is enough: '&' and '=' are ASCII, so a field whose
    # bytes are not UTF-8 leaves the whole not UTF-8 too. Only a refusal looks for the field's name.
    try:
        if "\x00" not in unquote_to_bytes(raw.replace(b"+", b" ")).decode():
            return None
    except UnicodeDecodeError:
        pass
    for part in raw.split(b"&"):
        key, _, value = part.partition(b"=")
        name = unquote_to_bytes(key.replace(b"+", b" ")).decode(errors="replace")
        try:
            if UNSTORABLE.search(unquote_to_bytes(part.replace(b"+", b" ")).decode()):
                return f"The {kind} {name!r}"
        except UnicodeDecodeError:
            return f"The {kind} {name!r}"
    return f"A {kind}"


def _json_problem(body: bytes) -> str | None:
    if not body or (b"\\u" not in body and b"\x00" not in body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the API's parser answers that itself (400)
    where = _unstorable_at(data, "")
    return None if where is None else f"The JSON body at {where or 'its root'!r}"


def _unstorable_at(value, path: str) -> str | None:
    if isinstance(value, str):
        return path if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            found = inner if UNSTORABLE.search(key) else _unstorable_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
