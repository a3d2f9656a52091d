"""Secrets kept in the database encrypted (Fernet), and the model field that does it for any app."""
import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

# Changing this would make every stored secret unreadable for installs that derive the key.
_DERIVATION_INFO = b"hotspot-isp field encryption"


class UnreadableSecret(str):
    """What a stored secret reads as when no configured key opens it (FIELD_ENCRYPTION_KEY or
    SECRET_KEY changed): an empty string that keeps the token, so saving the row loses nothing."""

    token: str

    def __new__(cls, token: str):
        secret = super().__new__(cls, "")
        secret.token = token
        return secret


def derived_key(secret_key: str) -> str:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVATION_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())).decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    # The first key encrypts; every key decrypts, so a key can be rotated in without a migration.
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS) or (derived_key(settings.SECRET_KEY),)
    return _fernet(keys)


def encrypt(text: str) -> str:
    return _current().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Raises cryptography's InvalidToken when no configured key opens ``token``."""
    return _current().decrypt(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; the model attribute is the plain text. "" is stored as
    "" (no secret). Tokens differ on every save, so filtering on the column finds nothing useful."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except InvalidToken:
            return UnreadableSecret(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, UnreadableSecret):
            return value.token
        if not value:
            return value
        return encrypt(value)
