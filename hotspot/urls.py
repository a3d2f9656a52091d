from django.urls import path

from . import views

urlpatterns = [
    path("packages/", views.package_list, name="package-list"),
    path("packages/add/", views.package_add, name="package-add"),
    path("packages/<int:pk>/", views.package_edit, name="package-edit"),
    path("packages/<int:pk>/active/", views.package_set_active, name="package-set-active"),
    path("packages/<int:pk>/delete/", views.package_delete, name="package-delete"),
    path("packages/groups/", views.group_list, name="package-groups"),
]
