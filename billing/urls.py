from django.urls import path

from .views import (
    callbacks,
    customer_desk,
    customer_payments,
    expenses,
    invoices,
    mpesa,
    payment_methods,
    payments,
    portal,
    portal_account,
    reports,
    wallet,
)

# Before the JSON API's own patterns (config/urls.py), so these raw-body views win their paths.
callback_patterns = [
    path("api/payments/mpesa/callback/<str:token>", callbacks.mpesa_callback, name="mpesa-callback"),
    path("api/payments/callback/<str:token>", callbacks.stk_callback, name="mpesa-stk-callback"),
    path("api/payments/c2b/confirmation/<str:token>", callbacks.c2b_confirmation, name="mpesa-c2b-confirmation"),
    path("api/payments/c2b/validation/<str:token>", callbacks.c2b_validation, name="mpesa-c2b-validation"),
]

portal_patterns = [
    path("portal/buy/", portal.portal_buy, name="portal-buy"),
    path("portal/pay/<str:token>/", portal.portal_payment, name="portal-payment"),
    path("portal/recover/", portal.portal_recover, name="portal-recover"),
    # The customer's own account: its first page, and the money forms on it.
    path("portal/account/", portal_account.account_home, name="portal-account"),
    path("portal/account/top-up/", portal_account.account_top_up, name="portal-account-top-up"),
    path("portal/account/buy-again/", portal_account.account_buy_again, name="portal-account-buy-again"),
    path("portal/account/boosts/<int:pk>/buy/", portal_account.account_buy_boost, name="portal-account-buy-boost"),
    path("portal/account/invoices/<int:pk>/pay/", portal_account.account_invoice_pay,
         name="portal-account-invoice-pay"),
    path("portal/account/payments/<int:pk>/receipt/", portal_account.account_receipt,
         name="portal-account-receipt"),
]

urlpatterns = [*callback_patterns, *portal_patterns]

# The staff pages.
urlpatterns += [
    path("payments/", payments.payment_list, name="payment-list"),
    path("payments/export.csv", payments.payment_export, name="payment-export"),
    path("payments/cash/", payments.payment_cash, name="payment-cash"),
    path("payments/<int:pk>/", payments.payment_detail, name="payment-detail"),
    path("payments/<int:pk>/verify/", payments.payment_verify, name="payment-verify"),
    path("payments/<int:pk>/reverse/", payments.payment_reverse, name="payment-reverse"),
    path("payments/mpesa/", mpesa.mpesa_transactions, name="mpesa-transactions"),
    path("payments/methods/", payment_methods.payment_methods, name="payment-methods"),
    path("payments/reports/", reports.payment_reports, name="payment-reports"),
    path("customers/<int:pk>/payments/", customer_payments.customer_payments, name="customer-payments"),
    path("customers/<int:pk>/recharge/", customer_desk.customer_recharge, name="customer-recharge"),
    path("customers/<int:pk>/send-credentials/", customer_desk.customer_send_credentials,
         name="customer-send-credentials"),
    path("invoices/", invoices.invoice_list, name="invoice-list"),
    path("invoices/issue/", invoices.invoice_issue, name="invoice-issue"),
    path("invoices/<int:pk>/cancel/", invoices.invoice_cancel, name="invoice-cancel"),
    path("invoices/<int:pk>/request-payment/", invoices.invoice_request_payment, name="invoice-request-payment"),
    path("expenses/", expenses.expense_list, name="expense-list"),
    path("expenses/add/", expenses.expense_add, name="expense-add"),
    path("expenses/<int:pk>/edit/", expenses.expense_edit, name="expense-edit"),
    path("expenses/<int:pk>/delete/", expenses.expense_delete, name="expense-delete"),
    path("expenses/<int:pk>/receipt/", expenses.expense_receipt, name="expense-receipt"),
    path("wallet/", wallet.wallet_list, name="wallet-list"),
    path("wallet/<int:customer_id>/", wallet.wallet_detail, name="wallet-detail"),
    path("wallet/<int:customer_id>/buy/", wallet.wallet_buy, name="wallet-buy"),
]
