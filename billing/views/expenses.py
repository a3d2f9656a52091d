"""Expense pages for Finance: the list with its filters and total, add, edit, delete (after a confirm
step) and a receipt's download."""
from decimal import Decimal

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.access import access, perm
from lib.confirm import confirm_page, safe_next
from lib.listing import list_page

from .. import expenses
from ..expense_forms import ExpenseFilterForm, ExpenseForm
from ..models import Expense


@access(perm("billing.view_expense"))
def expense_list(request):
    filters = ExpenseFilterForm(request.GET)
    rows = filters.apply(Expense.objects.all())
    total = rows.order_by().aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    return list_page(request, rows.select_related("router", "created_by").order_by("-date", "-pk"),
                     "billing/expense_list.html", filters=filters, total=total,
                     can_add=request.user.has_perm("billing.add_expense"),
                     can_change=request.user.has_perm("billing.change_expense"),
                     can_delete=request.user.has_perm("billing.delete_expense"))


@access(perm("billing.add_expense"))
def expense_add(request):
    form = ExpenseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        expense = expenses.create(by=request.user, receipt=form.cleaned_data["upload"], **form.service_fields())
        messages.success(request, f"Expense of KES {expense.amount:,.2f} ({expense.category}) recorded.")
        return redirect("expense-list")
    return render(request, "billing/expense_form.html", {"form": form})


@access(perm("billing.change_expense"))
def expense_edit(request, pk):
    expense = get_object_or_404(Expense, pk=pk)
    form = ExpenseForm(request.POST or None, request.FILES or None, instance=expense)
    if request.method == "POST" and form.is_valid():
        expenses.update(expense, receipt=form.cleaned_data["upload"],
                        drop_receipt=form.cleaned_data.get("drop_receipt", False), **form.service_fields())
        messages.success(request, "Expense saved.")
        return redirect("expense-list")
    return render(request, "billing/expense_form.html", {"form": form, "expense": expense})


@access(perm("billing.delete_expense"))
def expense_delete(request, pk):
    expense = get_object_or_404(Expense, pk=pk)
    back = safe_next(request, "/expenses/")
    if request.method != "POST":
        return confirm_page(request, question=f"Delete the expense of KES {expense.amount:,.2f} ({expense.category}, "
                                              f"{expense.date:%-d %b %Y})?",
                            detail="The profit report stops counting it; the activity log keeps what it was.",
                            button="Delete", back=back, fields={"next": back})
    expenses.delete(expense)
    messages.success(request, "Expense deleted.")
    return redirect(back)


@access(perm("billing.view_expense"))
def expense_receipt(request, pk):
    expense = get_object_or_404(Expense, pk=pk)
    if not expense.receipt:
        return HttpResponse("This expense has no receipt.", status=404, content_type="text/plain")
    found = expenses.receipt_of(expense)
    response = HttpResponse(found.data, content_type=found.content_type)
    response["Content-Disposition"] = f'attachment; filename="{found.name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
