"""Expenses: what the business spent (rent of a site, backhaul, power, airtime), recorded by Finance so
the profit report can set it against revenue. Each change is audited, field by field.

A receipt is a scan or photo of the paper: a PDF or an image (PNG, JPEG, WebP) by its own first bytes,
at most MAX_RECEIPT_BYTES; anything else is refused before anything is stored.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from audit import trail

from .models import Expense

FIELDS = ["date", "category", "amount", "router", "note"]
MAX_RECEIPT_BYTES = 5 * 1024 * 1024
RECEIPT_TYPES = ((b"%PDF-", "application/pdf", "pdf"), (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
                 (b"\xff\xd8\xff", "image/jpeg", "jpg"))
RECEIPT_ACCEPT = "application/pdf,image/png,image/jpeg,image/webp"


@dataclass(frozen=True)
class Receipt:
    name: str
    content_type: str
    data: bytes


def receipt_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a receipt we take, from its first bytes; None otherwise."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return next(((kind, ext) for signature, kind, ext in RECEIPT_TYPES if data.startswith(signature)), None)


def read_receipt(uploaded_file) -> Receipt:
    """The upload as a receipt we keep, or a ValidationError saying why not (code "too_big" or
    "not_receipt"), read no further than the limit whatever size the upload declares."""
    size = uploaded_file.size
    limit = f"{MAX_RECEIPT_BYTES // 1024 // 1024} MB"
    if size is None or size > MAX_RECEIPT_BYTES:
        raise ValidationError(f"The file is {(size or 0) / 1024 / 1024:.1f} MB; a receipt may be at most {limit}.",
                              code="too_big")
    uploaded_file.seek(0)
    data = uploaded_file.read(MAX_RECEIPT_BYTES + 1)
    if len(data) > MAX_RECEIPT_BYTES:
        raise ValidationError(f"A receipt may be at most {limit}.", code="too_big")
    found = receipt_type(data)
    if found is None:
        raise ValidationError("A receipt is a PDF or an image (PNG, JPEG or WebP).", code="not_receipt")
    content_type, extension = found
    stem = (uploaded_file.name or "receipt").replace("\x00", "").rsplit("/", 1)[-1].rsplit(".", 1)[0][:80]
    return Receipt(f"{stem or 'receipt'}.{extension}", content_type, data)


def receipt_of(expense: Expense) -> Receipt:
    """The kept receipt, its type read again from its bytes (what was checked when it was stored)."""
    with expense.receipt.open("rb") as kept:
        data = kept.read()
    content_type, _ = receipt_type(data) or ("application/octet-stream", "")
    return Receipt(expense.receipt.name.rsplit("/", 1)[-1], content_type, data)


def _keep_receipt(expense: Expense, receipt: Receipt) -> None:
    expense.receipt.save(receipt.name, ContentFile(receipt.data), save=False)


def create(*, by, date: date, category: str, amount: Decimal, router=None, note: str = "",
           receipt: Receipt | None = None) -> Expense:
    with transaction.atomic():
        expense = Expense(date=date, category=category, amount=amount, router=router, note=note, created_by=by)
        if receipt is not None:
            _keep_receipt(expense, receipt)
        expense.save()
        trail.record("created", expense, changes={name: [None, value] for name, value
                                                  in trail.snapshot(expense, FIELDS).items()},
                     note=f"receipt {expense.receipt.name.rsplit('/', 1)[-1]}" if receipt else "")
    return expense


def update(expense: Expense, *, receipt: Receipt | None = None, drop_receipt: bool = False, **fields) -> Expense:
    """Change the named FIELDS of ``expense``; a new ``receipt`` replaces the old, ``drop_receipt``
    removes it. Audited: what changed, and that the receipt did."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"not expense fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        expense = Expense.objects.select_for_update().get(pk=expense.pk)
        before = trail.snapshot(expense, FIELDS)
        for name, value in fields.items():
            setattr(expense, name, value)
        old_receipt = expense.receipt.name if expense.receipt else ""
        if receipt is not None:
            _keep_receipt(expense, receipt)
        elif drop_receipt:
            expense.receipt = None
        expense.save()
        changes = trail.changes(before, trail.snapshot(expense, FIELDS))
        new_receipt = expense.receipt.name if expense.receipt else ""
        if new_receipt != old_receipt:
            changes["receipt"] = [old_receipt.rsplit("/", 1)[-1] or None, new_receipt.rsplit("/", 1)[-1] or None]
        if changes:
            trail.record("changed", expense, changes=changes)
    if old_receipt and old_receipt != new_receipt:
        _forget_file(expense, old_receipt)
    return expense


def delete(expense: Expense) -> None:
    with transaction.atomic():
        expense = Expense.objects.select_for_update().get(pk=expense.pk)
        kept = expense.receipt.name if expense.receipt else ""
        trail.record("deleted", expense, changes={name: [value, None] for name, value
                                                  in trail.snapshot(expense, FIELDS).items()})
        expense.delete()
    if kept:
        _forget_file(expense, kept)


def _forget_file(expense: Expense, name: str) -> None:
    """The replaced or deleted receipt's file, after commit (a rolled-back change keeps its file)."""
    storage = expense.receipt.storage
    transaction.on_commit(lambda: storage.delete(name))
