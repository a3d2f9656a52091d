"""The QR codes printed on voucher sheets: each voucher's portal link as an inline SVG, rendered once
and kept in the cache, so a sheet of 500 codes is read, not drawn, on every print after the first.

Two costs made a 500-voucher sheet take 3.4 s (issue 23). segno scores all eight mask patterns and
keeps the best, 80 % of a code's time; every mask gives a valid code that any reader decodes (the
choice only evens out dark and light areas, which matters little for a printed 29 x 29 code), so
one is fixed (MASK). And each code was drawn on every view: now it is cached by its link (the code
and the portal's address), for CACHE_SECONDS.
"""
import hashlib

import segno
from django.core.cache import cache

ERROR = "m"  # 15 % of the code can be smudged, as before
MASK = 2
CACHE_SECONDS = 7 * 24 * 3600
_VERSION = 1  # in the key: a change of how codes are drawn draws them again


def link(portal: str, code: str) -> str:
    return f"{portal}?voucher={code}"


def svg(url: str) -> str:
    """The code for ``url`` as inline SVG: 2 units a module, a one-module quiet zone (the card's
    white margin adds to it), sized by the sheet's CSS."""
    return segno.make(url, error=ERROR, mask=MASK).svg_inline(scale=2, border=1, omitsize=True)


def key(url: str) -> str:
    return f"voucher-qr:{_VERSION}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


def svgs(urls: list[str]) -> dict[str, str]:
    """{url: svg} for every url: from the cache in one round trip, the missing drawn and stored."""
    keys = {url: key(url) for url in urls}
    cached = cache.get_many(list(keys.values()))
    found = {url: cached[key] for url, key in keys.items() if key in cached}
    drawn = {url: svg(url) for url in urls if url not in found}
    if drawn:
        cache.set_many({keys[url]: image for url, image in drawn.items()}, timeout=CACHE_SECONDS)
    return found | drawn
