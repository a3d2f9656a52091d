"""The captive portal's words in English and Kiswahili (two languages, one small table: no
gettext toolchain needed on the router-facing path)."""
from siteconfig import store

TEXT = {
    "title": {"en": "Get online", "sw": "Ingia mtandaoni"},
    "packages": {"en": "Packages", "sw": "Vifurushi"},
    "voucher": {"en": "Have a voucher?", "sw": "Una vocha?"},
    "code": {"en": "Voucher code", "sw": "Nambari ya vocha"},
    "use_voucher": {"en": "Use voucher", "sw": "Tumia vocha"},
    "account": {"en": "Already a customer?", "sw": "Tayari ni mteja?"},
    "phone": {"en": "Phone number", "sw": "Nambari ya simu"},
    "password": {"en": "Password", "sw": "Nenosiri"},
    "sign_in": {"en": "Sign in", "sw": "Ingia"},
    "my_account": {"en": "My account: payments, devices, password", "sw": "Akaunti yangu: malipo, vifaa, nenosiri"},
    "connect": {"en": "Connect now", "sw": "Unganisha sasa"},
    "connecting": {"en": "You're all set. Connecting this device…",
                   "sw": "Uko tayari. Tunaunganisha kifaa hiki…"},
    "status": {"en": "Your internet", "sw": "Intaneti yako"},
    "time_left": {"en": "Time left", "sw": "Muda uliobaki"},
    "data_left": {"en": "Data left", "sw": "Data iliyobaki"},
    "unlimited": {"en": "Unlimited", "sw": "Bila kikomo"},
    "until": {"en": "Until", "sw": "Hadi"},
    # Fair use (issue 20): the status page and the account page, from hotspot.fair_use.standing
    "used_today": {"en": "Today: used", "sw": "Leo: umetumia"},
    "used_period": {"en": "This package: used", "sw": "Kifurushi hiki: umetumia"},
    "left_word": {"en": "left", "sw": "imebaki"},
    "speed_now": {"en": "Speed now", "sw": "Kasi sasa"},
    "speed_full": {"en": "Full speed", "sw": "Kasi kamili"},
    "speed_slowed": {"en": "Slowed down: your data allowance is used up",
                     "sw": "Kasi imepunguzwa: kiwango chako cha data kimeisha"},
    "speed_boosted": {"en": "Boosted to full speed until", "sw": "Kasi kamili kwa nyongeza hadi"},
    # Slowed (or nearly): the status page leads to the boosts, bought on the account page.
    "buy_boost": {"en": "Buy a boost", "sw": "Nunua nyongeza"},
    "buy_boost_hint": {"en": "Full speed back at once: a boost adds to your package. Sign in to My account to buy "
                             "one.",
                       "sw": "Kasi kamili inarudi mara moja: nyongeza huongezwa kwenye kifurushi chako. Ingia "
                             "kwenye Akaunti yangu uinunue."},
    "no_access": {"en": "No active package on this account.", "sw": "Hakuna kifurushi hai kwenye akaunti hii."},
    "wrong_login": {"en": "Wrong phone number, username or password.",
                    "sw": "Nambari ya simu, jina la mtumiaji au nenosiri si sahihi."},
    "phone_or_username": {"en": "Phone number or username", "sw": "Nambari ya simu au jina la mtumiaji"},
    "username": {"en": "Username", "sw": "Jina la mtumiaji"},
    "bad_phone": {"en": "Enter a phone number like 0712 345 678.",
                  "sw": "Andika nambari ya simu kama 0712 345 678."},
    "too_many": {"en": "Too many attempts. Wait a little, then try again.",
                 "sw": "Majaribio mengi mno. Subiri kidogo, kisha ujaribu tena."},
    "unknown": {"en": "This voucher code does not exist. Check it and try again.",
                "sw": "Nambari hii ya vocha haipo. Iangalie na ujaribu tena."},
    "used": {"en": "This voucher has already been used.", "sw": "Vocha hii imeshatumika."},
    "expired": {"en": "This voucher has expired.", "sw": "Muda wa vocha hii umekwisha."},
    "revoked": {"en": "This voucher has been cancelled.", "sw": "Vocha hii imefutwa."},
    "buy": {"en": "Buy a package", "sw": "Nunua kifurushi"},
    "pay": {"en": "Pay with M-Pesa", "sw": "Lipa kwa M-Pesa"},
    "mpesa_phone": {"en": "M-Pesa phone number", "sw": "Nambari ya simu ya M-Pesa"},
    "waiting": {"en": "Check your phone", "sw": "Angalia simu yako"},
    "enter_pin": {"en": "Enter your M-Pesa PIN on the prompt sent to",
                  "sw": "Weka PIN yako ya M-Pesa kwenye ombi lililotumwa kwa"},
    "waiting_note": {"en": "This page updates by itself when the payment arrives. You can close it: "
                             "\"Already paid?\" on the first page finds your payment.",
                     "sw": "Ukurasa huu utajisasisha malipo yakifika. Unaweza kuufunga: "
                           "\"Umeshalipa?\" kwenye ukurasa wa kwanza utapata malipo yako."},
    "refresh": {"en": "Check again", "sw": "Angalia tena"},
    "already_paid": {"en": "Already paid?", "sw": "Umeshalipa?"},
    "already_paid_hint": {"en": "Enter the phone number you paid with. From another device, add the M-Pesa "
                                  "code from your SMS.",
                          "sw": "Andika nambari uliyolipia. Kutoka kifaa kingine, ongeza nambari ya M-Pesa "
                                "kutoka kwenye SMS yako."},
    "mpesa_code": {"en": "M-Pesa code (e.g. TK3A1B2C3D)", "sw": "Nambari ya M-Pesa (mfano TK3A1B2C3D)"},
    "find_payment": {"en": "Find my payment", "sw": "Tafuta malipo yangu"},
    "cancelled": {"en": "The payment was cancelled on the phone. Try again when ready.",
                  "sw": "Malipo yalisitishwa kwenye simu. Jaribu tena ukiwa tayari."},
    "timed_out": {"en": "No answer from the phone in time. Try again, and keep the phone unlocked.",
                  "sw": "Hakuna jibu kutoka kwa simu kwa wakati. Jaribu tena, simu ikiwa wazi."},
    "payment_failed": {"en": "M-Pesa did not take the payment (check your balance). Try again.",
                       "sw": "M-Pesa haikupokea malipo (angalia salio lako). Jaribu tena."},
    "mpesa_unavailable": {"en": "M-Pesa is not answering right now. Try again in a minute.",
                          "sw": "M-Pesa haipatikani kwa sasa. Jaribu tena baada ya dakika moja."},
    "no_package": {"en": "Choose a package.", "sw": "Chagua kifurushi."},
    "needs_subscription": {"en": "A boost adds to a running package: buy a package first.",
                           "sw": "Nyongeza huongezwa kwenye kifurushi kinachoendelea: nunua kifurushi kwanza."},
    "account_inactive": {"en": "This account is closed. Ask the shop for help.",
                         "sw": "Akaunti hii imefungwa. Omba msaada dukani."},
    "no_payment": {"en": "No recent payment from this number.",
                   "sw": "Hakuna malipo ya hivi karibuni kutoka nambari hii."},
    "need_code": {"en": "We found a payment from this number. Enter the M-Pesa code from your SMS to use it "
                          "on this device.",
                  "sw": "Tumepata malipo kutoka nambari hii. Weka nambari ya M-Pesa kutoka kwenye SMS ili "
                        "kuyatumia kwenye kifaa hiki."},
    "code_mismatch": {"en": "That M-Pesa code does not match a payment from this number.",
                      "sw": "Nambari hiyo ya M-Pesa hailingani na malipo kutoka nambari hii."},
    "paid_to_wallet": {"en": "Payment received into your account balance.",
                       "sw": "Malipo yamepokelewa kwenye salio la akaunti yako."},
    "invoice_closed": {"en": "This invoice is already settled.", "sw": "Ankara hii imeshalipwa."},
    "nothing_to_renew": {"en": "This number has not bought a package before.",
                         "sw": "Nambari hii haijanunua kifurushi hapo awali."},
    "insufficient_balance": {"en": "Your balance is too low for this package.",
                             "sw": "Salio lako halitoshi kwa kifurushi hiki."},
    "closed": {"en": "That is not offered on this network. Ask the shop for help.",
               "sw": "Huduma hiyo haipatikani kwenye mtandao huu. Omba msaada dukani."},
    "help": {"en": "Help", "sw": "Msaada"},
    "terms": {"en": "Terms of service", "sw": "Masharti ya huduma"},
    "days": {"en": "days", "sw": "siku"}, "hours": {"en": "h", "sw": "saa"}, "minutes": {"en": "min", "sw": "dak"},
}
LANGUAGES = ("en", "sw")


def language(request) -> str:
    """A switch (?lang=) wins, then the cookie it set, then the business's portal language
    (general.language) once it is chosen in the settings or the environment, then the browser's
    preference."""
    chosen = request.GET.get("lang") or request.COOKIES.get("portal_lang")
    if chosen in LANGUAGES:
        return chosen
    if store.source("general.language").kind != "default" and store.get("general.language") in LANGUAGES:
        return store.get("general.language")
    accept = request.headers.get("Accept-Language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def words(lang: str) -> dict:
    return {key: values[lang] for key, values in TEXT.items()}
