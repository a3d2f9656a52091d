"""The business's logo: checked, kept in the database and named by its content.

/branding/logo serves it from our own origin, so what an Admin uploads must be harmless there:
a PNG whose structure is read chunk by chunk (the bytes decide, never the client's content type),
or an SVG with nothing that runs or reaches out: no script, event handler, foreignObject,
animation, DOCTYPE or entity, processing instruction, or reference outside the file. The SVG is
also served under a Content-Security-Policy that forbids scripts and loads, but the check does not
lean on that header: a refused file names what was found so the Admin can fix it (or export a PNG).
"""
import hashlib
import re
import struct
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

from django.db import transaction
from django.urls import reverse

from . import store
from .models import Logo

MAX_BYTES = 200 * 1024
MIN_SIDE, MAX_SIDE = 16, 2048  # PNG pixels: a logo, not a photo (nor a decompression bomb)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
# Editors' bookkeeping (Inkscape and the metadata block it writes): never rendered, never run.
INERT_NAMESPACES = {
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd", "http://www.inkscape.org/namespaces/inkscape",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://creativecommons.org/ns#",
    "http://purl.org/dc/elements/1.1/",
}
# Drawing only. Left out on purpose: script, foreignObject (HTML inside SVG), a (links), image and
# feImage (loads), animate / set / animateMotion / animateTransform (can rewrite an href to a
# javascript: URL after the check).
SVG_ELEMENTS = {
    "svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "textPath", "title", "desc", "metadata", "style", "linearGradient", "radialGradient",
    "stop", "clipPath", "mask", "pattern", "marker", "filter", "feBlend", "feColorMatrix", "feComponentTransfer",
    "feComposite", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur",
    "feMerge", "feMergeNode", "feMorphology", "feOffset", "switch",
}
NAMED_REFUSALS = {
    "script": "it contains a <script> element",
    "foreignObject": "it contains <foreignObject> (HTML inside the SVG)",
    "image": "it loads an <image>; put the picture in a PNG instead",
    "feImage": "it loads an image through <feImage>",
    "a": "it contains a link (<a>)",
}
URL_FUNCTION = re.compile(r"url\(\s*(['\"]?)\s*([^)'\"]*)", re.IGNORECASE)


class LogoRefused(ValueError):
    """Why a file cannot be the logo, in words for the Admin who uploaded it."""


@dataclass(frozen=True)
class Checked:
    kind: str  # "png" or "svg"
    content_type: str
    width: int | None = None
    height: int | None = None

    def describe(self, size: int) -> str:
        pixels = f", {self.width}×{self.height} px" if self.width else ""
        return f"{self.kind.upper()}, {size / 1024:.1f} KB{pixels}"


def too_big(size: int) -> str:
    return f"The file is {size / 1024:.1f} KB; a logo may be at most {MAX_BYTES // 1024} KB."


def check(data: bytes) -> Checked:
    """What ``data`` is, if it may be the logo; LogoRefused saying why not."""
    if not data:
        raise LogoRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise LogoRefused(too_big(len(data)))
    if data.startswith(PNG_SIGNATURE):
        return _check_png(data)
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype")):
        return _check_svg(data)
    raise LogoRefused("This is neither a PNG nor an SVG file (judged by its content, not its name).")


def _check_png(data: bytes) -> Checked:
    at, seen, width, height = len(PNG_SIGNATURE), [], 0, 0
    while at < len(data):
        if at + 12 > len(data):
            raise LogoRefused("The PNG is cut short (a damaged or partly uploaded file).")
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body, end = data[at + 8:at + 8 + length], at + 12 + length
        if end > len(data) or not kind.isalpha():
            raise LogoRefused("The PNG is damaged (a chunk runs past the end of the file).")
        if struct.unpack(">I", data[end - 4:end])[0] != zlib.crc32(kind + body):
            raise LogoRefused("The PNG is damaged (a checksum does not match).")
        if not seen:
            if kind != b"IHDR" or length != 13:
                raise LogoRefused("The PNG has no header (IHDR) where it must be.")
            width, height = struct.unpack(">II", body[:8])
        seen.append(kind)
        at = end
        if kind == b"IEND":
            break
    if seen[-1:] != [b"IEND"] or at != len(data):
        raise LogoRefused("The PNG does not end where it should (damaged, or something is appended to it).")
    if b"IDAT" not in seen:
        raise LogoRefused("The PNG holds no image data.")
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise LogoRefused(f"The PNG is {width}×{height} pixels; each side must be {MIN_SIDE} to {MAX_SIDE}.")
    return Checked("png", "image/png", width, height)


def _check_svg(data: bytes) -> Checked:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LogoRefused("The SVG is not UTF-8 text.") from None
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        raise LogoRefused("The SVG declares a DOCTYPE or entities; save it as plain SVG without them.")
    body = re.sub(r"^\s*<\?xml\s[^?]*\?>", "", text)  # the XML declaration, not <?xml-stylesheet
    if "<?" in body:
        raise LogoRefused("The SVG holds a processing instruction (such as xml-stylesheet), which may load "
                          "another file.")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise LogoRefused(f"The SVG is not well-formed XML ({error}).") from None
    if root.tag != f"{{{SVG}}}svg":
        raise LogoRefused("The file's outer element is not <svg> in the SVG namespace.")
    for element in root.iter():
        _check_element(element)
    return Checked("svg", "image/svg+xml")


def _local(name: str) -> tuple[str, str]:
    namespace, _, local = name.rpartition("}")
    return namespace.lstrip("{"), local


def _check_element(element) -> None:
    namespace, tag = _local(element.tag)
    if namespace == SVG:
        if tag in NAMED_REFUSALS:
            raise LogoRefused(f"The SVG cannot be used: {NAMED_REFUSALS[tag]}.")
        if tag not in SVG_ELEMENTS:
            raise LogoRefused(f"The SVG cannot be used: <{tag}> is not allowed in a logo.")
        if tag == "style":
            _check_css(element.text or "", "<style>")
    elif namespace not in INERT_NAMESPACES:
        raise LogoRefused(f"The SVG cannot be used: <{tag}> from {namespace or 'no namespace'} is not SVG.")
    for name, value in element.attrib.items():
        attribute_namespace, attribute = _local(name)
        where = f"{attribute}=\"{value[:60]}\" on <{tag}>"
        if attribute.lower().startswith("on"):
            raise LogoRefused(f"The SVG cannot be used: {where} is an event handler (script).")
        if "javascript:" in value.lower().replace(" ", ""):
            raise LogoRefused(f"The SVG cannot be used: {where} holds a javascript: address.")
        if attribute == "href" and attribute_namespace in ("", XLINK) and not value.strip().startswith("#"):
            raise LogoRefused(f"The SVG cannot be used: {where} refers outside the file (only #references "
                              "within it are allowed).")
        _check_css(value, where)


def _check_css(css: str, where: str) -> None:
    if "@import" in css.lower():
        raise LogoRefused(f"The SVG cannot be used: {where} imports another style sheet.")
    for _, target in URL_FUNCTION.findall(css):
        if not target.strip().startswith("#"):
            raise LogoRefused(f"The SVG cannot be used: {where} loads url({target.strip()[:60]}); only "
                              "url(#…) within the file is allowed.")


def save(data: bytes) -> str:
    """Check ``data`` and make it the logo (audited by the store as a change of general.logo);
    returns its name. Nothing is kept when it is refused."""
    checked = check(data)
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.{checked.kind}"
    with transaction.atomic():
        Logo.objects.get_or_create(name=name, defaults={"content_type": checked.content_type, "data": data,
                                                        "width": checked.width, "height": checked.height})
        store.save("general", {"logo": name}, note=f"logo uploaded ({checked.describe(len(data))})")
        Logo.objects.exclude(name=name).delete()
    return name


def remove() -> bool:
    """No logo any more (audited); False when there was none."""
    with transaction.atomic():
        if not store.get("general.logo"):
            return False
        store.save("general", {"logo": ""}, note="logo removed")
        Logo.objects.all().delete()
    return True


def current() -> Logo | None:
    name = store.get("general.logo")
    return Logo.objects.filter(name=name).first() if name else None


def url() -> str:
    """The logo's address with its name as the version (cached for good), or "" without a logo."""
    name = store.get("general.logo")
    return f"{reverse('branding-logo')}?v={name}" if name else ""
