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
    "sign_in_title": {"en": "Sign in to your account", "sw": "Ingia kwenye akaunti yako"},
    "sign_in_hint": {"en": "Use the phone number (or username) and password from your SMS.",
                     "sw": "Tumia nambari ya simu (au jina la mtumiaji) na nenosiri kutoka kwenye SMS yako."},
    "signed_out": {"en": "You are signed out.", "sw": "Umetoka kwenye akaunti."},
    "account_closed": {"en": "This account is closed, so it cannot be signed in to. Ask the shop for help.",
                       "sw": "Akaunti hii imefungwa, kwa hiyo huwezi kuingia. Omba msaada dukani."},
    "change_password": {"en": "Change your password", "sw": "Badilisha nenosiri lako"},
    "current_password": {"en": "Current password", "sw": "Nenosiri la sasa"},
    "new_password": {"en": "New password", "sw": "Nenosiri jipya"},
    "new_again": {"en": "New password again", "sw": "Nenosiri jipya tena"},
    "save_password": {"en": "Change password", "sw": "Badilisha nenosiri"},
    "password_rule": {"en": "A password is 6 to 32 letters and digits, without spaces or symbols.",
                      "sw": "Nenosiri ni herufi na tarakimu 6 hadi 32, bila nafasi wala alama."},
    "password_hint": {"en": "6 to 32 letters and digits. Capitals do not matter. Your devices use the new "
                            "password from their next sign-in; other browsers signed in here are signed out.",
                      "sw": "Herufi na tarakimu 6 hadi 32. Herufi kubwa au ndogo ni sawa. Vifaa vyako vitatumia "
                            "nenosiri jipya vikiingia tena; vivinjari vingine vilivyoingia hapa vitatolewa."},
    "password_changed": {"en": "Password changed. Use the new one from now on.",
                         "sw": "Nenosiri limebadilishwa. Tumia jipya kuanzia sasa."},
    "password_mismatch": {"en": "The two new passwords are not the same. Type them again.",
                          "sw": "Manenosiri mawili mapya hayalingani. Yaandike tena."},
    "password_wrong": {"en": "The current password is wrong.", "sw": "Nenosiri la sasa si sahihi."},
    "device_signed_out": {"en": "The device was signed out. It needs the password to connect again.",
                          "sw": "Kifaa kimeondolewa. Kitahitaji nenosiri kuunganisha tena."},
    "device_not_yours": {"en": "That device is not connected with your account, so nothing was changed.",
                         "sw": "Kifaa hicho hakijaunganishwa na akaunti yako, kwa hiyo hakuna kilichobadilishwa."},
    "device_not_confirmed": {"en": "We asked the router to sign the device out, but it did not confirm. "
                                   "Try again in a minute.",
                             "sw": "Tumeomba router kuondoa kifaa, lakini haijathibitisha. Jaribu tena baada ya "
                                   "dakika moja."},
    # --- billing: subscription, wallet, payments, invoices (billing.views.portal_account)
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
