"""The captive portal's words in English and Kiswahili (two languages, one small table: no
gettext toolchain needed on the router-facing path)."""
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
    "connect": {"en": "Connect now", "sw": "Unganisha sasa"},
    "connecting": {"en": "You're all set. Connecting this device…",
                   "sw": "Uko tayari. Tunaunganisha kifaa hiki…"},
    "status": {"en": "Your internet", "sw": "Intaneti yako"},
    "time_left": {"en": "Time left", "sw": "Muda uliobaki"},
    "data_left": {"en": "Data left", "sw": "Data iliyobaki"},
    "unlimited": {"en": "Unlimited", "sw": "Bila kikomo"},
    "until": {"en": "Until", "sw": "Hadi"},
    "no_access": {"en": "No active package on this account.", "sw": "Hakuna kifurushi hai kwenye akaunti hii."},
    "wrong_login": {"en": "Wrong phone number or password.", "sw": "Nambari ya simu au nenosiri si sahihi."},
    "bad_phone": {"en": "Enter a phone number like 0712 345 678.",
                  "sw": "Andika nambari ya simu kama 0712 345 678."},
    "too_many": {"en": "Too many attempts. Try again in a few minutes.",
                 "sw": "Majaribio mengi mno. Jaribu tena baada ya dakika chache."},
    "unknown": {"en": "This voucher code does not exist. Check it and try again.",
                "sw": "Nambari hii ya vocha haipo. Iangalie na ujaribu tena."},
    "used": {"en": "This voucher has already been used.", "sw": "Vocha hii imeshatumika."},
    "expired": {"en": "This voucher has expired.", "sw": "Muda wa vocha hii umekwisha."},
    "revoked": {"en": "This voucher has been cancelled.", "sw": "Vocha hii imefutwa."},
    "buy_hint": {"en": "Pay with M-Pesa at the counter or ask for a voucher.",
                 "sw": "Lipa kwa M-Pesa kwenye kaunta au uombe vocha."},
    "days": {"en": "days", "sw": "siku"}, "hours": {"en": "h", "sw": "saa"}, "minutes": {"en": "min", "sw": "dak"},
}
LANGUAGES = ("en", "sw")


def language(request) -> str:
    """A switch (?lang=) wins, then the cookie it set, then the browser's preference."""
    chosen = request.GET.get("lang") or request.COOKIES.get("portal_lang")
    if chosen in LANGUAGES:
        return chosen
    accept = request.headers.get("Accept-Language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def words(lang: str) -> dict:
    return {key: values[lang] for key, values in TEXT.items()}
