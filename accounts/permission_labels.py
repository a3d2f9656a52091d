"""Permissions in an ISP's words, grouped by area, for the role editor (page and API).

Django names a permission after its model ("Can change rad check"); an operator picking what a role
may do needs "Change the RADIUS users' attributes". Every model's permissions are either labelled
here (through its model's noun, or one by one where the words must say more) or hidden as internals
nobody grants by hand; tests/test_roles.py fails for a model that is neither, and anything else still
shows under "Other" with its Django name, so nothing a role holds is ever invisible.
"""
from dataclasses import dataclass
from fnmatch import fnmatchcase

CUSTOMERS = "Customers & subscriptions"
PACKAGES = "Packages"
VOUCHERS = "Vouchers"
PAYMENTS = "Payments & invoices"
MPESA = "M-Pesa log"
REPORTS = "Reports"
ROUTERS = "Routers & access points"
RADIUS = "RADIUS sessions & NAS"
TICKETS = "Tickets"
LOGS = "Activity, audit & logs"
SETTINGS = "Settings"
STAFF = "Staff"
OTHER = "Other"
AREAS = (CUSTOMERS, PACKAGES, VOUCHERS, PAYMENTS, MPESA, REPORTS, ROUTERS, RADIUS, TICKETS, LOGS, SETTINGS,
         STAFF, OTHER)

# Django's and libraries' own bookkeeping: no page or endpoint of ours checks these, and the role
# editor itself stands in for auth's group and permission models.
HIDDEN = (
    "contenttypes.*", "sessions.*", "admin.*", "auth.*", "django_celery_beat.*",
    # Each staff member's own two-factor devices, enrolled and reset through the sign-in pages.
    "otp_totp.*", "otp_static.*", "django_otp.*",
    # Rows only the system writes: the trail and system log are append-only records, tokens are
    # issued by signing in, samples by the polling jobs.
    "audit.add_*", "audit.change_*", "audit.delete_*",
    "accounts.*_apitoken", "accounts.*_user", "accounts.*_roleprofile",
    "routers.*_routersample", "monitoring.*_usersonlinesample",
    # Prepared exports are each staff member's own files (ruled by the exported list's permission).
    "monitoring.*_exportjob",
    # Database backups are made by the job (or Back up now: add) and removed by retention, never edited.
    "monitoring.change_databasebackup", "monitoring.delete_databasebackup",
    # Alerts: incidents are opened by the evaluator, each staff member keeps their own subscription
    # (ruled by view_incident), and the messages and rule states are the evaluator's bookkeeping.
    "monitoring.add_incident", "monitoring.delete_incident", "monitoring.*_alertsubscription",
    "monitoring.*_alertmessage", "monitoring.*_alertrule",
    # Rows our own workflows write as a side effect of what a person does (provision, disconnect,
    # buy, a callback arriving): what a person may do is the permission on the workflow (change a
    # router, disconnect a session, record a payment). Their view_* stay offered: the activity
    # page shows a role the entries about what it may view.
    *(f"{app}.{verb}_{model}" for verb in ("add", "change", "delete") for app, model in (
        ("radius", "radcheck"), ("radius", "radreply"), ("radius", "radgroupcheck"), ("radius", "radgroupreply"),
        ("radius", "radusergroup"), ("radius", "radacct"), ("radius", "radpostauth"), ("radius", "nas"),
        ("radius", "nasreload"), ("radius", "nascoaport"), ("radius", "coaattempt"),
        ("routers", "provisioningjob"), ("routers", "servicecontrollog"), ("routers", "routerservice"),
        ("routers", "routerbackup"), ("routers", "wireguardserver"), ("routers", "routervpnconfig"),
        ("billing", "mpesacallback"), ("billing", "notification"), ("billing", "paymentreminder"),
        ("billing", "ledgerentry"), ("monitoring", "taskfailure"))
      if (app, model, verb) != ("monitoring", "taskfailure", "change")),
    # Kept by the system alone: a wallet's stored balance follows its ledger (database triggers;
    # seeing it is seeing the ledger), a session's fair-use slowdown is the job's claim, and inbound
    # SMS are written by the webhook and shown on /tickets/sms/ to those who see every ticket.
    "billing.*_wallet", "radius.*_sessionslowdown", "monitoring.*_inboundsms",
    # Boosts are written by the payment path (buying a boost package: its permission is the package's
    # and the payment's), their RADIUS rows with them, and the allowance SMS marks by the job.
    "hotspot.*_boost", "radius.*_databoost", "billing.*_allowancealert",
    # Report rollups are summary rows kept by the refresh job (lib.rollups); only reading them is granted.
    *(f"{app}.{verb}_{model}" for verb in ("add", "change", "delete") for app, model in (
        ("billing", "paymentday"), ("billing", "customerday"), ("billing", "cohortmonth"),
        ("hotspot", "usageday"), ("hotspot", "loginhour"), ("hotspot", "loginday"),
        ("billing", "paymenttotal"), ("billing", "usagetotal"), ("billing", "customerusagemonth"),
        ("billing", "customerusagerunning"), ("billing", "customerusagerecent"))),
    # Money is never deleted: a payment is reversed, an invoice cancelled.
    "billing.delete_payment", "billing.delete_invoice",
)

# app_label.model -> (area, what its rows are, plural). The four standard permissions read
# "View / Add / Change / Delete <noun>".
MODELS: dict[str, tuple[str, str]] = {
    "hotspot.customer": (CUSTOMERS, "customers"),
    "hotspot.subscription": (CUSTOMERS, "subscriptions"),
    "hotspot.package": (PACKAGES, "packages"),
    "hotspot.packagegroup": (PACKAGES, "package groups"),
    "hotspot.voucherbatch": (VOUCHERS, "voucher batches"),
    "hotspot.voucher": (VOUCHERS, "vouchers"),
    "billing.payment": (PAYMENTS, "payments"),
    "billing.invoice": (PAYMENTS, "invoices"),
    "billing.ledgerentry": (PAYMENTS, "wallets and their ledger"),
    "billing.paymentreminder": (PAYMENTS, "payment reminders"),
    "billing.notification": (PAYMENTS, "SMS messages to customers"),
    "billing.mpesacallback": (MPESA, "M-Pesa callbacks"),
    "billing.expense": (REPORTS, "expenses"),
    "billing.paymentday": (REPORTS, "revenue per day (report summary)"),
    "billing.customerday": (REPORTS, "new, returning and churned customers (report summary)"),
    "billing.cohortmonth": (REPORTS, "customer cohorts by month (report summary)"),
    "hotspot.usageday": (REPORTS, "data usage per day (report summary)"),
    "hotspot.loginhour": (REPORTS, "sign-ins per hour (report summary)"),
    "hotspot.loginday": (REPORTS, "unique users per day (report summary)"),
    "billing.paymenttotal": (REPORTS, "revenue per day and month, summed ahead (report summary)"),
    "billing.usagetotal": (REPORTS, "data usage per day and month, summed ahead (report summary)"),
    "billing.customerusagemonth": (REPORTS, "each customer's data usage per month (report summary)"),
    "billing.customerusagerunning": (REPORTS, "each customer's downloads added up month by month (report summary)"),
    "billing.customerusagerecent": (REPORTS, "each customer's recent downloads day by day (report summary)"),
    "monitoring.ticket": (TICKETS, "tickets"),
    "routers.router": (ROUTERS, "routers"),
    "routers.accesspoint": (ROUTERS, "access points"),
    "routers.routerservice": (ROUTERS, "router services (hotspot and PPPoE servers)"),
    "routers.provisioningjob": (ROUTERS, "provisioning runs"),
    "routers.routerbackup": (ROUTERS, "router backups"),
    "routers.servicecontrollog": (ROUTERS, "router action log"),
    "routers.wireguardserver": (ROUTERS, "the WireGuard server"),
    "routers.routervpnconfig": (ROUTERS, "routers' WireGuard tunnels"),
    "radius.radacct": (RADIUS, "sessions (online now and history)"),
    "radius.nas": (RADIUS, "NAS devices (RADIUS clients)"),
    "radius.radpostauth": (RADIUS, "the RADIUS auth log"),
    "radius.radcheck": (RADIUS, "RADIUS users' check attributes"),
    "radius.radreply": (RADIUS, "RADIUS users' reply attributes"),
    "radius.radusergroup": (RADIUS, "RADIUS users' groups"),
    "radius.radgroupcheck": (RADIUS, "RADIUS groups' check attributes"),
    "radius.radgroupreply": (RADIUS, "RADIUS groups' reply attributes"),
    "radius.nasreload": (RADIUS, "NAS reload marks"),
    "radius.nascoaport": (RADIUS, "NAS Disconnect/CoA ports"),
    "radius.coaattempt": (RADIUS, "Disconnect/CoA attempts"),
    "monitoring.taskfailure": (LOGS, "failed jobs"),
    "audit.entry": (LOGS, "activity entries"),
    "audit.logrecord": (LOGS, "system log"),
    "siteconfig.value": (SETTINGS, "all settings"),
}
VERBS = {"view": "View", "add": "Add", "change": "Change", "delete": "Delete"}

# Where the words must say more than verb + noun: what the permission opens in this product.
LABELS: dict[str, tuple[str, str]] = {
    "hotspot.change_customer": (CUSTOMERS, "Change customers: edit, activate, deactivate, disconnect"),
    "hotspot.view_customer": (CUSTOMERS, "View customers (and each customer's own payments)"),
    "hotspot.change_package": (PACKAGES, "Change packages: edit, put on or take off sale"),
    "hotspot.add_voucher": (VOUCHERS, "Generate vouchers"),
    "hotspot.change_voucher": (VOUCHERS, "Cancel vouchers"),
    "billing.view_payment": (PAYMENTS, "View payments"),
    "billing.add_payment": (PAYMENTS, "Record cash payments and buy from a wallet"),
    "billing.change_payment": (PAYMENTS, "Verify payments with M-Pesa"),
    "billing.reverse_payment": (PAYMENTS, "Refund or reverse payments"),
    "billing.change_invoice": (PAYMENTS, "Cancel invoices and request their payment"),
    "billing.add_invoice": (PAYMENTS, "Issue invoices"),
    "billing.view_mpesacallback": (MPESA, "View the M-Pesa log (callbacks as received)"),
    "billing.view_revenue": (REPORTS, "See revenue totals and reports"),
    "routers.view_routersamplehour": (REPORTS, "See the traffic graphs (one router or all, 1 hour to 30 days)"),
    "routers.change_router": (ROUTERS, "Change routers and run their actions (test, provision, back up, "
                                       "restore, reboot, disconnect users)"),
    "radius.view_radacct": (RADIUS, "View sessions (online now and history)"),
    "radius.disconnect_session": (RADIUS, "Disconnect a customer's session"),
    "radius.view_radcheck": (RADIUS, "View RADIUS users (passwords masked)"),
    "monitoring.view_ticket": (TICKETS, "View tickets (of the role's areas and one's own) and add internal notes"),
    "monitoring.view_all_tickets": (TICKETS, "View every ticket, whatever its category or assignee"),
    "monitoring.add_ticket": (TICKETS, "Open tickets"),
    "monitoring.change_ticket": (TICKETS, "Answer the customer and change tickets (status, priority, assignee)"),
    "monitoring.change_taskfailure": (LOGS, "Retry or dismiss failed jobs"),
    "monitoring.view_databasebackup": (SETTINGS, "View the database backups' list"),
    "monitoring.download_databasebackup": (SETTINGS, "Download database backups (all customers and credentials)"),
    "monitoring.add_databasebackup": (SETTINGS, "Back up the database now"),
    "monitoring.view_incident": (LOGS, "View alerts (incidents) and choose one's own alert channels"),
    "monitoring.change_incident": (LOGS, "Acknowledge incidents (stops their reminders)"),
    "audit.view_entry": (LOGS, "View activity about what the role may view"),
    "audit.view_all_entries": (LOGS, "View all activity, whatever it is about"),
    "audit.view_logrecord": (LOGS, "View the system log"),
    "siteconfig.view_value": (SETTINGS, "View all settings"),
    "siteconfig.change_value": (SETTINGS, "Change settings"),
    "siteconfig.view_money_settings": (SETTINGS, "View the M-Pesa and business settings"),
    "accounts.manage_staff": (STAFF, "Manage staff and roles: add staff, assign roles, deactivate"),
    "accounts.view_security_report": (STAFF, "View the security health report"),
}


@dataclass(frozen=True)
class Labelled:
    name: str  # "app_label.codename", as has_perm() spells it
    area: str
    label: str


def is_hidden(name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in HIDDEN)


def describe(app_label: str, model: str, codename: str, django_name: str) -> Labelled:
    """A permission's area and words; an unknown model's under "Other" with its Django name."""
    name = f"{app_label}.{codename}"
    if name in LABELS:
        return Labelled(name, *LABELS[name])
    known = MODELS.get(f"{app_label}.{model}")
    if known is None:
        return Labelled(name, OTHER, f"{django_name} ({name})")
    area, noun = known
    verb = codename.split("_", 1)[0]
    if codename == f"{verb}_{model}" and verb in VERBS:
        return Labelled(name, area, f"{VERBS[verb]} {noun}")
    # A model's own extra permission: its Django name is already a sentence someone wrote for people.
    return Labelled(name, area, django_name.removeprefix("Can ").capitalize())


MODEL_ORDER = {model: n for n, model in enumerate(MODELS)}
VERB_ORDER = {verb: n for n, verb in enumerate(VERBS)}


def offered(permissions) -> list[Labelled]:
    """``permissions`` (Permission rows with content_type) that a role may be given: by area, then
    model by model (view, add, change, delete, then its own), so each area reads like a list of tasks."""
    found = []
    for p in permissions:
        name = f"{p.content_type.app_label}.{p.codename}"
        if not is_hidden(name):
            item = describe(p.content_type.app_label, p.content_type.model, p.codename, p.name)
            model = f"{p.content_type.app_label}.{p.content_type.model}"
            verb = VERB_ORDER.get(p.codename.split("_", 1)[0], len(VERBS))
            found.append(((AREAS.index(item.area), MODEL_ORDER.get(model, len(MODELS)), verb, item.label), item))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def by_area(labelled: list[Labelled]) -> list[tuple[str, list[Labelled]]]:
    """[(area, its permissions)] in area order, areas with none left out."""
    areas: dict[str, list[Labelled]] = {}
    for item in labelled:
        areas.setdefault(item.area, []).append(item)
    return [(area, areas[area]) for area in AREAS if area in areas]
