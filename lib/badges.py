"""The ``status_badge`` template filter: one colour for each status word, whichever model it is on.

Loaded for every template (settings.TEMPLATES' ``builtins``): ``<span class="badge {{ p.status|status_badge }}">``.
Green is a state that needs nothing, amber one that is on its way or wants a look, red one that
failed or lost access; a word not listed stays grey.
"""
from django import template

register = template.Library()

GOOD = {"online", "completed", "credited", "done", "ok", "paid", "active", "sent", "ack", "redeemed",
        "accepted", "Access-Accept",  # FreeRADIUS's answers in the auth log (radpostauth.reply) are status words too
        "verified", "copied",  # a database backup read back after writing, and its off-site copy
        "resolved",  # a support ticket answered
        "attached"}  # an SMS from a customer that reached their ticket
WARN = {"warning", "pending", "provisioning", "issued", "skipped", "grace", "received", "in_progress", "queued",
        "running", "high"}  # "high" and "urgent" (BAD): a ticket's priority
BAD = {"offline", "error", "failed", "overdue", "inactive", "timed_out", "expired", "suspended", "revoked", "nak",
       "timeout", "down", "disabled", "bad_token", "forbidden", "malformed", "amount_mismatch",
       "cancelled", "unmatched", "rejected", "gave_up", "Access-Reject", "drift", "critical",
       "urgent", "forged"}  # "forged": a post to the inbound SMS webhook with a wrong token


@register.filter
def status_badge(status) -> str:
    status = str(status or "")
    return "good" if status in GOOD else "warn" if status in WARN else "bad" if status in BAD else ""
