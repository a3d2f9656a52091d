"""The mark on everything we write on a router, so provisioning, drift checks and the WireGuard
onboarding script can tell our items from the operator's own."""

TAG = "hotspot-billing"
# Items the WireGuard onboarding script owns (routers/wireguard.py): provisioning leaves them be,
# e.g. the firewall rule that lets our server in over the tunnel.
ONBOARDING = f"{TAG}: wireguard"
# Items of the router services we run (routers.service_provisioning): each service's own carry
# "hotspot-billing: service <name>: <purpose>", what they share "hotspot-billing: services: <purpose>".
# Provisioning's other steps leave them be; each service's step keeps (and removes) only its own.
SERVICES = f"{TAG}: service"
# Comments that belong to one owner's scope, never to the unscoped steps.
SCOPED = (ONBOARDING, SERVICES)


def tagged(purpose: str) -> str:
    return f"{TAG}: {purpose}"


def service_scope(name: str) -> str:
    """The comment prefix of the items of the managed service ``name``."""
    return f"{SERVICES} {name}: "


def service_tagged(name: str, purpose: str) -> str:
    return f"{service_scope(name)}{purpose}"


SHARED_SCOPE = f"{SERVICES}s: "


def shared_tagged(purpose: str) -> str:
    """An item all our services share (the DNS guard rules)."""
    return f"{SHARED_SCOPE}{purpose}"
