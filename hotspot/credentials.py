"""RADIUS usernames and passwords for customers: easy to read out and type on a phone."""
import secrets

# No 0/o, 1/l/i: customers copy these from an SMS or a sticker.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_username() -> str:
    """'c' + 7 characters (31**7, about 27 billion): unique by constraint, hard to guess."""
    return "c" + "".join(secrets.choice(ALPHABET) for _ in range(7))


def new_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))
