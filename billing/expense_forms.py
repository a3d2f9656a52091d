"""The expense pages' forms: the list's filters, and adding or editing one expense with its receipt."""
from decimal import Decimal

from django import forms

from routers.models import Router

from . import expenses
from .forms import DATE, BusinessDay, FilterForm
from .models import Expense


def _category_choices():
    """The model's categories when it names them, else the ones already used."""
    field = Expense._meta.get_field("category")
    if field.choices:
        return list(field.choices)
    used = Expense.objects.order_by("category").values_list("category", flat=True).distinct()
    return [(c, c) for c in used]


class SiteChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Router.objects.order_by("name"), **kwargs)

    def label_from_instance(self, router):
        return f"{router.name} ({router.site})" if router.site else router.name


class ExpenseFilterForm(FilterForm):
    date_range = True
    q = forms.CharField(label="Search", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Note or category"}))
    category = forms.ChoiceField(label="Category", required=False)
    router = SiteChoiceField(label="Site", required=False, empty_label="Every site")

    def __init__(self, data=None, **kwargs):
        self.base_fields["category"].choices = [("", "Any category"), *_category_choices()]
        super().__init__(data, **kwargs)

    def apply(self, rows):
        first, last = self.value("from"), self.value("to")
        if first:
            rows = rows.filter(date__gte=first)
        if last:
            rows = rows.filter(date__lte=last)
        if self.value("category"):
            rows = rows.filter(category=self.value("category"))
        if self.value("router"):
            rows = rows.filter(router=self.value("router"))
        q = self.value("q", "").strip()
        if q:
            rows = rows.filter(note__icontains=q) | rows.filter(category__iexact=q)
        return rows


class ExpenseForm(forms.ModelForm):
    date = BusinessDay(widget=DATE)
    amount = forms.DecimalField(label="Amount (KES)", max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                                max_value=Decimal("9999999999.99"))
    router = SiteChoiceField(label="Site (router)", required=False, empty_label="The whole business",
                             help_text="The site the money was spent for, so its profit counts it.")
    upload = forms.FileField(label="Receipt", required=False,
                             widget=forms.ClearableFileInput(attrs={"accept": expenses.RECEIPT_ACCEPT}),
                             help_text=f"A PDF or a photo (PNG, JPEG, WebP), at most "
                                       f"{expenses.MAX_RECEIPT_BYTES // 1024 // 1024} MB.")
    drop_receipt = forms.BooleanField(label="Remove the receipt", required=False)

    class Meta:
        model = Expense
        fields = ["date", "category", "amount", "router", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.instance.pk and self.instance.receipt):
            del self.fields["drop_receipt"]

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        return expenses.read_receipt(upload) if upload else None

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in expenses.FIELDS}
