"""The routers app's pages, all under /routers/; each view lives in routers/views/<the module named here>."""
from django.urls import path

from .views import access_points, actions, routers, services, traffic, vpn

urlpatterns = [
    path("routers/", routers.router_list, name="router-list"),
    path("routers/add/", routers.router_add, name="router-add"),
    path("routers/<int:pk>/", routers.router_detail, name="router-detail"),
    path("routers/<int:pk>/edit/", routers.router_edit, name="router-edit"),
    path("routers/<int:pk>/delete/", routers.router_delete, name="router-delete"),
    path("routers/<int:pk>/test/", routers.router_test, name="router-test"),
    path("routers/<int:pk>/provision/", routers.router_provision, name="router-provision"),
    path("routers/<int:pk>/provisioning/<int:job_id>/", routers.provisioning_job, name="router-provisioning"),
    path("routers/<int:pk>/traffic/", routers.router_traffic, name="router-traffic"),
    path("reports/traffic/", traffic.traffic_report, name="report-traffic"),
    # Actions and the panels that ask the router when its page opens.
    path("routers/<int:pk>/backup/", actions.router_backup, name="router-backup"),
    path("routers/<int:pk>/backups/<int:backup_id>/restore/", actions.router_restore, name="router-restore"),
    path("routers/<int:pk>/reboot/", actions.router_reboot, name="router-reboot"),
    path("routers/<int:pk>/kick/", actions.router_kick, name="router-kick"),
    path("routers/<int:pk>/sessions/", actions.router_sessions, name="router-sessions"),
    path("routers/<int:pk>/logs/", actions.router_logs, name="router-logs"),
    path("routers/<int:pk>/drift/", actions.router_drift, name="router-drift"),
    path("routers/<int:pk>/repair/", actions.router_repair, name="router-repair"),
    # WireGuard: our end, and each router's tunnel and onboarding script.
    path("routers/vpn/", vpn.vpn_overview, name="vpn-overview"),
    path("routers/vpn/server.conf", vpn.server_conf, name="vpn-server-conf"),
    path("routers/<int:pk>/vpn/", vpn.router_vpn, name="router-vpn"),
    path("routers/<int:pk>/vpn/create/", vpn.router_vpn_enrol, name="router-vpn-enrol"),
    path("routers/<int:pk>/vpn/onboarding.rsc", vpn.router_vpn_script, name="router-vpn-script"),
    path("routers/<int:pk>/vpn/activate/", vpn.router_vpn_activate, name="router-vpn-activate"),
    # What stands behind the routers.
    path("routers/access-points/", access_points.access_point_list, name="access-point-list"),
    path("routers/access-points/add/", access_points.access_point_add, name="access-point-add"),
    path("routers/access-points/<int:pk>/", access_points.access_point_edit, name="access-point-edit"),
    path("routers/access-points/<int:pk>/delete/", access_points.access_point_delete, name="access-point-delete"),
    path("routers/services/", services.service_list, name="router-services"),
    # A router's ports and the hotspot and PPPoE services we run on them (routers/router_services.py).
    path("routers/<int:pk>/interfaces/", services.router_interfaces, name="router-interfaces"),
    path("routers/<int:pk>/services/add/", services.service_add, name="router-service-add"),
    path("routers/<int:pk>/services/<int:service_id>/edit/", services.service_edit, name="router-service-edit"),
    *[path(f"routers/<int:pk>/services/<int:service_id>/{action}/", services.service_action, {"action": action},
           name=f"router-service-{action}") for action in services.ACTIONS],
]
