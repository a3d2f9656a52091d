"""Hotspot pages: /packages/, /customers/, /vouchers/ (staff) and /portal/ (customers), each prefix
from its module in hotspot/views/."""
from django.urls import path

from .models import ServiceType
from .views import customer_desk, customers, live_sessions, packages, portal, portal_account, pppoe_connection, vouchers

# The captive portal first: every phone joining a hotspot asks for it, and Django tries the
# patterns in order (config/urls.py includes this module first for the same reason).
urlpatterns = [
    path("portal/", portal.portal, name="portal"),
    path("portal/voucher/", portal.portal_voucher, name="portal-voucher"),
    path("portal/login/", portal.portal_login, name="portal-login"),
    path("portal/status/", portal.portal_status, name="portal-status"),
    path("portal/api", portal.captive_api, name="portal-captive-api"),
    path("portal/account/sign-in/", portal_account.sign_in, name="portal-account-sign-in"),
    path("portal/account/sign-out/", portal_account.sign_out, name="portal-account-sign-out"),
    path("portal/account/password/", portal_account.password, name="portal-account-password"),
    path("portal/account/devices/sign-out/", portal_account.device_sign_out, name="portal-account-device-sign-out"),
    path("packages/", packages.package_list, name="package-list"),
    path("packages/add/", packages.package_add, name="package-add"),
    path("packages/<int:pk>/", packages.package_edit, name="package-edit"),
    path("packages/<int:pk>/active/", packages.package_set_active, name="package-set-active"),
    path("packages/<int:pk>/delete/", packages.package_delete, name="package-delete"),
    path("packages/groups/", packages.group_list, name="package-groups"),
    path("customers/", customers.customer_list, name="customer-list"),
    path("customers/hotspot/", customers.customer_list, {"kind": ServiceType.HOTSPOT}, name="customer-hotspot"),
    path("customers/pppoe/", customers.customer_list, {"kind": ServiceType.PPPOE}, name="customer-pppoe"),
    path("customers/pppoe/sessions/", live_sessions.live_sessions, {"kind": ServiceType.PPPOE}, name="pppoe-sessions"),
    path("sessions/live/", live_sessions.live_sessions, name="live-sessions"),
    path("sessions/live/disconnect/", live_sessions.live_disconnect, name="live-session-disconnect"),
    path("customers/add/", customers.customer_add, name="customer-add"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer-detail"),
    path("customers/by-username/", customers.customer_by_username, name="customer-by-username"),
    path("customers/<int:pk>/edit/", customers.customer_edit, name="customer-edit"),
    path("customers/<int:pk>/pppoe/", pppoe_connection.customer_pppoe, name="customer-pppoe-connection"),
    *[path(f"customers/<int:pk>/{action}/", customers.customer_action, {"action": action},
           name=f"customer-{action}") for action in ("activate", "deactivate", "disconnect")],
    path("customers/<int:pk>/extend/", customer_desk.customer_extend, name="customer-extend"),
    path("customers/<int:pk>/free-time/", customer_desk.customer_free_time, name="customer-free-time"),
    path("customers/<int:pk>/reset-password/", customer_desk.customer_reset_password, name="customer-reset-password"),
    *[path(f"subscriptions/<int:pk>/{action}/", customer_desk.subscription_action, {"action": action},
           name=f"subscription-{action}") for action in customer_desk.STOPS],
    path("vouchers/", vouchers.voucher_batches, name="voucher-batches"),
    path("vouchers/batches/<int:pk>/", vouchers.voucher_batch, name="voucher-batch"),
    path("vouchers/batches/<int:pk>/sheet/", vouchers.voucher_sheet, name="voucher-sheet"),
    path("vouchers/batches/<int:pk>/csv/", vouchers.voucher_csv, name="voucher-csv"),
    path("vouchers/<int:pk>/revoke/", vouchers.voucher_revoke, name="voucher-revoke"),
]
