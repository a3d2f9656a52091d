"""URLs for signing in and out (/login/, /logout/) and the staff pages (/staff/)."""
from django.urls import path

from .views import login, password_reset, staff

urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("logout/", login.logout_view, name="logout"),
    path("password-reset/", password_reset.request_reset, name="password-reset"),
    path("password-reset/sent/", password_reset.reset_sent, name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", password_reset.confirm_reset, name="password-reset-confirm"),
    path("password-reset/done/", password_reset.reset_done, name="password-reset-complete"),
    path("staff/", staff.staff_list, name="staff-list"),
    path("staff/add/", staff.staff_add, name="staff-add"),
    path("staff/<int:pk>/", staff.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/active/", staff.staff_set_active, name="staff-set-active"),
]
