"""The customer account pages' words in English and Kiswahili (``a`` in their templates; the
portal's own words stay ``t``). One table for every app's account pages: each app's words under
its heading."""

ACCOUNT_TEXT = {
    # --- the frame (hotspot.account, templates/portal/account/base.html)
    "account": {"en": "My account", "sw": "Akaunti yangu"},
    "home": {"en": "Account", "sw": "Akaunti"},
    "tickets": {"en": "Help", "sw": "Msaada"},
    "password": {"en": "Password", "sw": "Nenosiri"},
    "sign_out": {"en": "Sign out", "sw": "Toka"},
    # --- hotspot: signing in, the password, devices (hotspot.views.portal_account)
    "devices": {"en": "Devices", "sw": "Vifaa"},
    "device_online": {"en": "Connected now", "sw": "Kimeunganishwa sasa"},
    "device_last_seen": {"en": "Last seen", "sw": "Kilionekana mwisho"},
    "device_last_portal": {"en": "Last used to buy or sign in", "sw": "Kilitumika mwisho kununua au kuingia"},
    "device_sign_out": {"en": "Sign this device out", "sw": "Ondoa kifaa hiki"},
    "no_devices": {"en": "No device has used this account in the last 90 days.",
                   "sw": "Hakuna kifaa kilichotumia akaunti hii katika siku 90 zilizopita."},
    # --- billing: subscription, wallet, payments, invoices (billing.views.portal_account)
    # --- monitoring: tickets (monitoring.views.portal_tickets)
}
