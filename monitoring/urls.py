"""The dashboard (/), the health page (/health/), failed jobs (/health/jobs/) and the activity list
(/activity/), each served by the views module of its name."""
from django.urls import path

from .views import activity, dashboard, health, jobs, search, settings_messages, settings_mpesa, system_log
from .views import alerts as alert_pages
from .views import backups as backup_pages
from .views import exports as export_pages
from .views import portal_tickets as customer_ticket_pages
from .views import settings as settings_pages
from .views import sms_inbound as sms_inbound_views
from .views import ticket_sms as ticket_sms_pages
from .views import tickets as ticket_pages
from .views.reports import customers as customers_report
from .views.reports import logins as logins_report
from .views.reports import profit as profit_report
from .views.reports import revenue as revenue_report
from .views.reports import sessions as sessions_report
from .views.reports import usage as usage_report
from .views.settings_general import branding_logo, logo_upload

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("health/", health.health_page, name="health"),
    path("health/jobs/", jobs.failed_jobs, name="failed-jobs"),
    path("health/jobs/<int:pk>/retry/", jobs.retry_failed_job, name="failed-job-retry"),
    path("health/jobs/<int:pk>/dismiss/", jobs.dismiss_failed_job, name="failed-job-dismiss"),
    path("activity/", activity.activity_list, name="activity-list"),
    path("logs/system/", system_log.system_log, name="system-log"),
    path("settings/", settings_pages.settings_index, name="settings"),
    path("settings/<str:section>/", settings_pages.settings_section, name="settings-section"),
    path("settings/<str:section>/reset/<str:name>/", settings_pages.settings_reset, name="settings-reset"),
    path("settings/mpesa/test/", settings_mpesa.test_credentials, name="settings-mpesa-test"),
    path("settings/sms/test/", settings_messages.sms_test, name="settings-sms-test"),
    path("settings/email/test/", settings_messages.email_test, name="settings-email-test"),
    path("settings/general/logo/", logo_upload, name="settings-logo"),
    path("branding/logo", branding_logo, name="branding-logo"),
    path("search/", search.search, name="search"),
    path("reports/revenue/", revenue_report.revenue, name="report-revenue"),
    path("reports/logins/", logins_report.logins, name="report-logins"),
    path("reports/usage/", usage_report.usage, name="report-usage"),
    path("reports/sessions/", sessions_report.sessions, name="report-sessions"),
    path("reports/customers/", customers_report.customers, name="report-customers"),
    path("reports/profit/", profit_report.profit, name="report-profit"),
    path("backups/", backup_pages.backup_list, name="backup-list"),
    path("backups/now/", backup_pages.backup_now, name="backup-now"),
    path("backups/<int:pk>/progress/", backup_pages.backup_progress, name="backup-progress"),
    path("backups/<int:pk>/download/", backup_pages.backup_download, name="backup-download"),
    path("exports/<slug:kind>/prepare/", export_pages.export_prepare, name="export-prepare"),
    path("exports/<int:pk>/", export_pages.export_job, name="export-job"),
    path("exports/<int:pk>/download/", export_pages.export_download, name="export-download"),
    path("alerts/", alert_pages.alert_list, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", alert_pages.acknowledge, name="alert-acknowledge"),
    path("alerts/preferences/", alert_pages.alert_preferences, name="alert-preferences"),
    path("alerts/preferences/test/", alert_pages.alert_preferences_test, name="alert-preferences-test"),
    path("tickets/", ticket_pages.ticket_list, name="ticket-list"),
    path("tickets/new/", ticket_pages.ticket_new, name="ticket-new"),
    path("tickets/badge/", ticket_pages.ticket_badge, name="ticket-badge"),
    path("tickets/sms/", ticket_sms_pages.ticket_sms, name="ticket-sms"),  # before a ticket number catches "sms"
    path("tickets/<str:number>/", ticket_pages.ticket_detail, name="ticket-detail"),
    path("tickets/<str:number>/reply/", ticket_pages.ticket_reply, name="ticket-reply"),
    path("tickets/<str:number>/note/", ticket_pages.ticket_note, name="ticket-note"),
    path("tickets/<str:number>/change/", ticket_pages.ticket_change, name="ticket-change"),
    path("tickets/<str:number>/attachments/<int:pk>/", ticket_pages.ticket_attachment, name="ticket-attachment"),
    # The customer's own tickets on their account (monitoring/views/portal_tickets.py).
    path("portal/account/tickets/", customer_ticket_pages.ticket_list, name="portal-tickets"),
    path("portal/account/tickets/new/", customer_ticket_pages.ticket_new, name="portal-ticket-new"),
    path("portal/account/tickets/<str:number>/", customer_ticket_pages.ticket_detail, name="portal-ticket"),
    path("portal/account/tickets/<str:number>/attachments/<int:pk>/", customer_ticket_pages.ticket_attachment,
         name="portal-ticket-attachment"),
    # Africa's Talking's incoming messages (customers answering their tickets by SMS); the token is the secret.
    path("api/sms/inbound/<str:token>", sms_inbound_views.sms_inbound, name="sms-inbound"),
]
