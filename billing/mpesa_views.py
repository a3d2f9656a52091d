"""The M-Pesa transaction log: every body Daraja posted to us, as received, with what became of it."""
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.access import access, perm

from .forms import CallbackFilterForm
from .models import MpesaCallback

PAGE_SIZE = 50


@access(perm("billing.view_mpesacallback"))
def mpesa_transactions(request):
    form = CallbackFilterForm(request.GET)
    rows = form.apply(MpesaCallback.objects.all()).order_by("-received_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "billing/mpesa_transactions.html" + ("#results" if request.htmx else "")
    return render(request, template, {"form": form, "page": page})
