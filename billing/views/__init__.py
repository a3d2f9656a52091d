"""Billing's pages, one module per URL prefix: payments (/payments/), mpesa (/payments/mpesa/),
payment_methods (/payments/methods/), reports (/payments/reports/), customer_payments
(/customers/<id>/payments/), invoices (/invoices/), wallet (/wallet/), portal (/portal/buy, pay,
recover) and callbacks (where Daraja posts, /api/payments/…/<token>)."""
