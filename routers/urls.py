from django.urls import path

from . import action_views, ap_views, views, vpn_views

urlpatterns = [
    path("routers/", views.router_list, name="router-list"),
    path("routers/add/", views.router_add, name="router-add"),
    path("routers/<int:pk>/", views.router_detail, name="router-detail"),
    path("routers/<int:pk>/edit/", views.router_edit, name="router-edit"),
    path("routers/<int:pk>/delete/", views.router_delete, name="router-delete"),
    path("routers/<int:pk>/test/", views.router_test, name="router-test"),
    path("routers/<int:pk>/provision/", views.router_provision, name="router-provision"),
    path("routers/<int:pk>/provisioning/<int:job_id>/", views.provisioning_job, name="router-provisioning"),
    path("routers/<int:pk>/traffic/", views.router_traffic, name="router-traffic"),
    # Actions and the panels that ask the router when its page opens.
    path("routers/<int:pk>/backup/", action_views.router_backup, name="router-backup"),
    path("routers/<int:pk>/backups/<int:backup_id>/restore/", action_views.router_restore, name="router-restore"),
    path("routers/<int:pk>/reboot/", action_views.router_reboot, name="router-reboot"),
    path("routers/<int:pk>/kick/", action_views.router_kick, name="router-kick"),
    path("routers/<int:pk>/sessions/", action_views.router_sessions, name="router-sessions"),
    path("routers/<int:pk>/logs/", action_views.router_logs, name="router-logs"),
    path("routers/<int:pk>/drift/", action_views.router_drift, name="router-drift"),
    path("routers/<int:pk>/repair/", action_views.router_repair, name="router-repair"),
    # WireGuard: our end, and each router's tunnel and onboarding script.
    path("routers/vpn/", vpn_views.vpn_overview, name="vpn-overview"),
    path("routers/vpn/server.conf", vpn_views.server_conf, name="vpn-server-conf"),
    path("routers/<int:pk>/vpn/", vpn_views.router_vpn, name="router-vpn"),
    path("routers/<int:pk>/vpn/create/", vpn_views.router_vpn_enrol, name="router-vpn-enrol"),
    path("routers/<int:pk>/vpn/onboarding.rsc", vpn_views.router_vpn_script, name="router-vpn-script"),
    path("routers/<int:pk>/vpn/activate/", vpn_views.router_vpn_activate, name="router-vpn-activate"),
    # What stands behind the routers.
    path("routers/access-points/", ap_views.access_point_list, name="access-point-list"),
    path("routers/access-points/add/", ap_views.access_point_add, name="access-point-add"),
    path("routers/access-points/<int:pk>/", ap_views.access_point_edit, name="access-point-edit"),
    path("routers/access-points/<int:pk>/delete/", ap_views.access_point_delete, name="access-point-delete"),
    path("routers/services/", ap_views.service_list, name="router-services"),
]
