from django.urls import path

from . import customer_views, portal_views, views, voucher_views
from .models import ServiceType

urlpatterns = [
    path("packages/", views.package_list, name="package-list"),
    path("packages/add/", views.package_add, name="package-add"),
    path("packages/<int:pk>/", views.package_edit, name="package-edit"),
    path("packages/<int:pk>/active/", views.package_set_active, name="package-set-active"),
    path("packages/<int:pk>/delete/", views.package_delete, name="package-delete"),
    path("packages/groups/", views.group_list, name="package-groups"),
    path("customers/", customer_views.customer_list, name="customer-list"),
    path("customers/hotspot/", customer_views.customer_list, {"kind": ServiceType.HOTSPOT}, name="customer-hotspot"),
    path("customers/pppoe/", customer_views.customer_list, {"kind": ServiceType.PPPOE}, name="customer-pppoe"),
    path("customers/add/", customer_views.customer_add, name="customer-add"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/edit/", customer_views.customer_edit, name="customer-edit"),
    *[path(f"customers/<int:pk>/{action}/", customer_views.customer_action, {"action": action},
           name=f"customer-{action}") for action in ("activate", "deactivate", "disconnect")],
    path("vouchers/", voucher_views.voucher_batches, name="voucher-batches"),
    path("vouchers/batches/<int:pk>/", voucher_views.voucher_batch, name="voucher-batch"),
    path("vouchers/batches/<int:pk>/sheet/", voucher_views.voucher_sheet, name="voucher-sheet"),
    path("vouchers/batches/<int:pk>/csv/", voucher_views.voucher_csv, name="voucher-csv"),
    path("vouchers/<int:pk>/revoke/", voucher_views.voucher_revoke, name="voucher-revoke"),
]

urlpatterns += [
    path("portal/", portal_views.portal, name="portal"),
    path("portal/voucher/", portal_views.portal_voucher, name="portal-voucher"),
    path("portal/login/", portal_views.portal_login, name="portal-login"),
    path("portal/status/", portal_views.portal_status, name="portal-status"),
    path("portal/api", portal_views.captive_api, name="portal-captive-api"),
]
