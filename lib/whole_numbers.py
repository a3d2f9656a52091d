"""Whole numbers from text people type or systems send: ASCII digits 0-9 and nothing else."""
import re

# PostgreSQL's bigint (every id here): a bigger number is no row, never a query error.
BIGINT_MAX = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")


def ascii_whole_number(text, most: int = BIGINT_MAX) -> int | None:
    """``text`` as an int when it is only ASCII digits and at most ``most``; else None.

    Not ``str.isdigit()`` + ``int()``: isdigit accepts "²", which int() then refuses (a 500), and
    int() reads "١" (Arabic-Indic) and "１" (full-width) as 1, a number nobody typed as one.
    """
    # The length first: int() refuses more than 4300 digits (another ValueError) and is slow near it.
    if not isinstance(text, str) or len(text) > len(str(most)) or not _ASCII_DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if number <= most else None
