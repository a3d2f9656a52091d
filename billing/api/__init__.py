"""Billing's JSON API, one module per resource: payments (/api/payments), callback_log
(/api/logs/payments) and purchase (/api/purchase)."""
