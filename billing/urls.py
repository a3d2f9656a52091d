from django.urls import path

from . import (
    callback_views,
    customer_payment_views,
    invoice_views,
    method_views,
    mpesa_views,
    payment_views,
    portal_views,
    report_views,
    wallet_views,
)

# Before the JSON API's own patterns (config/urls.py), so these raw-body views win their paths.
callback_patterns = [
    path("api/payments/mpesa/callback/<str:token>", callback_views.mpesa_callback, name="mpesa-callback"),
    path("api/payments/callback/<str:token>", callback_views.stk_callback, name="mpesa-stk-callback"),
    path("api/payments/c2b/confirmation/<str:token>", callback_views.c2b_confirmation, name="mpesa-c2b-confirmation"),
    path("api/payments/c2b/validation/<str:token>", callback_views.c2b_validation, name="mpesa-c2b-validation"),
]

portal_patterns = [
    path("portal/buy/", portal_views.portal_buy, name="portal-buy"),
    path("portal/pay/<str:token>/", portal_views.portal_payment, name="portal-payment"),
    path("portal/recover/", portal_views.portal_recover, name="portal-recover"),
]

urlpatterns = [*callback_patterns, *portal_patterns]

# The staff pages.
urlpatterns += [
    path("payments/", payment_views.payment_list, name="payment-list"),
    path("payments/export.csv", payment_views.payment_export, name="payment-export"),
    path("payments/cash/", payment_views.payment_cash, name="payment-cash"),
    path("payments/<int:pk>/", payment_views.payment_detail, name="payment-detail"),
    path("payments/<int:pk>/verify/", payment_views.payment_verify, name="payment-verify"),
    path("payments/<int:pk>/reverse/", payment_views.payment_reverse, name="payment-reverse"),
    path("payments/mpesa/", mpesa_views.mpesa_transactions, name="mpesa-transactions"),
    path("payments/methods/", method_views.payment_methods, name="payment-methods"),
    path("payments/reports/", report_views.payment_reports, name="payment-reports"),
    path("customers/<int:pk>/payments/", customer_payment_views.customer_payments, name="customer-payments"),
    path("invoices/", invoice_views.invoice_list, name="invoice-list"),
    path("invoices/issue/", invoice_views.invoice_issue, name="invoice-issue"),
    path("invoices/<int:pk>/cancel/", invoice_views.invoice_cancel, name="invoice-cancel"),
    path("invoices/<int:pk>/request-payment/", invoice_views.invoice_request_payment, name="invoice-request-payment"),
    path("wallet/", wallet_views.wallet_list, name="wallet-list"),
    path("wallet/<int:customer_id>/", wallet_views.wallet_detail, name="wallet-detail"),
    path("wallet/<int:customer_id>/buy/", wallet_views.wallet_buy, name="wallet-buy"),
]
