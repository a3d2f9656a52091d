"""Forms for routers and access points, and the filters of the routers' list pages. Saving goes through
routers.services, which owns the rules (host, port, the RADIUS client row); these forms only collect
and show errors."""
from django import forms
from django.db.models import Q

from lib.listing import ListFilter
from siteconfig import store

from .models import AccessPoint, Router, RouterService


class RouterForm(forms.Form):
    name = forms.CharField(max_length=100)
    site = forms.CharField(max_length=100, required=False, help_text="where it stands, for people")
    host = forms.CharField(max_length=255, label="API address",
                           help_text="IP address or host name; a RADIUS secret needs an IP address")
    api_port = forms.IntegerField(label="API port", min_value=1, max_value=65535, required=False,
                                  help_text="empty: 8728, or 8729 with TLS")
    use_tls = forms.BooleanField(label="Use TLS (api-ssl)", required=False)
    tls_certificate = forms.CharField(
        label="The router's certificate (PEM)", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="for api-ssl with the router's own certificate: paste it here (System > Certificates > Export) "
                  "and only it is trusted; leave empty for a certificate from a public CA")
    api_username = forms.CharField(label="API user", max_length=100, initial="admin")
    # Write-only: never rendered back. Empty on an edit keeps the stored value.
    api_password = forms.CharField(label="API password", max_length=255, required=False, widget=forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "new-password"}))
    radius_secret = forms.CharField(label="RADIUS secret", max_length=255, required=False, widget=forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, router: Router | None = None, **kwargs):
        self.router = router
        if router is not None:
            kwargs.setdefault("initial", {field: getattr(router, field) for field in
                                          ("name", "site", "host", "api_port", "use_tls", "tls_certificate",
                                                                   "api_username")})
        else:  # a new router starts from the Routers settings' defaults
            defaults = store.section("routers")
            kwargs.setdefault("initial", {"api_username": defaults.api_user, "api_port": defaults.api_port,
                                          "use_tls": defaults.use_tls})
        super().__init__(*args, **kwargs)
        if router is not None:
            for field, stored in (("api_password", router.api_password), ("radius_secret", router.radius_secret)):
                self.fields[field].help_text = ("set; leave empty to keep it" if stored else "not set")

    def changes(self) -> dict:
        """What to hand to services.create_router / update_router; blank secrets keep the stored ones."""
        data = dict(self.cleaned_data)
        if data.get("api_port") is None:
            data.pop("api_port")
        if self.router is not None:
            for secret in ("api_password", "radius_secret"):
                if not data.get(secret):
                    data.pop(secret)
        return data


class AccessPointForm(forms.ModelForm):
    class Meta:
        model = AccessPoint
        fields = ["name", "router", "mac_address", "ip_address", "interface", "location"]
        labels = {"mac_address": "MAC address", "ip_address": "IP address", "interface": "Router port"}

    def clean_mac_address(self) -> str:
        raw = self.cleaned_data["mac_address"].strip().upper().replace("-", ":")
        if len(raw) == 12 and ":" not in raw:
            raw = ":".join(raw[i:i + 2] for i in range(0, 12, 2))
        parts = raw.split(":")
        if len(parts) != 6 or not all(len(part) == 2 and all(c in "0123456789ABCDEF" for c in part) for part in parts):
            raise forms.ValidationError("Enter a MAC address like AA:BB:CC:DD:EE:FF.")
        return raw


# --- list filters: a value that does not parse is left out, as if it had not been sent -----------------


class RouterFilter(ListFilter):
    q = forms.CharField(required=False)
    status = forms.ChoiceField(choices=Router.Status.choices, required=False)

    def apply(self, rows):
        if q := self.value("q"):
            rows = rows.filter(Q(name__icontains=q) | Q(site__icontains=q) | Q(host__icontains=q)
                               | Q(identity__icontains=q))
        if status := self.value("status"):
            rows = rows.filter(status=status)
        return rows


class ByRouter(ListFilter):
    """?router=<id>: the rows of one router (an unknown id shows every router's)."""

    router = forms.ModelChoiceField(Router.objects.all(), required=False)

    def apply(self, rows):
        if router := self.value("router"):
            rows = rows.filter(router=router)
        return rows

    def routers(self):
        """(id, name) of every router, for the "Router" select."""
        return Router.objects.order_by("name").values_list("pk", "name")


class AccessPointFilter(ByRouter):
    q = forms.CharField(required=False)

    def apply(self, rows):
        if q := self.value("q"):
            rows = rows.filter(Q(name__icontains=q) | Q(location__icontains=q) | Q(mac_address__iexact=q)
                               | Q(ip_address__startswith=q))
        return super().apply(rows)


class ServiceFilter(ByRouter):
    kind = forms.ChoiceField(choices=RouterService.Kind.choices, required=False)

    def apply(self, rows):
        if kind := self.value("kind"):
            rows = rows.filter(kind=kind)
        return super().apply(rows)


class ServiceForm(forms.Form):
    """A new hotspot or PPPoE service on the router page: which button was pressed (``kind``), the
    ports ticked (the free ones are offered; the rules are routers.router_services'), its network."""

    kind = forms.ChoiceField(choices=RouterService.Kind.choices)
    interfaces = forms.MultipleChoiceField(label="Ports", widget=forms.CheckboxSelectMultiple,
                                           error_messages={"required": "Tick at least one free port."})
    network = forms.CharField(max_length=43, help_text="its customers' private network, e.g. 10.5.50.0/24")
    name = forms.CharField(max_length=40, required=False, help_text="empty: hotspot1, pppoe1…")

    def __init__(self, *args, ports: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        # Every port the scan listed may be posted: one taken meanwhile is refused with its reason.
        self.fields["interfaces"].choices = [(port["name"], port["name"]) for port in ports]


class ServiceEditForm(forms.Form):
    """A service's ports and network on the router page (its name and kind stay: they name its
    items on the router). The ports offered are the free ones and its own."""

    interfaces = forms.MultipleChoiceField(label="Ports", widget=forms.CheckboxSelectMultiple,
                                           error_messages={"required": "Tick at least one port."})
    network = forms.CharField(max_length=43, help_text="its customers' private network, e.g. 10.5.50.0/24")

    def __init__(self, *args, ports: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interfaces"].choices = [(port["name"], port["name"]) for port in ports]
