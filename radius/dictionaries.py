"""The pyrad dictionary shared by the CoA client, the NAS simulator and the tests."""
from functools import lru_cache
from pathlib import Path

from pyrad.dictionary import Dictionary

PATH = Path(__file__).resolve().parent / "dictionary"


@lru_cache(maxsize=1)
def radius_dictionary() -> Dictionary:
    return Dictionary(str(PATH))
