"""The SMS texts customers get, as templates an Admin edits on the SMS settings page, in English and
Kiswahili. Each message may use only its own placeholders; a template is checked when it is saved,
so a typo is a form error on the page rather than a customer's SMS reading "{bogus}".

A placeholder with no value (a support phone nobody set) takes its whole sentence with it, so the
defaults may say "Help: {support_phone}." and still read well before the phone is set.
"""
import re
import string
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

COMMON = ("business", "support_phone")
# A sentence holding one of these with no value is left out of the SMS.
OPTIONAL = frozenset({"support_phone"})
LANGUAGES = (("en", "English"), ("sw", "Kiswahili"))
MAX_LENGTH = 300  # two SMS parts, with room for the values


@dataclass(frozen=True)
class Message:
    name: str
    label: str
    placeholders: tuple[str, ...]
    en: str
    sw: str

    def default(self, language: str) -> str:
        return self.sw if language == "sw" else self.en


MESSAGES = {m.name: m for m in (
    Message("receipt", "Receipt for a package", COMMON + ("amount", "receipt", "package", "expires"),
            en="{business}: Received {amount} ({receipt}) for {package}, valid until {expires}.",
            sw="{business}: Tumepokea {amount} ({receipt}) kwa kifurushi cha {package}. "
               "Kitatumika hadi {expires}."),
    Message("credentials", "Sign-in details (sent after the receipt for a package)",
            COMMON + ("username", "password", "package", "expires"),
            en="Login {username} / {password}. Thank you. Help: {support_phone}.",
            sw="Ingia kwa jina {username} na nenosiri {password}. Asante. Msaada: {support_phone}."),
    Message("topup", "Receipt for money into the wallet", COMMON + ("amount", "receipt"),
            en="{business}: Received {amount} ({receipt}) to your wallet. Thank you. Help: {support_phone}.",
            sw="{business}: Tumepokea {amount} ({receipt}); zimewekwa kwenye akaunti yako. Asante. "
               "Msaada: {support_phone}."),
    Message("expiry", "Expiry reminder", COMMON + ("package", "expires", "username"),
            en="{business}: Your {package} internet ends {expires}. Renew on the portal or pay M-Pesa to "
               "account {username}.",
            sw="{business}: Kifurushi chako cha intaneti ({package}) kitaisha {expires}. Ongeza muda kwenye "
               "ukurasa wa kuingia au lipa kwa M-Pesa kwa akaunti {username}."),
    Message("invoice", "Invoice reminder", COMMON + ("invoice", "amount", "package", "due"),
            en="{business}: Invoice {invoice}: {amount} for {package} is due {due}. Pay M-Pesa to account "
               "{invoice}.",
            sw="{business}: Ankara {invoice} ya {amount} kwa {package} inapaswa kulipwa kufikia {due}. Lipa kwa "
               "M-Pesa kwa akaunti {invoice}."),
    Message("overdue", "Overdue invoice", COMMON + ("invoice", "amount"),
            en="{business}: Invoice {invoice} ({amount}) is overdue. Pay M-Pesa to account {invoice} to keep "
               "your service. Help: {support_phone}.",
            sw="{business}: Muda wa kulipa ankara {invoice} ({amount}) umepita. Lipa kwa M-Pesa kwa akaunti "
               "{invoice} ili huduma yako iendelee. Msaada: {support_phone}."),
    Message("data_80", "80 % of a data allowance used", COMMON + ("package", "allowance", "left"),
            en="{business}: You have used 80 % of your {package} data ({allowance}); {left} left. Buy a boost "
               "on the portal, My account. Help: {support_phone}.",
            sw="{business}: Umetumia asilimia 80 ya data ya {package} ({allowance}); zimebaki {left}. Nunua "
               "nyongeza kwenye ukurasa wa kuingia, Akaunti yangu. Msaada: {support_phone}."),
    Message("data_100", "Data allowance used up: slowed down", COMMON + ("package", "allowance", "speed"),
            en="{business}: Your {package} data ({allowance}) is used up: your speed is now {speed} until the "
               "plan ends. Buy a boost for full speed on the portal, My account.",
            sw="{business}: Data ya {package} ({allowance}) imekwisha: kasi yako sasa ni {speed} hadi kifurushi "
               "kiishe. Nunua nyongeza upate kasi kamili kwenye ukurasa wa kuingia, Akaunti yangu."),
    Message("data_100_block", "Data allowance used up: cut off", COMMON + ("package", "allowance"),
            en="{business}: Your {package} data ({allowance}) is used up: internet stops until you buy a boost "
               "on the portal, My account, or a new plan.",
            sw="{business}: Data ya {package} ({allowance}) imekwisha: intaneti imesimama hadi ununue nyongeza "
               "kwenye ukurasa wa kuingia, Akaunti yangu, au kifurushi kipya."),
    Message("ticket_reply", "Staff reply to a support ticket", COMMON + ("number", "subject", "reply"),
            en="{business} ({number}): {reply}",
            sw="{business} (tiketi {number}): {reply}"),
    Message("ticket_status", "Support ticket's status changed", COMMON + ("number", "subject", "status"),
            en="{business}: Your ticket {number} ({subject}) is now {status}. Help: {support_phone}.",
            sw="{business}: Tiketi yako {number} ({subject}) sasa {status}. Msaada: {support_phone}."),
)}


def placeholders(text: str) -> list[str]:
    """The placeholder names in ``text``; ValidationError naming the first malformed one."""
    found = []
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise ValidationError(  # noqa: B904 - the form error is the whole story
            "A brace without its pair: write placeholders as {name}, and a brace on its own as {{ or }}.")
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not re.fullmatch(r"[a-z_]+", name) or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValidationError("%(shown)s is not a placeholder: write them as {name}, e.g. {business}.",
                                  params={"shown": shown[:40]})
        found.append(name)
    return found


class PlaceholderCheck:
    """A form validator: only ``message``'s placeholders, each well formed."""

    def __init__(self, message: Message):
        self.message = message

    def __call__(self, text: str) -> None:
        unknown = [name for name in placeholders(text) if name not in self.message.placeholders]
        if unknown:
            raise ValidationError(
                "Unknown placeholder %(unknown)s: this message may use %(allowed)s.",
                params={"unknown": ", ".join("{" + n + "}" for n in dict.fromkeys(unknown)),
                        "allowed": " ".join("{" + n + "}" for n in self.message.placeholders)})


def field(message: Message, language: str, language_name: str) -> forms.CharField:
    allowed = " ".join("{" + n + "}" for n in message.placeholders)
    return forms.CharField(label=f"{message.label} ({language_name})", max_length=MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3}), validators=[PlaceholderCheck(message)],
                           help_text=f"Placeholders: {allowed}")


def render(message: Message, template: str, language: str, values: dict) -> str:
    """``template`` filled with ``values``; a template that no longer checks out (saved before a
    placeholder was withdrawn) gives way to the default rather than to a broken SMS."""
    try:
        PlaceholderCheck(message)(template)
    except ValidationError:
        template = message.default(language)
    empty = {name for name in OPTIONAL if not values.get(name)}
    if empty:
        sentences = re.split(r"(?<=[.!?])\s+", template)
        template = " ".join(s for s in sentences if not any("{" + name + "}" in s for name in empty))
    return template.format_map({name: values.get(name, "") for name in message.placeholders}).strip()
