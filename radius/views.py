"""RADIUS pages: NAS devices, RADIUS users, active sessions, session history, the auth log."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import access, perm

from . import coa
from .models import CoaAttempt, Nas, RadAcct, RadCheck, RadPostAuth, RadReply, RadUserGroup

PAGE_SIZE = 50


def _page(request, queryset, template, context):
    """Render one page of ``queryset``; an HTMX request gets the results partial only."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context.setdefault("nas_names", {})
    context.update(page=page, q=request.GET.get("q", "").strip())
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@access(perm("radius.view_nas"))
def nas_list(request):
    q = request.GET.get("q", "").strip()
    devices = Nas.objects.select_related("coa").order_by("shortname")
    if q:
        devices = devices.filter(Q(shortname__icontains=q) | Q(nasname__icontains=q) | Q(description__icontains=q))
    page = Paginator(devices, PAGE_SIZE).get_page(request.GET.get("page"))
    # Open sessions per NAS in one grouped query over the open-sessions index.
    counts = dict(RadAcct.objects.open().filter(nas_ip_address__in=[n.nasname for n in page])
                  .values_list("nas_ip_address").annotate(n=Count("id")).values_list("nas_ip_address", "n"))
    for device in page:
        device.open_sessions = counts.get(device.nasname, 0)
    template = "radius/nas_list.html" + ("#results" if request.htmx else "")
    return render(request, template, {"page": page, "q": q})


@access(perm("radius.view_radcheck"))
def user_list(request):
    q = request.GET.get("q", "").strip()
    names = RadCheck.objects.filter(attribute="Cleartext-Password").order_by("username")
    if q:
        names = names.filter(username__istartswith=q)
    page = Paginator(names.values_list("username", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    usernames = list(page)
    checks, replies, groups = {}, {}, {}
    for row in RadCheck.objects.filter(username__in=usernames).order_by("id"):
        checks.setdefault(row.username, []).append(row)
    for row in RadReply.objects.filter(username__in=usernames).order_by("id"):
        replies.setdefault(row.username, []).append(row)
    for row in RadUserGroup.objects.filter(username__in=usernames).order_by("priority"):
        groups.setdefault(row.username, []).append(row.groupname)
    users = [{"username": name, "checks": checks.get(name, []), "replies": replies.get(name, []),
              "groups": groups.get(name, [])} for name in usernames]
    template = "radius/user_list.html" + ("#results" if request.htmx else "")
    return render(request, template, {"page": page, "users": users, "q": q})


def _session_filter(sessions, q: str):
    if not q:
        return sessions
    # Exact matches only: each is served by an index on a table that grows by millions of rows.
    match = Q(username=q) | Q(acct_session_id=q) | Q(calling_station_id=q.upper().replace(":", "-"))
    try:
        import ipaddress

        ipaddress.ip_address(q)
        match |= Q(framed_ip_address=q) | Q(nas_ip_address=q)
    except ValueError:
        pass
    return sessions.filter(match)


@access(perm("radius.view_radacct"))
def active_sessions(request):
    q = request.GET.get("q", "").strip()
    sessions = _session_filter(RadAcct.objects.open(), q).order_by("-acct_start_time")
    return _page(request, sessions, "radius/sessions.html", {
        "active": True, "can_disconnect": request.user.has_perm("radius.disconnect_session"),
        "nas_names": _nas_names()})


@access(perm("radius.view_radacct"))
def session_history(request):
    q = request.GET.get("q", "").strip()
    sessions = _session_filter(RadAcct.objects.all(), q).order_by("-acct_start_time")
    return _page(request, sessions, "radius/sessions.html", {"active": False, "can_disconnect": False,
                                                             "nas_names": _nas_names()})


def _nas_names() -> dict:
    # A few hundred rows at most: cheaper than joining radacct on text against inet.
    return dict(Nas.objects.values_list("nasname", "shortname"))


@access(perm("radius.view_radpostauth"))
def auth_log(request):
    q = request.GET.get("q", "").strip()
    entries = RadPostAuth.objects.order_by("-id")
    if q:
        entries = entries.filter(Q(username=q) | Q(calling_station_id=q.upper().replace(":", "-")))
    return _page(request, entries.only("username", "reply", "calling_station_id", "called_station_id", "auth_date"),
                 "radius/auth_log.html", {})


@access(perm("radius.disconnect_session"))
@require_POST
def disconnect_session(request, pk):
    session = get_object_or_404(RadAcct, pk=pk)
    if not session.is_open:
        messages.info(request, f"{session.username}'s session had already ended.")
    else:
        attempt = coa.disconnect(session, requested_by=request.user.username)
        level = messages.SUCCESS if attempt.ended else messages.ERROR
        text = {
            CoaAttempt.Outcome.ACK: f"The router disconnected {session.username}.",
            CoaAttempt.Outcome.NAK: f"The router refused to disconnect {session.username}: "
                                    f"{attempt.detail or 'no reason given'}.",
            CoaAttempt.Outcome.TIMEOUT: f"The router did not answer ({attempt.detail}).",
            CoaAttempt.Outcome.ERROR: f"Could not ask the router: {attempt.detail}.",
        }[attempt.outcome]
        if attempt.ended and attempt.outcome != CoaAttempt.Outcome.ACK:
            text = f"{session.username}'s session was ended over the router's API ({attempt.detail})."
        messages.add_message(request, level, text)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    return redirect(back or "radius-sessions")
