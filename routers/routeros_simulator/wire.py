"""The RouterOS API wire format: length-prefixed words, sentences ended by an empty word, and the
attribute, query and ``.tag`` words a command sentence carries."""
import asyncio

MAX_WORD = 16 * 1024 * 1024  # larger words end the session with !fatal, like a router protecting its memory


class ProtocolError(Exception):
    pass


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    if length < 0x100000000:
        return b"\xf0" + length.to_bytes(4, "big")
    raise ValueError("word too long")


def decode_length(data: bytes) -> tuple[int, int]:
    """(length, bytes used) from the start of ``data``."""
    first = data[0]
    if first < 0x80:
        return first, 1
    if first < 0xC0:
        return int.from_bytes(data[:2], "big") & 0x3FFF, 2
    if first < 0xE0:
        return int.from_bytes(data[:3], "big") & 0x1FFFFF, 3
    if first < 0xF0:
        return int.from_bytes(data[:4], "big") & 0xFFFFFFF, 4
    if first == 0xF0:
        return int.from_bytes(data[1:5], "big"), 5
    raise ProtocolError(f"control byte {first:#x}")


def encode_sentence(words) -> bytes:
    parts = []
    for word in words:
        raw = word.encode() if isinstance(word, str) else word
        parts += [encode_length(len(raw)), raw]
    parts.append(b"\x00")
    return b"".join(parts)


async def read_word(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(1)
    first = head[0]
    if first >= 0xF8:
        raise ProtocolError(f"control byte {first:#x}")
    size = 1 if first < 0x80 else 2 if first < 0xC0 else 3 if first < 0xE0 else 4 if first < 0xF0 else 5
    if size > 1:
        head += await reader.readexactly(size - 1)
    length, _ = decode_length(head)
    if length > MAX_WORD:
        raise ProtocolError("word too long")
    return await reader.readexactly(length) if length else b""


async def read_sentence(reader: asyncio.StreamReader) -> list[str]:
    words = []
    while True:
        word = await read_word(reader)
        if not word:
            return words
        words.append(word.decode("utf-8", "replace"))


def parse_sentence(words: list[str]) -> tuple[str, dict, list[str], str | None]:
    """(command, attributes, query words, tag) from a sentence."""
    attrs, queries, tag = {}, [], None
    for word in words[1:]:
        if word.startswith("="):
            name, _, value = word[1:].partition("=")  # "=once" (no second "=") is an empty value
            attrs[name] = value
        elif word.startswith("?"):
            queries.append(word)
        elif word.startswith(".tag="):
            tag = word[5:]
        elif word.startswith("."):
            name, _, value = word[1:].partition("=")
            attrs["." + name] = value
    return words[0], attrs, queries, tag


def tag_of(words: list[str]) -> str | None:
    return next((word[5:] for word in words if word.startswith(".tag=")), None)


def attribute_words(row: dict) -> list[str]:
    return [f"={name}={value}" for name, value in row.items()]
