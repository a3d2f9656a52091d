"""Forms: packages and package groups, customers, a voucher batch, and the filters of their lists."""
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from lib.listing import ListFilter
from lib.whole_numbers import ascii_whole_number

from . import vouchers
from .models import AfterAllowance, Customer, Package, PackageGroup, PackageKind, ServiceType
from .phone import InvalidPhone, normalise_phone
from .services import MAX_VALIDITY_MINUTES, MINUTES, PackageError, check_rate_limit

UNITS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days"), ("months", "months (30 days)")]


class PackageForm(forms.ModelForm):
    validity_value = forms.IntegerField(label="Valid for", min_value=1, max_value=100_000)
    validity_unit = forms.ChoiceField(label="Unit", choices=UNITS)

    class Meta:
        model = Package
        fields = ["name", "kind", "group", "service_type", "price", "rate_limit", "data_limit_mb",
                  "daily_data_limit_mb", "after_allowance", "fup_rate_limit", "devices", "grace_minutes",
                  "display_order", "is_active"]
        labels = {"rate_limit": "Speed (upload/download)", "data_limit_mb": "Data allowance (MB)",
                  "daily_data_limit_mb": "Daily data allowance (MB)",
                  "after_allowance": "When the allowance is used up",
                  "fup_rate_limit": "Fair-use speed (upload/download)",
                  "grace_minutes": "Grace period (minutes)", "is_active": "On sale",
                  "kind": "Kind"}
        help_texts = {"kind": "A boost adds its data allowance (empty: full speed) to a customer's running "
                              "plan for its validity"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        minutes = self.instance.validity_minutes if self.instance.pk else 60
        for unit in ("months", "days", "hours", "minutes"):
            if minutes % MINUTES[unit] == 0:
                self.initial.setdefault("validity_value", minutes // MINUTES[unit])
                self.initial.setdefault("validity_unit", unit)
                break
        self.fields["group"].queryset = PackageGroup.objects.all()
        self.fields["price"].validators.append(MinValueValidator(0))
        # 0 would read as "no limit" in the RADIUS policy: unlimited is an empty field.
        self.fields["devices"].validators.append(MinValueValidator(1))
        self.fields["data_limit_mb"].validators.append(MinValueValidator(1))
        self.fields["data_limit_mb"].validators.append(MaxValueValidator(2_147_483_647))
        # Forms and API clients from before fair use send no choice: they keep today's cut-off.
        self.fields["after_allowance"].required = False
        self.fields["kind"].required = False  # forms from before boosts: a plan
        self.fields["daily_data_limit_mb"].validators.append(MinValueValidator(1))
        self.fields["daily_data_limit_mb"].validators.append(MaxValueValidator(2_147_483_647))
        self.fields["display_order"].validators.append(MaxValueValidator(2_147_483_647))
        self.fields["grace_minutes"].validators.append(MaxValueValidator(100_000))

    def clean_rate_limit(self):
        try:
            return check_rate_limit(self.cleaned_data.get("rate_limit", ""))
        except PackageError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_after_allowance(self):
        return self.cleaned_data.get("after_allowance") or AfterAllowance.BLOCK

    def clean_kind(self):
        return self.cleaned_data.get("kind") or PackageKind.PLAN

    def clean_fup_rate_limit(self):
        try:
            return check_rate_limit(self.cleaned_data.get("fup_rate_limit", ""))
        except PackageError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        if data.get("validity_value") and data.get("validity_unit"):
            minutes = data["validity_value"] * MINUTES[data["validity_unit"]]
            if minutes > MAX_VALIDITY_MINUTES:
                self.add_error("validity_value", "A package can last at most about 19 years.")
            else:
                self.instance.validity_minutes = minutes
        return data


class PackageGroupForm(forms.ModelForm):
    class Meta:
        model = PackageGroup
        fields = ["name", "description", "display_order"]


class CustomerForm(forms.Form):
    phone = forms.CharField(max_length=20, help_text="07XX XXX XXX, 01XX XXX XXX or +254…")
    name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(label="E-mail", required=False, help_text="Optional: receipts are e-mailed too")
    service_type = forms.ChoiceField(label="Service", choices=ServiceType.choices)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except InvalidPhone:
            raise forms.ValidationError(
                "Enter a Kenyan mobile number such as 0712 345 678 or +254 712 345 678.") from None


class PppoeConnectionForm(forms.Form):
    """A PPPoE customer's service and fixed address (hotspot.pppoe checks the address)."""

    service = forms.ModelChoiceField(queryset=None, required=False, label="PPPoE service",
                                     empty_label="None: the router's PPP profile gives the address",
                                     help_text="Its pool gives the customer an address at each connection")
    static_ip = forms.CharField(label="Fixed address", required=False, max_length=45,
                                help_text="Optional: always this address, in the top quarter of the service's "
                                          "network (the pool leaves it out)")

    def __init__(self, *args, **kwargs):
        from .pppoe import pppoe_services

        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = pppoe_services()
        self.fields["service"].label_from_instance = (
            lambda s: f"{s.router.name} · {s.name}" + (f" ({s.network})" if s.network else ""))


class BatchForm(forms.Form):
    # Boosts add to a running plan: a voucher's new account has none (vouchers.generate_batch).
    package = forms.ModelChoiceField(queryset=Package.objects.filter(is_active=True, kind=PackageKind.PLAN))
    count = forms.IntegerField(min_value=1, max_value=vouchers.MAX_BATCH, initial=50)
    prefix = forms.CharField(max_length=6, required=False,
                             help_text="Optional: your own label, e.g. the shop's initials; letters and digits, "
                                       "printed in capitals")
    valid_days = forms.IntegerField(label="Unused codes valid for (days)", min_value=1, max_value=3650, initial=90)
    note = forms.CharField(max_length=200, required=False)

    def clean_prefix(self):
        try:
            return vouchers.clean_prefix(self.cleaned_data["prefix"])
        except ValueError as refused:
            raise forms.ValidationError(str(refused)) from None


class PackageFilter(ListFilter):
    """?group=: one group's packages; a group that is not a whole number shows them all."""
    group = forms.CharField(required=False)

    def clean_group(self):
        return ascii_whole_number(self.cleaned_data["group"])

    def apply(self, packages):
        group = self.value("group")
        return packages if group is None else packages.filter(group_id=group)


class CustomerFilter(ListFilter):
    """?status= (active or deactivated) and ?q= (name, username, or the phone however it is typed)."""
    q = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=Customer.Status.choices)

    def apply(self, customers):
        customers = customers.search(self.value("q", ""))
        status = self.value("status")
        return customers.filter(status=status) if status else customers
