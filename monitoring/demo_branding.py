"""The demo's business as customers see it: name, support phone, welcome, colour and a drawn logo,
saved through the settings store like an operator's own (so the portal, the sign-in page and the
SMS receipts show them). A business already named in the settings is left as it is."""
from siteconfig import logo, store

NAME = "Kilimani WiFi"  # the demo's routers are Kilimani Hotspot and its neighbours
COLOUR = "#0b7a75"
# Three Wi-Fi arcs over a dot on a rounded tile: shapes only, as siteconfig.logo requires; the name
# is written beside it by each page.
LOGO = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="48" height="48">
<title>{NAME}</title>
<rect width="48" height="48" rx="11" fill="{COLOUR}"/>
<g fill="none" stroke="#fff" stroke-width="4.2" stroke-linecap="round">
<path d="M8 21a22.5 22.5 0 0 1 32 0"/><path d="M14 27.5a14 14 0 0 1 20 0"/><path d="M19.5 33.5a6.5 6.5 0 0 1 9 0"/>
</g><circle cx="24" cy="38.5" r="3.2" fill="#fff"/>
</svg>
""".encode()


def seed_branding() -> bool:
    """Brand the demo unless the business is already named; True when it did."""
    if store.source("general.business_name").kind == "saved":
        return False
    store.save("general", {"business_name": NAME, "support_phone": "+254 700 123 456",
                           "support_email": "help@kilimani-wifi.example"}, note="demo")
    store.save("portal", {"primary_colour": COLOUR,
                          "welcome_text": "Karibu! Fast WiFi at Kilimani: pay with M-Pesa, online in seconds."},
               note="demo")
    logo.save(LOGO)
    return True
