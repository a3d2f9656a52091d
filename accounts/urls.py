"""URLs for signing in and out (/login/, /logout/), the staff pages (/staff/) and roles (/staff/roles/)."""
from django.urls import path

from .views import login, password_reset, roles, staff, two_factor

urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("logout/", login.logout_view, name="logout"),
    path("login/code/", login.login_code_view, name="login-code"),
    path("account/two-factor/", two_factor.two_factor_page, name="two-factor"),
    path("account/two-factor/start/", two_factor.two_factor_start, name="two-factor-start"),
    path("account/two-factor/confirm/", two_factor.two_factor_confirm, name="two-factor-confirm"),
    path("account/two-factor/recovery-codes/", two_factor.two_factor_recovery_codes, name="two-factor-recovery-codes"),
    path("account/two-factor/disable/", two_factor.two_factor_disable, name="two-factor-disable"),
    path("password-reset/", password_reset.request_reset, name="password-reset"),
    path("password-reset/sent/", password_reset.reset_sent, name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", password_reset.confirm_reset, name="password-reset-confirm"),
    path("password-reset/done/", password_reset.reset_done, name="password-reset-complete"),
    path("staff/", staff.staff_list, name="staff-list"),
    path("staff/add/", staff.staff_add, name="staff-add"),
    path("staff/<int:pk>/", staff.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/active/", staff.staff_set_active, name="staff-set-active"),
    path("staff/<int:pk>/two-factor/reset/", two_factor.staff_two_factor_reset, name="staff-two-factor-reset"),
    path("staff/roles/", roles.role_list, name="role-list"),
    path("staff/roles/new/", roles.role_add, name="role-add"),
    path("staff/roles/<int:pk>/", roles.role_edit, name="role-edit"),
    path("staff/roles/<int:pk>/delete/", roles.role_delete, name="role-delete"),
]
