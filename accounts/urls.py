"""URLs for signing in and out (/login/, /logout/) and the staff pages (/staff/)."""
from django.urls import path

from .views import login, staff

urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("logout/", login.logout_view, name="logout"),
    path("staff/", staff.staff_list, name="staff-list"),
    path("staff/add/", staff.staff_add, name="staff-add"),
    path("staff/<int:pk>/", staff.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/active/", staff.staff_set_active, name="staff-set-active"),
]
