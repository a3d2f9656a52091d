"""Staff roles: the four built-in ones, their permission patterns, and the custom ones an Admin makes.

Patterns are ``app_label.codename`` globs, so a role picks up the permissions of models that later
migrations add (Finance gets every ``billing.*`` permission the moment billing grows a model).
Groups are re-synced after every migrate; edit the patterns here, never the groups by hand.
Every other group is a custom role (its description in accounts.models.RoleProfile): it holds
exactly the permissions an Admin picked, and new models' permissions never reach it by themselves.
"""
from fnmatch import fnmatchcase

from django.contrib.auth.models import Group, Permission
from django.db.models import Case, Count, IntegerField, Q, Value, When

ADMIN = "Admin"
FINANCE = "Finance"
SUPPORT = "Support"
TECHNICIAN = "Technician"

ROLE_PATTERNS: dict[str, tuple[str, ...]] = {
    ADMIN: ("*",),
    FINANCE: (
        "billing.*",
        "monitoring.*report*",
        "hotspot.view_customer",
        "hotspot.view_package",
        "hotspot.view_subscription",
        "hotspot.view_voucher*",  # vouchers and batches: sold codes are money Finance counts
        "siteconfig.view_money_settings",  # reads (never changes) the M-Pesa and business settings
        "audit.view_entry",  # the entries about what the role may view (audit.trail.visible_to)
        "monitoring.view_incident",  # alerts: M-Pesa callbacks failing are theirs to chase
        # Payment and billing tickets (monitoring.tickets.access): read, and internal notes to the
        # desk; answering the customer stays Support's.
        "monitoring.view_ticket",
        "routers.view_routersamplehour",  # the traffic report: what the network carried, beside the money
    ),
    SUPPORT: (
        "hotspot.*customer",
        "hotspot.*subscription",
        "hotspot.*voucher*",
        "hotspot.view_package*",
        "radius.view_*",
        "radius.disconnect_*",
        "monitoring.*ticket*",
        "audit.view_entry",
        "monitoring.view_incident",  # alerts: a router down is what customers will be calling about
        # Not billing.view_payment: a customer's own payments show on their page (customer-payments,
        # ruled by hotspot.view_customer); all payments, exports, the M-Pesa log and settings are Finance's.
    ),
    TECHNICIAN: (
        "routers.*",
        "radius.*nas*",
        "radius.view_*",
        "monitoring.view_taskfailure",
        "monitoring.change_taskfailure",  # retry or dismiss a failed job: the jobs are idempotent
        "monitoring.view_incident",
        "monitoring.change_incident",  # acknowledge an incident (stops its reminders): they are on call
        "audit.view_entry",
        "audit.view_logrecord",  # the system log: routers and jobs are where most warnings come from
        # Router tickets and those assigned to them (monitoring.tickets.access): read, answer, change.
        "monitoring.view_ticket",
        "monitoring.change_ticket",
    ),
}
ROLES = tuple(ROLE_PATTERNS)
ROLE_DESCRIPTIONS = {
    ADMIN: "Everything, including staff accounts and settings",
    FINANCE: "Payments, invoices and reports",
    SUPPORT: "Customers, sessions, vouchers and tickets",
    TECHNICIAN: "Routers, access points and provisioning",
}


def role_grants(role: str, perm_name: str) -> bool:
    return any(fnmatchcase(perm_name, pattern) for pattern in ROLE_PATTERNS[role])


def sync_roles(app_label: str | None = None) -> None:
    """Make each role group hold exactly the permissions its patterns match (for one app or all)."""
    perms = Permission.objects.select_related("content_type")
    if app_label:
        perms = perms.filter(content_type__app_label=app_label)
    perms = list(perms)
    # A handful of queries whatever the number of roles: this runs once per app on every migrate
    # (and after every flush of a test database), where a query per role and app added up to seconds.
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    created = Group.objects.bulk_create([Group(name=role) for role in ROLES if role not in groups])
    groups.update((g.name, g) for g in created)
    if not perms:
        return
    grant = Group.permissions.through
    wanted = {(groups[role].pk, p.pk) for role in ROLES for p in perms
              if role_grants(role, f"{p.content_type.app_label}.{p.codename}")}
    held = set(grant.objects.filter(group__in=groups.values(), permission__in=perms)
               .values_list("group_id", "permission_id"))
    grant.objects.bulk_create([grant(group_id=g, permission_id=p) for g, p in wanted - held])
    surplus = held - wanted
    for group_id in {g for g, _ in surplus}:
        grant.objects.filter(group_id=group_id, permission_id__in=[p for g, p in surplus if g == group_id]).delete()


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if Permission._meta.db_table not in _tables(using):
        return
    sync_roles(app_config.label if app_config else None)


def _tables(using: str) -> list[str]:
    from django.db import connections

    return connections[using].introspection.table_names()


def is_built_in(group: Group) -> bool:
    return group.name in ROLE_PATTERNS


def is_built_in_name(name: str) -> bool:
    return name.strip().casefold() in {role.casefold() for role in ROLES}


def description_of(group: Group) -> str:
    if is_built_in(group):
        return ROLE_DESCRIPTIONS[group.name]
    profile = getattr(group, "role_profile", None)  # a missing one-to-one raises an AttributeError
    return profile.description if profile else ""


def role_groups():
    """Every role: the built-in ones first, then the custom ones, each by name."""
    return (Group.objects.select_related("role_profile")
            .annotate(custom=Case(When(name__in=ROLES, then=Value(0)), default=Value(1), output_field=IntegerField()))
            .order_by("custom", "name"))


_active_member = Q(user__is_active=True)


def roles_with_counts():
    """role_groups() with each one's active members and permissions counted in the same query."""
    return role_groups().annotate(members=Count("user", distinct=True, filter=_active_member),
                                  permission_count=Count("permissions", distinct=True))
