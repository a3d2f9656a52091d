"""What can be set in the browser: sections of typed settings, each validated by a Django form field.

A setting's default is the environment's value (the ``django.conf.settings`` attribute named by
``env``, itself read from the environment variable of the same name) or, without one, ``default``.
A value saved on the Settings pages wins over both (``siteconfig.store``).
"""
import ipaddress
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from . import message_templates


@dataclass(frozen=True)
class Setting:
    name: str
    field: forms.Field
    env: str = ""  # the django.conf.settings attribute (= environment variable) giving the default
    default: Any = None  # when there is no ``env``; a callable is called at each read
    secret: bool = False  # encrypted at rest, write-only on pages and API, never audited in clear
    in_form: bool = True  # False: set by its own flow (the logo upload), not the section's form

    def fallback(self):
        if self.env:
            return getattr(settings, self.env)
        return self.default() if callable(self.default) else self.default


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    description: str
    settings: tuple[Setting, ...]
    # Admin holds every permission; Finance reads the money sections (siteconfig.view_money_settings).
    money: bool = False
    by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {s.name: s for s in self.settings})

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings if s.secret)


class NetworksField(forms.CharField):
    """Networks, one per line or comma-separated (``196.201.214.0/24``); an address is a /32."""

    def to_python(self, value):
        if isinstance(value, list | tuple):
            items = [str(v).strip() for v in value]
        else:
            items = [v.strip() for v in str(value or "").replace(",", "\n").splitlines()]
        networks = []
        for item in filter(None, items):
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValidationError(  # noqa: B904 - the form error is the whole story
                    "“%(item)s” is not an IP address or network.", params={"item": item[:60]})
        return networks

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value


def _check_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Choose a time zone from the list (IANA name such as Africa/Nairobi).")


def time_zone_choices():
    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


def _secret(label: str, help_text: str = "") -> forms.CharField:
    # Never rendered back: a blank submission keeps the saved secret (store.apply).
    return forms.CharField(label=label, required=False, max_length=500, help_text=help_text,
                           widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))


PHONE = RegexValidator(r"^\+?[0-9 ]{7,20}$", "Enter a phone number: digits, optionally with a leading +.")
COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour as #rrggbb, e.g. #0b7a75.")
SHORTCODE = RegexValidator(r"^[0-9]{5,7}$", "A shortcode or till number is 5 to 7 digits.")
RATE = RegexValidator(r"^[0-9]+[kKmM]?/[0-9]+[kKmM]?$", "Enter a rate as upload/download, e.g. 256k/256k.")
ADDRESS_LIST = RegexValidator(r"^[A-Za-z0-9_.-]{1,63}$", "Letters, digits, dot, dash and underscore only.")
CURRENCY = RegexValidator(r"^[A-Z]{3}$", "Three capital letters (ISO 4217), e.g. KES.")
HOST = RegexValidator(r"^[A-Za-z0-9.:-]{1,253}$", "Enter a host name or IP address.")
MPESA_HOSTS = {
    "sandbox": "https://sandbox.safaricom.co.ke",
    "production": "https://api.safaricom.co.ke",
}


def _mpesa_environment() -> str:
    base = settings.MPESA_BASE_URL.rstrip("/")
    for name, url in MPESA_HOSTS.items():
        if base == url:
            return name
    return "simulator"


GENERAL = Section("general", "General", "The business as customers and staff see it.", (
    Setting("business_name", forms.CharField(label="Business name", max_length=60), env="BUSINESS_NAME"),
    Setting("support_phone", forms.CharField(label="Support phone", max_length=20, required=False,
                                             validators=[PHONE]), env="SUPPORT_PHONE"),
    Setting("support_email", forms.EmailField(label="Support e-mail", required=False), env="SUPPORT_EMAIL"),
    Setting("currency", forms.CharField(label="Currency", max_length=3, min_length=3, validators=[CURRENCY]),
            env="CURRENCY"),
    Setting("time_zone", forms.TypedChoiceField(label="Time zone", choices=time_zone_choices,
                                                validators=[_check_time_zone],
                                                help_text="Every date shown and every report's day boundaries."),
            env="TIME_ZONE"),
    Setting("language", forms.ChoiceField(label="Portal language", choices=settings.LANGUAGES,
                                          help_text="What the portal shows first; customers can switch."),
            env="PORTAL_LANGUAGE"),
    Setting("logo", forms.CharField(required=False), default="", in_form=False),
), money=True)

PORTAL = Section("portal", "Portal", "The captive portal customers see on their phones.", (
    Setting("welcome_text", forms.CharField(label="Welcome text", max_length=200, required=False,
                                            widget=forms.Textarea(attrs={"rows": 2})), default=""),
    Setting("primary_colour", forms.CharField(label="Primary colour", max_length=7, validators=[COLOUR],
                                              widget=forms.TextInput(attrs={"type": "color"})), default="#0b7a75"),
    Setting("terms_url", forms.URLField(label="Terms link", required=False, assume_scheme="https",
                                        max_length=300), default=""),
    Setting("show_buy", forms.BooleanField(label="Buy a package", required=False), default=True),
    Setting("show_voucher", forms.BooleanField(label="Redeem a voucher", required=False), default=True),
    Setting("show_sign_in", forms.BooleanField(label="Already a customer? (sign in)", required=False), default=True),
    Setting("show_already_paid", forms.BooleanField(label="Already paid (M-Pesa code)", required=False), default=True),
))

MPESA = Section("mpesa", "M-Pesa", "Daraja keys and the shortcode customers pay to.", (
    Setting("environment", forms.ChoiceField(label="Environment", choices=[
        ("simulator", "Simulator (this project's Daraja simulator)"),
        ("sandbox", "Sandbox (sandbox.safaricom.co.ke)"),
        ("production", "Production (api.safaricom.co.ke)")]), default=_mpesa_environment),
    Setting("shortcode", forms.CharField(label="Shortcode", max_length=7, validators=[SHORTCODE],
                                         help_text="The paybill number, or the till's store number."),
            env="MPESA_SHORTCODE"),
    Setting("transaction_type", forms.ChoiceField(label="Account type", choices=[
        ("CustomerPayBillOnline", "Paybill (CustomerPayBillOnline)"),
        ("CustomerBuyGoodsOnline", "Till / Buy Goods (CustomerBuyGoodsOnline)")]), env="MPESA_TRANSACTION_TYPE"),
    Setting("party_b", forms.CharField(label="Till number", max_length=7, required=False, validators=[SHORTCODE],
                                       help_text="For a till whose number differs from the shortcode; "
                                                 "blank: the shortcode."), default=""),
    Setting("consumer_key", forms.CharField(label="Consumer key", max_length=200), env="MPESA_CONSUMER_KEY"),
    Setting("consumer_secret", _secret("Consumer secret"), env="MPESA_CONSUMER_SECRET", secret=True),
    Setting("passkey", _secret("Passkey", "The Lipa na M-Pesa Online passkey."), env="MPESA_PASSKEY", secret=True),
    Setting("callback_base_url", forms.URLField(label="Callback base URL", max_length=300, assume_scheme="https",
                                                help_text="This server's public address, as Safaricom reaches it."),
            env="MPESA_CALLBACK_BASE_URL"),
    Setting("callback_allowed_networks", NetworksField(
        label="Allowed callback networks", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only these addresses may post callbacks; blank: any (the secret URL token still applies)."),
        env="MPESA_CALLBACK_ALLOWED_IPS"),
), money=True)

SMS = Section("sms", "SMS", "How receipts, reminders and credentials reach customers' phones.", (
    Setting("backend", forms.ChoiceField(label="Backend", choices=[
        ("console", "Console (log only, nothing sent)"), ("africastalking", "Africa's Talking")]),
        env="SMS_BACKEND"),
    Setting("username", forms.CharField(label="Username", max_length=100, required=False), env="SMS_USERNAME"),
    Setting("api_key", _secret("API key"), env="SMS_API_KEY", secret=True),
    Setting("sender_id", forms.CharField(label="Sender ID", max_length=11, required=False,
                                         help_text="Your registered alphanumeric sender, up to 11 characters."),
            env="SMS_SENDER_ID"),
    Setting("sandbox", forms.BooleanField(label="Africa's Talking sandbox", required=False,
                                          help_text="Messages go to Africa's Talking's simulator, not to phones "
                                                    "(the username is then \"sandbox\")."), env="SMS_SANDBOX"),
    # The texts, each in both languages: receipt_en, receipt_sw, credentials_en, ... (message_templates.py).
    *(Setting(f"{message.name}_{code}", message_templates.field(message, code, language),
              default=message.default(code))
      for message in message_templates.MESSAGES.values() for code, language in message_templates.LANGUAGES),
))

EMAIL = Section("email", "E-mail", "The SMTP server for staff password resets and customers' e-mailed receipts.", (
    Setting("host", forms.CharField(label="SMTP host", max_length=253, required=False, validators=[HOST],
                                    help_text="Blank: e-mail is written to the log, not sent."), env="EMAIL_HOST"),
    Setting("port", forms.IntegerField(label="Port", min_value=1, max_value=65535), env="EMAIL_PORT"),
    Setting("use_tls", forms.BooleanField(label="STARTTLS", required=False), env="EMAIL_USE_TLS"),
    Setting("user", forms.CharField(label="User", max_length=200, required=False), env="EMAIL_HOST_USER"),
    Setting("password", _secret("Password"), env="EMAIL_HOST_PASSWORD", secret=True),
    Setting("from_address", forms.EmailField(label="From address"), env="DEFAULT_FROM_EMAIL"),
))

RADIUS = Section("radius", "RADIUS", "How routers reach FreeRADIUS and how sessions are controlled.", (
    Setting("server_address", forms.GenericIPAddressField(label="RADIUS server address",
                                                          help_text="The address routers' /radius entry points at."),
            env="RADIUS_SERVER_ADDRESS"),
    Setting("coa_timeout", forms.IntegerField(label="CoA timeout (s)", min_value=1, max_value=30),
            env="RADIUS_COA_TIMEOUT"),
    Setting("coa_retries", forms.IntegerField(label="CoA retries", min_value=1, max_value=10),
            env="RADIUS_COA_RETRIES"),
    Setting("interim_interval", forms.IntegerField(label="Interim update interval (s)", min_value=30,
                                                   max_value=86400), env="RADIUS_INTERIM_INTERVAL"),
    Setting("grace_address_list", forms.CharField(label="Grace address list", max_length=63,
                                                  validators=[ADDRESS_LIST]), env="HOTSPOT_GRACE_ADDRESS_LIST"),
    Setting("grace_rate", forms.CharField(label="Grace rate limit", max_length=40, validators=[RATE]),
            env="HOTSPOT_GRACE_RATE_LIMIT"),
))

ROUTERS = Section("routers", "Routers", "Defaults for new routers and how often they are polled.", (
    Setting("api_user", forms.CharField(label="Default API user", max_length=100), default="admin"),
    Setting("api_port", forms.IntegerField(label="Default API port", min_value=1, max_value=65535), default=8728),
    Setting("use_tls", forms.BooleanField(label="API over TLS (api-ssl) by default", required=False), default=False),
    Setting("poll_interval", forms.IntegerField(label="Poll interval (s)", min_value=30, max_value=3600), default=60),
    Setting("poll_timeout", forms.IntegerField(label="Poll timeout (s)", min_value=1, max_value=60),
            env="ROUTER_POLL_TIMEOUT_SECONDS"),
))

SECURITY = Section("security", "Security", "How staff sign in.", (
    Setting("require_two_factor_for_admin", forms.BooleanField(
        label="Admins must use two-factor sign-in", required=False,
        help_text="An Admin without an authenticator app is asked to enrol at the next sign-in."), default=False),
))

VOUCHERS = Section("vouchers", "Vouchers", "How printed voucher codes look.", (
    Setting("code_length", forms.IntegerField(
        label="Code length", min_value=6, max_value=16,
        help_text="Random characters after the prefix. 8 is easy to type on a phone and still takes a "
                  "guesser most of a year per hit; longer codes only for very large batches."), default=8),
    Setting("wifi_name", forms.CharField(label="WiFi name (SSID)", max_length=32, required=False,
                                         help_text="Printed on voucher sheets; blank: the business name."),
            default=""),  # read with the business name as fallback (hotspot/views/vouchers.py)
))

BACKUPS = Section("backups", "Backups", "How many database and router backups are kept, and the off-site copy.", (
    Setting("keep_daily", forms.IntegerField(label="Daily backups kept", min_value=1, max_value=365), default=7),
    Setting("keep_monthly", forms.IntegerField(
        label="Monthly backups kept", min_value=0, max_value=120,
        help_text="The first backup of each month is kept this many months."), default=12),
    Setting("router_keep", forms.IntegerField(label="Router configuration backups kept per router", min_value=1,
                                              max_value=100), default=10),
    Setting("offsite", forms.BooleanField(label="Copy each backup off-site (S3-compatible storage)",
                                          required=False), default=False),
    Setting("s3_endpoint", forms.URLField(
        label="S3 endpoint URL", required=False, max_length=300, assume_scheme="https",
        help_text="Blank: Amazon S3. Any S3-compatible provider's URL otherwise."),
            default=""),
    Setting("s3_region", forms.CharField(label="S3 region", max_length=50, required=False), default=""),
    Setting("s3_bucket", forms.CharField(label="S3 bucket", max_length=63, required=False), default=""),
    Setting("s3_prefix", forms.CharField(label="Key prefix", max_length=200, required=False),
            default="hotspot-backups/"),
    Setting("s3_access_key", forms.CharField(label="Access key ID", max_length=200, required=False), default=""),
    Setting("s3_secret_key", _secret("Secret access key"), default="", secret=True),
))

ALERTS = Section("alerts", "Alerts", "When the staff on call are alerted. Each staff member chooses their channels.", (
    Setting("router_offline_minutes", forms.IntegerField(label="Router offline for (minutes)", min_value=1,
                                                         max_value=1440), default=10),
    Setting("callbacks_silent_minutes", forms.IntegerField(
        label="No M-Pesa callback for (minutes)", min_value=5, max_value=1440,
        help_text="While STK pushes went out in that time."), default=30),
    Setting("bad_callbacks_per_hour", forms.IntegerField(
        label="Unknown, mismatched or malformed callbacks per hour", min_value=1, max_value=10000), default=10),
    Setting("disk_free_percent", forms.IntegerField(label="Disk free under (%)", min_value=1, max_value=90,
                                                    help_text="Where the backups are kept."), default=10),
    Setting("reminder_minutes", forms.IntegerField(
        label="Remind of an open incident every (minutes)", min_value=0, max_value=10080,
        help_text="0: no reminders."), default=120),
    Setting("flap_minutes", forms.IntegerField(
        label="Group an incident that returns within (minutes)", min_value=0, max_value=1440,
        help_text="A router that flaps stays one incident, not a message per drop."), default=60),
    Setting("telegram_token", _secret("Telegram bot token", "From @BotFather; each staff member adds their chat ID."),
            default="", secret=True),
))


def _due_hours(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=24 * 90)


TICKETS = Section("tickets", "Tickets", "How soon each priority of support ticket is due (its SLA).", (
    Setting("urgent_hours", _due_hours("Urgent tickets due within (hours)"), default=4),
    Setting("high_hours", _due_hours("High-priority tickets due within (hours)"), default=8),
    Setting("normal_hours", _due_hours("Normal tickets due within (hours)"), default=24),
    Setting("low_hours", _due_hours("Low-priority tickets due within (hours)"), default=72),
))

SECTIONS: dict[str, Section] = {s.name: s for s in (GENERAL, PORTAL, MPESA, SMS, EMAIL, RADIUS, ROUTERS, SECURITY,
                                                    VOUCHERS, BACKUPS, ALERTS, TICKETS)}


def setting(key: str) -> tuple[Section, Setting]:
    """``"mpesa.shortcode"`` -> its section and setting; KeyError for a key nobody declared."""
    section_name, _, name = key.partition(".")
    section = SECTIONS[section_name]
    return section, section.by_name[name]
