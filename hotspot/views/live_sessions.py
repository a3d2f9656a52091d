"""/sessions/live/ and /customers/pppoe/sessions/: who is online right now on every router (asked
live, hotspot.online_now), with Disconnect; the page refreshes itself while it is open."""
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.access import access, perm
from lib.confirm import confirm_page, safe_next
from lib.listing import ListFilter, list_page
from lib.whole_numbers import ascii_whole_number
from routers import active_sessions
from routers.actions import InvalidAction
from routers.models import Router
from routers.routeros import RouterError

from .. import online_now
from ..models import Package, PackageKind, ServiceType

TEMPLATE = "hotspot/live_sessions.html"
# Besides refreshing itself every REFRESH_SECONDS, the list follows these (lib.live).
LIVE_EVENTS = "session.disconnected router.status"
REFRESH_SECONDS = 10
VIEW = perm("radius.view_radacct")


class LiveFilter(ListFilter):
    """?q=&router=&kind=&package=: a search, a router's sessions, one service, one package's users."""

    q = forms.CharField(label="Search", required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "User, address or MAC"}))
    router = forms.ModelChoiceField(Router.objects.order_by("name"), required=False, empty_label="All routers")
    kind = forms.ChoiceField(label="Service", choices=[("", "Hotspot and PPPoE"), *ServiceType.choices],
                             required=False)
    package = forms.ModelChoiceField(Package.objects.filter(kind=PackageKind.PLAN).order_by("name"), required=False,
                                     empty_label="Every package")

    @property
    def active(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)


@access(VIEW)
def live_sessions(request, kind=""):
    filters = LiveFilter(request.GET)
    if kind:  # the PPPoE page: its URL says which
        filters.fields["kind"].widget = forms.HiddenInput()
    fixed_kind, kind = kind, kind or filters.value("kind", "")
    router, package = filters.value("router"), filters.value("package")
    routers = Router.objects.filter(pk=router.pk) if router else None
    found = online_now.online(routers, kind=kind, package_id=package.pk if package else None,
                             q=filters.value("q", ""))
    return list_page(request, found.rows, TEMPLATE, filters=filters, on_page=lambda page: online_now.describe(
        page.object_list), found=found, kind=kind, fixed_kind=fixed_kind,
        router=router, package=package, kinds=ServiceType.choices, live_events=LIVE_EVENTS,
        refresh_seconds=REFRESH_SECONDS, bound_seconds=active_sessions.BOUND_SECONDS,
        can_disconnect=request.user.has_perm("radius.disconnect_session"))


@access(perm("radius.disconnect_session"))
@require_http_methods(["GET", "POST"])
def live_disconnect(request):
    """GET asks first (lib.confirm) with the session in the query; POST ends it (online_now.disconnect)."""
    data = request.POST if request.method == "POST" else request.GET
    router = get_object_or_404(Router, pk=ascii_whole_number(data.get("router", "")) or 0)
    kind, session_id, user = data.get("kind", ""), data.get("id", ""), data.get("user", "")
    back = safe_next(request, reverse("live-sessions"))
    if request.method == "GET":
        return confirm_page(request, question=f"Disconnect {user or 'this session'} from {router.name}?",
                            button="Disconnect", back=back,
                            detail="The router ends the session now; the customer can log in again while "
                                   "their package lasts.",
                            fields={"router": router.pk, "kind": kind, "id": session_id, "user": user, "next": back})
    try:
        ended = online_now.disconnect(router, kind=kind, session_id=session_id, user=user, by=request.user)
    except InvalidAction as error:
        messages.error(request, str(error))
    except RouterError as error:
        messages.error(request, f"Disconnect failed on {router.name} ({error.reason}): {error.message}")
    else:
        who = user or "The session"
        if ended.how == "gone":
            messages.info(request, f"{who} had already left {router.name}.")
        elif ended.ended:
            messages.success(request, f"{who} disconnected from {router.name}"
                                      + (" over the router's API." if ended.how != "coa" else "."))
        else:
            messages.error(request, f"{router.name} did not end {who}'s session: {ended.detail or 'no answer'}.")
    return redirect(back)
