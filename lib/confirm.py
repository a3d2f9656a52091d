"""The confirm step of an action that cannot be undone (Disconnect, Deactivate, Cancel a voucher).

The list's button is a link: GET on the action's own URL answers this page, which names what will
happen and holds the POST form that does it. No JavaScript involved, so it asks on every browser,
and a mistaken tap costs one "Back" instead of a customer thrown off the network.
"""
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """``?next=`` (or the posted ``next``) when it is a page of ours, else ``fallback``."""
    back = request.POST.get("next") or request.GET.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    return fallback


def confirm_page(request, *, question: str, button: str, back: str, detail: str = "",
                 fields: dict | None = None, danger: bool = True):
    """Ask ``question``; ``button`` posts ``fields`` back to this URL, "Back" returns to ``back``."""
    return render(request, "confirm.html", {
        "question": question, "detail": detail, "button": button, "back": back, "danger": danger,
        "fields": sorted((fields or {}).items()), "action": request.path})
