"""The mark on everything we write on a router, so provisioning, drift checks and the WireGuard
onboarding script can tell our items from the operator's own."""

TAG = "hotspot-billing"
# Items the WireGuard onboarding script owns (routers/wireguard.py): provisioning leaves them be,
# e.g. the firewall rule that lets our server in over the tunnel.
ONBOARDING = f"{TAG}: wireguard"


def tagged(purpose: str) -> str:
    return f"{TAG}: {purpose}"
