"""Voucher pages: generate a batch, the batches, one batch's codes, its printable sheet and CSV."""
import segno
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.access import access, perm

from . import vouchers
from .models import Package, Voucher, VoucherBatch


class BatchForm(forms.Form):
    package = forms.ModelChoiceField(queryset=Package.objects.filter(is_active=True))
    count = forms.IntegerField(min_value=1, max_value=vouchers.MAX_BATCH, initial=50)
    prefix = forms.CharField(max_length=6, required=False, help_text="Optional, e.g. the shop's initials")
    valid_days = forms.IntegerField(label="Unused codes valid for (days)", min_value=1, max_value=3650, initial=90)
    note = forms.CharField(max_length=200, required=False)


@access(perm("hotspot.view_voucher"))
def voucher_batches(request):
    form = BatchForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("hotspot.add_voucher"):
            return render(request, "403.html", {"message": "Your role cannot generate vouchers."}, status=403)
        if form.is_valid():
            data = form.cleaned_data
            batch = vouchers.generate_batch(data["package"], data["count"], prefix=data["prefix"],
                                            valid_days=data["valid_days"], note=data["note"],
                                            created_by=request.user.username)
            messages.success(request, f"Generated {batch.count} vouchers for {batch.package}.")
            return redirect("voucher-batch", batch.pk)
    batches = (VoucherBatch.objects.select_related("package")
               .annotate(used=Count("vouchers", filter=Q(vouchers__status=Voucher.Status.REDEEMED)))
               .order_by("-created_at"))
    page = Paginator(batches, 30).get_page(request.GET.get("page"))
    return render(request, "hotspot/voucher_batches.html", {
        "form": form, "page": page, "can_add": request.user.has_perm("hotspot.add_voucher")})


@access(perm("hotspot.view_voucher"))
def voucher_batch(request, pk):
    batch = get_object_or_404(VoucherBatch.objects.select_related("package"), pk=pk)
    page = Paginator(batch.vouchers.select_related("customer"), 100).get_page(request.GET.get("page"))
    for voucher in page:
        voucher.display = vouchers.display(voucher.code)
    return render(request, "hotspot/voucher_batch.html", {
        "batch": batch, "page": page, "can_revoke": request.user.has_perm("hotspot.change_voucher")})


@access(perm("hotspot.view_voucher"))
def voucher_sheet(request, pk):
    """A4, 4 x 6 a page: code, package, price and a QR code that opens the portal with the code."""
    batch = get_object_or_404(VoucherBatch.objects.select_related("package"), pk=pk)
    portal = request.build_absolute_uri("/portal/")
    cards = []
    for voucher in batch.vouchers.filter(status=Voucher.Status.UNUSED):
        qr = segno.make(f"{portal}?voucher={voucher.code}", error="m")
        svg = qr.svg_inline(scale=2, border=1, omitsize=True)
        cards.append({"code": vouchers.display(voucher.code), "qr": mark_safe(svg)})  # noqa: S308 - our own SVG
    return render(request, "hotspot/voucher_sheet.html", {"batch": batch, "cards": cards})


@access(perm("hotspot.view_voucher"))
def voucher_csv(request, pk):
    batch = get_object_or_404(VoucherBatch.objects.select_related("package"), pk=pk)
    response = HttpResponse(vouchers.batch_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vouchers-{batch.pk}.csv"'
    return response


@access(perm("hotspot.change_voucher"))
@require_POST
def voucher_revoke(request, pk):
    voucher = get_object_or_404(Voucher, pk=pk)
    if vouchers.revoke(voucher):
        messages.success(request, f"Voucher {vouchers.display(voucher.code)} is cancelled.")
    else:
        messages.error(request, "Only an unused voucher can be cancelled.")
    return redirect("voucher-batch", voucher.batch_id)
