"""The printable voucher sheet: each card's QR code opens the portal with that card's code (read back
from the printed SVG and its format information checked as a reader would), and a sheet is drawn
once: its codes come from the cache on every later print (issue 23: 500 codes took 3.4 s a view)."""
import re

import pytest
import segno
from django.core.cache import cache

from accounts.roles import SUPPORT
from hotspot import services, voucher_qr, vouchers
from hotspot.models import Package

pytestmark = pytest.mark.django_db
LEVELS = {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}  # the format information's two level bits


def printed_matrix(svg: str) -> list[list[int]]:
    """The modules an SVG of segno's path (``M x y``, then ``h n`` dark runs and ``m dx dy`` moves,
    one module a unit before the scale) draws, without its one-module border."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(y - 0.5) - 1, int(x) + k - 1) for k in range(int(a)))
            x += float(a)
    size = max(max(row, column) for row, column in dark) + 1
    return [[int((row, column) in dark) for column in range(size)] for row in range(size)]


def format_information(matrix: list[list[int]]) -> tuple[str, int]:
    """(error level, mask) from the 15 format bits beside the top-left finder, read in a reader's
    order, checked against their BCH code (ISO/IEC 18004, 7.9)."""
    cells = [(8, x) for x in range(6)] + [(8, 7), (8, 8), (7, 8)] + [(y, 8) for y in range(5, -1, -1)]
    bits = 0
    for row, column in cells:
        bits = bits << 1 | matrix[row][column]
    bits ^= 0b101010000010010
    data = bits >> 10
    remainder = data << 10
    for shift in range(4, -1, -1):
        if remainder & (1 << (shift + 10)):
            remainder ^= 0b10100110111 << shift
    assert bits == data << 10 | remainder, "the format information's BCH code does not check"
    return LEVELS[data >> 3], data & 0b111


def test_each_card_carries_its_own_code_and_a_later_print_reads_them_from_the_cache(signed_in):
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    batch = vouchers.generate_batch(package, 30, prefix="KLM")
    client = signed_in(SUPPORT)
    html = client.get(f"/vouchers/batches/{batch.pk}/sheet/").content.decode()
    cards = re.findall(r'(<svg.*?</svg>).*?<div class="code">([^<]+)</div>', html, re.S)
    assert len(cards) == 30
    codes = {vouchers.display(v.code, "KLM"): v.code for v in batch.vouchers.all()}
    for svg, shown in cards:
        url = voucher_qr.link("http://testserver/portal/", codes[shown])
        assert printed_matrix(svg) == [list(row) for row in segno.make(url, error="m", mask=voucher_qr.MASK).matrix]
        level, mask = format_information(printed_matrix(svg))
        assert mask == voucher_qr.MASK and level in ("M", "Q", "H")  # at least M: segno raises it when it fits
    # Drawn once: each code is in the cache under its link, and the next print is read from there.
    first = voucher_qr.link("http://testserver/portal/", codes[cards[0][1]])
    assert cache.get(voucher_qr.key(first)) == cards[0][0]
    assert client.get(f"/vouchers/batches/{batch.pk}/sheet/").content.decode() == html
    cache.set(voucher_qr.key(first), '<svg class="segno">kept</svg>')
    assert '<svg class="segno">kept</svg>' in client.get(f"/vouchers/batches/{batch.pk}/sheet/").content.decode()
