"""Every URL, every role: who gets in is what this table says, and a new URL must join the table.

Beside the four built-in roles the table has a custom one (PAYMENTS_VIEWER: only "View payments"), so
every rule is seen to follow permissions, never role names."""
import re

import pytest
from django.core import checks
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from accounts.access import is_api_operation_view
from accounts.checks import iter_api_operations, iter_patterns
from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN

from .staff_kit import PAYMENTS_VIEWER, bearer

EVERYONE = "public"
BUILT_IN = {ADMIN, FINANCE, SUPPORT, TECHNICIAN}
ALL_STAFF = BUILT_IN | {PAYMENTS_VIEWER}

# Pages and documents, by URL name: the roles allowed in, or EVERYONE.
PAGES = {
    "login": EVERYONE,
    "logout": EVERYONE,
    # The code step of signing in (accounts/views/login.py) and each one's own two-factor sign-in.
    "login-code": EVERYONE,
    "two-factor": ALL_STAFF,
    "two-factor-start": ALL_STAFF,
    "two-factor-confirm": ALL_STAFF,
    "two-factor-recovery-codes": ALL_STAFF,
    "two-factor-disable": ALL_STAFF,
    "dashboard": ALL_STAFF,
    "health": ALL_STAFF,
    # The audit trail: each role reads the entries about what it may view (audit.view_entry).
    "activity-list": BUILT_IN,
    # The top bar's search finds customers (and their receipts and vouchers): whoever views customers.
    "search": {ADMIN, FINANCE, SUPPORT},
    # The stored system log: operators of the whole system and of the routers.
    "system-log": {ADMIN, TECHNICIAN},
    # Failed jobs: read, retried and dismissed by the operators (monitoring.*taskfailure): the jobs
    # are idempotent, so running one again is safe in any hands that can see why it failed.
    "failed-jobs": {ADMIN, TECHNICIAN},
    "failed-job-retry": {ADMIN, TECHNICIAN},
    "failed-job-dismiss": {ADMIN, TECHNICIAN},
    # Alerts (monitoring/views/alerts.py): every built-in role sees the incidents and chooses its own
    # alerts (monitoring.view_incident: Finance chases M-Pesa's, Support hears of a router down before
    # the callers do); those on call for the system acknowledge (monitoring.change_incident).
    "alerts": BUILT_IN,
    "alert-acknowledge": {ADMIN, TECHNICIAN},
    "alert-preferences": BUILT_IN,
    "alert-preferences-test": BUILT_IN,
    # Support tickets (monitoring/views/tickets.py): every built-in role reads the queue and the
    # tickets monitoring.tickets.access.visible_to gives it (Technician: router ones and its own;
    # Finance: payment and billing), an invisible one a 404; Support and Admin open them. Replying,
    # notes and changes pass the same door, then the view's 403 for a role that may only read.
    "ticket-list": BUILT_IN,
    "ticket-new": {ADMIN, SUPPORT},
    "ticket-detail": BUILT_IN,
    "ticket-reply": BUILT_IN,
    "ticket-note": BUILT_IN,
    "ticket-change": BUILT_IN,
    "ticket-attachment": BUILT_IN,
    "ticket-badge": BUILT_IN,  # the sidebar's number of open tickets, refreshed live
    # SMS from customers (monitoring/views/ticket_sms.py): who sees every ticket, as an SMS may be anyone's.
    "ticket-sms": {ADMIN, SUPPORT},
    # Settings (monitoring/views/settings.py): Admin all sections; Finance reads the money ones (the
    # view answers 403 for the others); only Admin saves or puts a value back to its default.
    "settings": {ADMIN, FINANCE},
    "settings-section": {ADMIN, FINANCE},
    "settings-reset": {ADMIN},
    "staff-list": {ADMIN},
    "staff-add": {ADMIN},
    "staff-edit": {ADMIN},
    "staff-set-active": {ADMIN},
    "staff-two-factor-reset": {ADMIN},
    "role-list": {ADMIN},
    "role-add": {ADMIN},
    "role-edit": {ADMIN},
    "role-delete": {ADMIN},
    "api:openapi-json": ALL_STAFF,
    "api:openapi-view": ALL_STAFF,
    "api:api-root": EVERYONE,
    "radius-nas": {ADMIN, SUPPORT, TECHNICIAN},
    "radius-users": {ADMIN, SUPPORT, TECHNICIAN},
    "radius-sessions": {ADMIN, SUPPORT, TECHNICIAN},
    "radius-session-history": {ADMIN, SUPPORT, TECHNICIAN},
    "radius-session-disconnect": {ADMIN, SUPPORT},
    # Online now (hotspot/views/live_sessions.py): asked of the routers, read by whoever reads sessions;
    # its Disconnect is the RFC 5176 one (radius.disconnect_session), over the API when not accounted.
    "live-sessions": {ADMIN, SUPPORT, TECHNICIAN},
    "pppoe-sessions": {ADMIN, SUPPORT, TECHNICIAN},
    "live-session-disconnect": {ADMIN, SUPPORT},
    "radius-auth-log": {ADMIN, SUPPORT, TECHNICIAN},
    "package-list": {ADMIN, FINANCE, SUPPORT},
    "package-add": {ADMIN},
    "package-edit": {ADMIN},
    "package-set-active": {ADMIN},
    "package-delete": {ADMIN},
    "package-groups": {ADMIN, SUPPORT},
    "customer-list": {ADMIN, FINANCE, SUPPORT},
    "customer-hotspot": {ADMIN, FINANCE, SUPPORT},
    "customer-pppoe": {ADMIN, FINANCE, SUPPORT},
    "customer-add": {ADMIN, SUPPORT},
    "customer-detail": {ADMIN, FINANCE, SUPPORT},
    "customer-edit": {ADMIN, SUPPORT},
    "customer-pppoe-connection": {ADMIN, SUPPORT},
    "customer-activate": {ADMIN, SUPPORT},
    "customer-deactivate": {ADMIN, SUPPORT},
    "customer-disconnect": {ADMIN, SUPPORT},
    # Finance views vouchers (the codes sold are money it counts); Support and Admin also make them.
    "voucher-batches": {ADMIN, FINANCE, SUPPORT},
    "voucher-batch": {ADMIN, FINANCE, SUPPORT},
    "voucher-sheet": {ADMIN, FINANCE, SUPPORT},
    "voucher-csv": {ADMIN, FINANCE, SUPPORT},
    "voucher-revoke": {ADMIN, SUPPORT},
    # Support answers "I paid" from the customer's own payments, not from all payments (see accounts/roles.py).
    "customer-payments": {ADMIN, FINANCE, SUPPORT},
    # The support desk (hotspot/views/customer_desk.py, billing/views/customer_desk.py): whoever changes
    # customers and their subscriptions; a recharge is an M-Pesa prompt the customer confirms.
    "customer-by-username": {ADMIN, FINANCE, SUPPORT},
    "customer-extend": {ADMIN, SUPPORT},
    "customer-free-time": {ADMIN, SUPPORT},
    "customer-reset-password": {ADMIN, SUPPORT},
    "subscription-suspend": {ADMIN, SUPPORT},
    "subscription-resume": {ADMIN, SUPPORT},
    "subscription-cancel": {ADMIN, SUPPORT},
    "customer-recharge": {ADMIN, SUPPORT},
    "customer-send-credentials": {ADMIN, SUPPORT},
    "payment-list": {ADMIN, FINANCE, PAYMENTS_VIEWER},
    "payment-export": {ADMIN, FINANCE, PAYMENTS_VIEWER},
    "payment-detail": {ADMIN, FINANCE, PAYMENTS_VIEWER},
    "payment-methods": {ADMIN, FINANCE, PAYMENTS_VIEWER},
    "payment-verify": {ADMIN, FINANCE},
    "payment-reverse": {ADMIN, FINANCE},
    "payment-cash": {ADMIN, FINANCE},
    "mpesa-transactions": {ADMIN, FINANCE},
    "payment-reports": {ADMIN, FINANCE},
    "report-revenue": {ADMIN, FINANCE},
    "report-logins": {ADMIN, FINANCE},
    "report-usage": {ADMIN, FINANCE, TECHNICIAN},
    "report-sessions": {ADMIN, FINANCE, TECHNICIAN},
    "report-customers": {ADMIN, FINANCE},
    "report-profit": {ADMIN, FINANCE},
    "expense-list": {ADMIN, FINANCE},
    "expense-add": {ADMIN, FINANCE},
    "expense-edit": {ADMIN, FINANCE},
    "expense-delete": {ADMIN, FINANCE},
    "expense-receipt": {ADMIN, FINANCE},
    "invoice-list": {ADMIN, FINANCE},
    "invoice-issue": {ADMIN, FINANCE},
    "invoice-cancel": {ADMIN, FINANCE},
    "invoice-request-payment": {ADMIN, FINANCE},
    "wallet-list": {ADMIN, FINANCE},
    "wallet-detail": {ADMIN, FINANCE},
    "wallet-buy": {ADMIN, FINANCE},
    "portal": EVERYONE,
    "portal-voucher": EVERYONE,
    "portal-login": EVERYONE,
    "portal-status": EVERYONE,
    "portal-captive-api": EVERYONE,
    # The customer's tickets (monitoring/views/portal_tickets.py): public doors, then the customer's own
    # session (hotspot.account.customer_required) and only their own tickets, never a staff role.
    "portal-tickets": EVERYONE,
    "portal-ticket-new": EVERYONE,
    "portal-ticket": EVERYONE,
    "portal-ticket-attachment": EVERYONE,
    # The customer's account (hotspot/views/portal_account.py): public doors, each page then asks for
    # the customer's own session (hotspot.account.customer_required), never a staff role.
    "portal-account-sign-in": EVERYONE,
    "portal-account-sign-out": EVERYONE,
    "portal-account-password": EVERYONE,
    "portal-account-device-sign-out": EVERYONE,
    "api:mpesa-callback": EVERYONE,
    "api:mpesa-stk-callback": EVERYONE,
    "api:mpesa-c2b-confirmation": EVERYONE,
    "api:mpesa-c2b-validation": EVERYONE,
    # Africa's Talking's incoming SMS (monitoring/views/sms_inbound.py): guarded by the token in its path.
    "api:sms-inbound": EVERYONE,
    "portal-buy": EVERYONE,
    "portal-payment": EVERYONE,
    "portal-recover": EVERYONE,
    # The customer's account, money side (billing/views/portal_account.py): open to everyone at the
    # staff door; hotspot.account.customer_required sends anyone not signed in as a customer to sign in.
    "portal-account": EVERYONE,
    "portal-account-top-up": EVERYONE,
    "portal-account-buy-again": EVERYONE,
    "portal-account-buy-boost": EVERYONE,
    "portal-account-invoice-pay": EVERYONE,
    "portal-account-receipt": EVERYONE,
    # The logo: uploaded or removed by those who change settings; served to everyone (the portal shows it).
    "settings-logo": {ADMIN},
    "branding-logo": EVERYONE,
    # Routers, their actions, access points and services (routers/urls.py)
    "router-list": {ADMIN, TECHNICIAN},
    "router-add": {ADMIN, TECHNICIAN},
    "router-detail": {ADMIN, TECHNICIAN},
    "router-edit": {ADMIN, TECHNICIAN},
    "router-delete": {ADMIN, TECHNICIAN},
    "router-test": {ADMIN, TECHNICIAN},
    "router-provision": {ADMIN, TECHNICIAN},
    "router-provisioning": {ADMIN, TECHNICIAN},
    "router-traffic": {ADMIN, TECHNICIAN},
    "report-traffic": {ADMIN, FINANCE, TECHNICIAN},
    "router-backup": {ADMIN, TECHNICIAN},
    "router-restore": {ADMIN, TECHNICIAN},
    "router-reboot": {ADMIN, TECHNICIAN},
    "router-kick": {ADMIN, TECHNICIAN},
    "router-sessions": {ADMIN, TECHNICIAN},
    "router-logs": {ADMIN, TECHNICIAN},
    "router-drift": {ADMIN, TECHNICIAN},
    "router-repair": {ADMIN, TECHNICIAN},
    "access-point-list": {ADMIN, TECHNICIAN},
    "access-point-add": {ADMIN, TECHNICIAN},
    "access-point-edit": {ADMIN, TECHNICIAN},
    "access-point-delete": {ADMIN, TECHNICIAN},
    "router-services": {ADMIN, TECHNICIAN},
    # A router's ports (the scan) and the services we run on them: read and changed by routers.*.
    "router-interfaces": {ADMIN, TECHNICIAN},
    "router-service-add": {ADMIN, TECHNICIAN},
    "router-service-edit": {ADMIN, TECHNICIAN},
    "router-service-start": {ADMIN, TECHNICIAN},
    "router-service-stop": {ADMIN, TECHNICIAN},
    "router-service-remove": {ADMIN, TECHNICIAN},
    # WireGuard tunnels (routers/urls.py)
    "vpn-overview": {ADMIN, TECHNICIAN},
    "vpn-server-conf": {ADMIN, TECHNICIAN},
    "router-vpn": {ADMIN, TECHNICIAN},
    "router-vpn-enrol": {ADMIN, TECHNICIAN},
    "router-vpn-script": {ADMIN, TECHNICIAN},
    "router-vpn-activate": {ADMIN, TECHNICIAN},
    # "Test credentials" on the M-Pesa settings (monitoring/views/settings_mpesa.py): those who change the keys.
    "settings-mpesa-test": {ADMIN},
    # "Send test SMS" / "Send test e-mail" on those settings pages (monitoring/views/settings_messages.py).
    "settings-sms-test": {ADMIN},
    "settings-email-test": {ADMIN},
    # Database backups hold every customer's credentials and payments: Admin only (monitoring.*databasebackup).
    "backup-list": {ADMIN},
    "backup-now": {ADMIN},
    "backup-progress": {ADMIN},
    "backup-download": {ADMIN},
    # Prepared exports: any staff member reaches the pages; the kind's own permission decides who may ask
    # (billing.view_payment for payments, tests/test_exports.py) and only the one who asked sees the job.
    "export-prepare": ALL_STAFF,
    "export-job": ALL_STAFF,
    "export-download": ALL_STAFF,
    # A staff member who forgot their password is, by definition, not signed in (accounts/views/password_reset.py).
    "password-reset": EVERYONE,
    "password-reset-done": EVERYONE,
    "password-reset-confirm": EVERYONE,
    "password-reset-complete": EVERYONE,
}
# API operations, by "METHOD /path".
OPERATIONS = {
    "POST /api/login": EVERYONE,
    "POST /api/logout": ALL_STAFF,
    "POST /api/refresh": ALL_STAFF,
    "GET /api/user": ALL_STAFF,
    "GET /api/roles": {ADMIN},
    "POST /api/roles": {ADMIN},
    "GET /api/roles/permissions": {ADMIN},
    "GET /api/roles/{role_id}": {ADMIN},
    "PUT /api/roles/{role_id}": {ADMIN},
    "DELETE /api/roles/{role_id}": {ADMIN},
    "GET /api/health/ping": EVERYONE,
    "GET /api/health": EVERYONE,
    "GET /api/health/database": EVERYONE,
    "GET /api/health/security": {ADMIN},
    "GET /api/hotspot/sessions": {ADMIN, SUPPORT, TECHNICIAN},
    "POST /api/hotspot/sessions/{session_id}/disconnect": {ADMIN, SUPPORT},
    "GET /api/logs/sessions": {ADMIN, SUPPORT, TECHNICIAN},
    "GET /api/packages": {ADMIN, FINANCE, SUPPORT},
    "POST /api/packages": {ADMIN},
    "GET /api/packages/groups": {ADMIN, SUPPORT},
    "POST /api/packages/groups": {ADMIN},
    "GET /api/packages/{package_id}": {ADMIN, FINANCE, SUPPORT},
    "PUT /api/packages/{package_id}": {ADMIN},
    "DELETE /api/packages/{package_id}": {ADMIN},
    "POST /api/packages/{package_id}/activate": {ADMIN},
    "POST /api/packages/{package_id}/deactivate": {ADMIN},
    "GET /api/users": {ADMIN, FINANCE, SUPPORT},
    "POST /api/users": {ADMIN, SUPPORT},
    "GET /api/users/{customer_id}": {ADMIN, FINANCE, SUPPORT},
    "PUT /api/users/{customer_id}": {ADMIN, SUPPORT},
    # A PPPoE customer's service and fixed address (hotspot/api/pppoe.py): who views / changes customers.
    "GET /api/users/{customer_id}/pppoe": {ADMIN, FINANCE, SUPPORT},
    "PUT /api/users/{customer_id}/pppoe": {ADMIN, SUPPORT},
    "DELETE /api/users/{customer_id}": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/activate": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/deactivate": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/disconnect": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/extend": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/suspend": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/resume": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/cancel": {ADMIN, SUPPORT},
    "POST /api/users/{customer_id}/reset-password": {ADMIN, SUPPORT},
    "GET /api/hotspot/users": {ADMIN, FINANCE, SUPPORT},
    "POST /api/hotspot/users": {ADMIN, SUPPORT},
    "GET /api/hotspot/stats": {ADMIN, FINANCE, SUPPORT},
    "GET /api/hotspot/vouchers": {ADMIN, FINANCE, SUPPORT},
    "POST /api/hotspot/vouchers/generate": {ADMIN, SUPPORT},
    # Hotspot user profiles live on the routers (hotspot/api/profiles.py): their operators read and push them.
    "GET /api/hotspot/profiles": {ADMIN, TECHNICIAN},
    "POST /api/hotspot/profiles": {ADMIN, TECHNICIAN},
    "POST /api/portal/voucher": EVERYONE,
    "POST /api/purchase/mpesa/initiate": EVERYONE,
    "GET /api/purchase/mpesa/status": EVERYONE,
    "POST /api/purchase/package": EVERYONE,
    "POST /api/purchase/renew": EVERYONE,
    "GET /api/payments": {ADMIN, FINANCE, PAYMENTS_VIEWER},
    "POST /api/payments": {ADMIN, FINANCE},
    "GET /api/payments/{payment_id}": {ADMIN, FINANCE, PAYMENTS_VIEWER},
    "POST /api/payments/{payment_id}/verify": {ADMIN, FINANCE},
    "GET /api/logs/payments": {ADMIN, FINANCE},
    "GET /api/logs/activity": BUILT_IN,
    "GET /api/logs/system": {ADMIN, TECHNICIAN},
    "GET /api/queue/stats": {ADMIN, TECHNICIAN},
    "GET /api/queue/failed": {ADMIN, TECHNICIAN},
    "POST /api/queue/retry/{failure_id}": {ADMIN, TECHNICIAN},
    "GET /api/settings": {ADMIN, FINANCE},
    "GET /api/settings/{section}": {ADMIN, FINANCE},
    "PUT /api/settings/{section}": {ADMIN},
    "GET /api/routers": {ADMIN, TECHNICIAN},
    "POST /api/routers": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/status": {ADMIN, TECHNICIAN},
    "PUT /api/routers/{router_id}": {ADMIN, TECHNICIAN},
    "DELETE /api/routers/{router_id}": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/test": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/provision": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/backup": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/backups": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/restore": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/reboot": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/stats": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/logs": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/kick": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/drift": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/sync": {ADMIN, TECHNICIAN},
    # Router services (routers/api/services.py): the ports and the hotspot/PPPoE services we run.
    "GET /api/routers/{router_id}/interfaces": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/services": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/services": {ADMIN, TECHNICIAN},
    "PATCH /api/routers/{router_id}/services/{service_id}": {ADMIN, TECHNICIAN},
    "DELETE /api/routers/{router_id}/services/{service_id}": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/services/{service_id}/start": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/services/{service_id}/stop": {ADMIN, TECHNICIAN},
    "GET /api/health/routers": {ADMIN, TECHNICIAN},
    # WireGuard tunnels (routers/api/vpn.py)
    "POST /api/routers/{router_id}/vpn": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/vpn": {ADMIN, TECHNICIAN},
    "GET /api/routers/{router_id}/vpn/onboarding.rsc": {ADMIN, TECHNICIAN},
    "POST /api/routers/{router_id}/vpn/activate": {ADMIN, TECHNICIAN},
    "GET /api/vpn/server.conf": {ADMIN, TECHNICIAN},
    "POST /api/settings/mpesa/test": {ADMIN},
    "POST /api/settings/sms/test": {ADMIN},
    "POST /api/settings/email/test": {ADMIN},
    "GET /api/reports/revenue": {ADMIN, FINANCE},
    "GET /api/reports/usage": {ADMIN, FINANCE, TECHNICIAN},
    "GET /api/reports/logins": {ADMIN, FINANCE},
    "GET /api/reports/customers": {ADMIN, FINANCE},
    # Tickets (monitoring/api/tickets.py): every built-in role reads the ones of its areas (a ticket
    # it may not see is a 404: monitoring.tickets.access); Support opens them; those who work them
    # change them; Finance adds internal notes (a reply from Finance is refused: 403).
    "GET /api/tickets": BUILT_IN,
    "POST /api/tickets": {ADMIN, SUPPORT},
    "GET /api/tickets/{number}": BUILT_IN,
    "PATCH /api/tickets/{number}": {ADMIN, SUPPORT, TECHNICIAN},
    "POST /api/tickets/{number}/messages": BUILT_IN,
}


@pytest.fixture
def personas(admin, finance_clerk, support_agent, technician, payments_viewer):
    return {ADMIN: admin, FINANCE: finance_clerk, SUPPORT: support_agent, TECHNICIAN: technician,
            PAYMENTS_VIEWER: payments_viewer}


def concrete(route: str) -> str:
    """A real path for a route pattern: every converter gets a value that matches it."""
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: "999999" if m.group(1) in (None, "int") else "x", route)


def page_cases():
    for route, pattern in iter_patterns():
        if is_api_operation_view(pattern.callback):
            continue
        name = pattern.name
        namespace = "api:" if route.startswith("api/") else ""
        yield f"{namespace}{name}", concrete(route)


def test_every_page_is_in_the_table():
    names = {name for name, _ in page_cases()}
    assert names - PAGES.keys() == set(), "new URLs need a row in PAGES (and an access rule)"
    assert PAGES.keys() - names == set(), "PAGES lists URLs that no longer exist"


def test_every_api_operation_is_in_the_table():
    keys = {f"{method} {route}" for route, method, _ in iter_api_operations()}
    assert keys - OPERATIONS.keys() == set(), "new API operations need a row in OPERATIONS"
    assert OPERATIONS.keys() - keys == set(), "OPERATIONS lists operations that no longer exist"


@pytest.mark.django_db
def test_pages_admit_exactly_the_roles_in_the_table(client, personas):
    for name, url in page_cases():
        allowed = PAGES[name]
        response = client.get(url)
        if allowed == EVERYONE:
            assert response.status_code not in (401, 403), (name, response.status_code)
            continue
        if url.startswith("/api/") and name != "api:openapi-view":
            assert response.status_code == 401, (name, "anonymous")
        else:
            assert response.status_code == 302 and response.url.startswith("/login/?next="), (name, "anonymous")
        for role, user in personas.items():
            client.force_login(user)
            status = client.get(url).status_code
            client.logout()
            if role in allowed:
                assert status not in (302, 401, 403), (name, role, status)
            else:
                assert status == 403, (name, role, status)


@pytest.mark.django_db
def test_api_operations_admit_exactly_the_roles_in_the_table(client, personas):
    for route, method, _ in iter_api_operations():
        key = f"{method} {route}"
        allowed = OPERATIONS[key]
        call = getattr(client, method.lower())
        url = re.sub(r"\{\w+\}", "999999", route)
        response = call(url, content_type="application/json")
        if allowed == EVERYONE:
            assert response.status_code not in (401, 403), (key, response.status_code)
            continue
        assert response.status_code == 401, (key, "anonymous", response.status_code)
        assert response.json()["detail"].startswith("Authentication required")
        for role, user in personas.items():
            status = call(url, content_type="application/json", **bearer(user)).status_code
            if role in allowed:
                assert status not in (401, 403), (key, role, status)
            else:
                assert status == 403, (key, role, status)


# Tickets, per ticket: beyond the URL rules above, what each role may do with a ticket of each kind
# (monitoring.tickets.access). NONE: the ticket does not exist for them (a 404; 403 without any
# ticket permission); NOTES: read it, its internal notes included, and add notes, but never answer
# the customer nor change it; WORK: answer and change it too.
NONE, NOTES, WORK = "none", "notes", "work"
TICKET_RULES = {
    "router": {ADMIN: WORK, SUPPORT: WORK, TECHNICIAN: WORK, FINANCE: NONE, PAYMENTS_VIEWER: NONE},
    "payment": {ADMIN: WORK, SUPPORT: WORK, TECHNICIAN: NONE, FINANCE: NOTES, PAYMENTS_VIEWER: NONE},
    "billing": {ADMIN: WORK, SUPPORT: WORK, TECHNICIAN: NONE, FINANCE: NOTES, PAYMENTS_VIEWER: NONE},
    "slow": {ADMIN: WORK, SUPPORT: WORK, TECHNICIAN: NONE, FINANCE: NONE, PAYMENTS_VIEWER: NONE},
    "slow, assigned to the technician": {ADMIN: WORK, SUPPORT: WORK, TECHNICIAN: WORK, FINANCE: NONE,
                                         PAYMENTS_VIEWER: NONE},
}


@pytest.mark.django_db
def test_each_role_does_with_each_kind_of_ticket_exactly_what_the_table_says(client, personas):
    from monitoring.tickets import services as tickets

    opened = {}
    for kind in TICKET_RULES:
        category = kind.split(",")[0]
        ticket = tickets.open_ticket(personas[SUPPORT], f"A {kind} problem", category, "normal", phone="0712000333",
                                     assignee=personas[TECHNICIAN] if "assigned" in kind else None)
        tickets.note(ticket, personas[SUPPORT], "desk only")
        opened[kind] = ticket.number
    for kind, roles in TICKET_RULES.items():
        url = f"/api/tickets/{opened[kind]}"
        for role, may in roles.items():
            auth = {"content_type": "application/json", **bearer(personas[role])}
            read = client.get(url, **auth)
            noted = client.post(f"{url}/messages", {"body": "seen", "internal": True}, **auth)
            answered = client.post(f"{url}/messages", {"body": "We are on it"}, **auth)
            changed = client.patch(url, {"priority": "high"}, **auth)
            what = (kind, role)
            if may == NONE:
                assert {read.status_code, noted.status_code, answered.status_code, changed.status_code} <= {403, 404}, \
                    (what, read.status_code, noted.status_code, answered.status_code, changed.status_code)
                continue
            assert read.status_code == 200 and "desk only" in [m["body"] for m in read.json()["messages"]], what
            assert noted.status_code == 201, what
            if may == NOTES:
                assert (answered.status_code, changed.status_code) == (403, 403), what
            else:
                assert (answered.status_code, changed.status_code) == (201, 200), what


def test_the_system_check_passes_for_the_project():
    assert [e for e in checks.run_checks() if e.id == "accounts.E001"] == []


def unguarded(request):
    return HttpResponse("should never be served")


class RULELESS_URLCONF:  # a urlconf needs only a hashable object with urlpatterns
    urlpatterns = [path("ruleless/", unguarded, name="ruleless")]


@pytest.mark.django_db
def test_a_view_without_a_rule_is_refused_and_reported(admin_client):
    with override_settings(ROOT_URLCONF=RULELESS_URLCONF):
        assert admin_client.get("/ruleless/").status_code == 403
        errors = [e for e in checks.run_checks() if e.id == "accounts.E001"]
        assert [e.msg for e in errors] == ["URL 'ruleless/' (ruleless) has no access rule"]
