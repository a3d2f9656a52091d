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
    # --- billing: subscription, wallet, payments, invoices (billing.views.portal_account)
    # --- monitoring: tickets (monitoring.views.portal_tickets)
}
