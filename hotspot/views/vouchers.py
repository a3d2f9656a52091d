"""Voucher pages (/vouchers/…): generate a batch, the batches, one batch's codes, its printable sheet and CSV."""
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from accounts.access import access, perm
from lib.confirm import confirm_page
from lib.listing import list_page
from siteconfig import store

from .. import voucher_qr, vouchers
from ..forms import BatchForm
from ..models import Voucher, VoucherBatch


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
    return list_page(request, batches, "hotspot/voucher_batches.html", per_page=30, form=form,
                     can_add=request.user.has_perm("hotspot.add_voucher"))


@access(perm("hotspot.view_voucher"))
def voucher_batch(request, pk):
    batch = get_object_or_404(VoucherBatch.objects.select_related("package"), pk=pk)
    return list_page(request, batch.vouchers.select_related("customer"), "hotspot/voucher_batch.html",
                     per_page=100, on_page=lambda page: _show_codes(page, batch.prefix), batch=batch,
                     can_revoke=request.user.has_perm("hotspot.change_voucher"))


def _show_codes(page, prefix: str):
    """Codes as printed (KLM-ABCD-2345), for this page's rows only."""
    for voucher in page:
        voucher.display = vouchers.display(voucher.code, prefix)


@access(perm("hotspot.view_voucher"))
def voucher_sheet(request, pk):
    """A4, 4 x 6 a page: the business and its WiFi name, the package and price, the code and a QR
    code that opens the portal with the code."""
    batch = get_object_or_404(VoucherBatch.objects.select_related("package"), pk=pk)
    portal = request.build_absolute_uri("/portal/")
    codes = list(batch.vouchers.filter(status=Voucher.Status.UNUSED).values_list("code", flat=True))
    images = voucher_qr.svgs([voucher_qr.link(portal, code) for code in codes])
    cards = [{"code": vouchers.display(code, batch.prefix),
              "qr": mark_safe(images[voucher_qr.link(portal, code)])}  # noqa: S308 - our own SVG
             for code in codes]
    business = store.get("general.business_name")
    return render(request, "hotspot/voucher_sheet.html", {
        "batch": batch, "cards": cards, "business": business, "currency": store.get("general.currency"),
        "wifi_name": store.get("vouchers.wifi_name") or business})


@access(perm("hotspot.view_voucher"))
def voucher_csv(request, pk):
    batch = get_object_or_404(VoucherBatch.objects.select_related("package"), pk=pk)
    response = HttpResponse(vouchers.batch_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vouchers-{batch.pk}.csv"'
    return response


@access(perm("hotspot.change_voucher"))
@require_http_methods(["GET", "POST"])
def voucher_revoke(request, pk):
    """GET asks first (lib.confirm); POST cancels the code."""
    voucher = get_object_or_404(Voucher.objects.select_related("batch"), pk=pk)
    code = vouchers.display(voucher.code, voucher.batch.prefix)
    if request.method == "GET":
        return confirm_page(request, question=f"Cancel voucher {code}?", button="Cancel the voucher",
                            detail="Nobody can redeem it afterwards; this cannot be undone.",
                            back=reverse("voucher-batch", args=[voucher.batch_id]))
    if vouchers.revoke(voucher):
        messages.success(request, f"Voucher {code} is cancelled.")
    else:
        messages.error(request, "Only an unused voucher can be cancelled.")
    return redirect("voucher-batch", voucher.batch_id)
