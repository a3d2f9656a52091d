r"""The RouterOS script (.rsc) subset the simulator's ``/import`` runs: exactly what
routers.onboarding writes, and nothing else (anything more is refused as a syntax error).

    # a comment
    /interface wireguard                                   a menu: the lines below act in it
    add name="wg0" listen-port=13232                       add, set, remove with name=value words
    set api address=10.0.0.1/32 disabled=no                set/remove take a name, [find …] or nothing
    :if ([:len [find name="wg0"]] = 0) do={ add … } else={ set [find name="wg0"] … }
    add … place-before=[:pick [find] 0]                    the first item's id

Values are bare words or "quoted" with \\ \" \$ \? escapes. As on a router, the whole file is parsed
first (a syntax error runs nothing) and then run line by line; the first refusal stops it, and what
ran before stays. Errors carry the line number: ``no such item (line 12)``.
"""
import re
from dataclasses import dataclass

VERBS = ("add", "set", "remove")
_BARE = re.compile(r"[A-Za-z0-9_.,:/*!@+-]+")
_KEY = re.compile(r"[a-z][a-z0-9-]*")
_PATH_WORD = re.compile(r"[a-z][a-z0-9-]*")
_ESCAPES = {'"': '"', "\\": "\\", "$": "$", "?": "?"}


class ScriptError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Find:
    where: dict


@dataclass
class Pick:
    find: Find


@dataclass
class Command:
    verb: str
    target: object  # None, a name, or a Find
    args: dict


@dataclass
class If:
    find: Find
    op: str
    number: int
    then: object
    otherwise: object = None


@dataclass
class Line:
    number: int
    menu: str
    statement: object


def parse(text: str) -> list[Line]:
    """Every statement with its line number and menu; raises ScriptError naming the line."""
    lines, menu = [], None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("/"):
            words = line[1:].split()
            if not words or not all(_PATH_WORD.fullmatch(word) for word in words):
                raise ScriptError(f"bad menu path (line {number})")
            menu = "/" + "/".join(words)
            continue
        if menu is None:
            raise ScriptError(f"no menu given before this command (line {number})")
        reader = _Reader(line, number)
        statement = reader.statement()
        reader.end()
        lines.append(Line(number, menu, statement))
    return lines


class _Reader:
    def __init__(self, text: str, number: int):
        self.text, self.number, self.at = text, number, 0

    def fail(self, what: str):
        raise ScriptError(f"syntax error: {what} (line {self.number} column {self.at + 1})")

    def space(self) -> None:
        while self.at < len(self.text) and self.text[self.at] == " ":
            self.at += 1

    def take(self, literal: str) -> None:
        self.space()
        if not self.text.startswith(literal, self.at):
            self.fail(f"expected {literal!r}")
        self.at += len(literal)

    def peek(self, literal: str) -> bool:
        self.space()
        return self.text.startswith(literal, self.at)

    def end(self) -> None:
        self.space()
        if self.at != len(self.text):
            self.fail("expected end of command")

    def statement(self):
        if self.peek(":if"):
            return self.condition()
        self.space()
        for verb in VERBS:
            if self.text.startswith(verb + " ", self.at) or self.text[self.at:] == verb:
                self.at += len(verb)
                return self.command(verb)
        self.fail("unknown command")

    def condition(self) -> If:
        self.take(":if")
        self.take("(")
        self.take("[:len")
        find = self.find()
        self.take("]")
        self.space()
        op = self.text[self.at:self.at + 1]
        if op not in ("=", ">"):
            self.fail("expected = or >")
        self.at += 1
        self.space()
        digits = re.match(r"\d+", self.text[self.at:])
        if not digits:
            self.fail("expected a number")
        self.at += digits.end()
        self.take(")")
        self.take("do={")
        then = self.statement()
        self.take("}")
        otherwise = None
        if self.peek("else={"):
            self.take("else={")
            otherwise = self.statement()
            self.take("}")
        return If(find, op, int(digits.group()), then, otherwise)

    def find(self) -> Find:
        self.take("[find")
        where = {}
        while not self.peek("]"):
            key, value = self.argument()
            if not isinstance(value, str):
                self.fail("find takes plain values")
            where[key] = value
        self.take("]")
        return Find(where)

    def command(self, verb: str) -> Command:
        target = None
        if verb in ("set", "remove"):
            if self.peek("[find"):
                target = self.find()
            else:
                self.space()
                match = _BARE.match(self.text, self.at)
                if match and "=" not in self.text[self.at:match.end() + 1]:
                    target = match.group()
                    self.at = match.end()
        args = {}
        while True:
            self.space()
            if self.at == len(self.text) or self.text[self.at] == "}":
                return Command(verb, target, args)
            key, value = self.argument()
            args[key] = value

    def argument(self) -> tuple[str, object]:
        self.space()
        match = _KEY.match(self.text, self.at)
        if not match or self.text[match.end():match.end() + 1] != "=":
            self.fail("expected name=value")
        self.at = match.end() + 1
        return match.group(), self.value()

    def value(self):
        if self.text.startswith('"', self.at):
            return self.quoted()
        if self.text.startswith("[:pick", self.at):
            self.take("[:pick")
            find = self.find()
            self.take("0]")
            return Pick(find)
        match = _BARE.match(self.text, self.at)
        if not match:
            self.fail("expected a value")
        self.at = match.end()
        return match.group()

    def quoted(self) -> str:
        self.at += 1
        out = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == '"':
                self.at += 1
                return "".join(out)
            if char == "\\":
                escaped = self.text[self.at + 1:self.at + 2]
                if escaped not in _ESCAPES:
                    self.fail("unknown escape")
                out.append(_ESCAPES[escaped])
                self.at += 2
                continue
            if char == "$":
                self.fail("variables are not supported")
            out.append(char)
            self.at += 1
        self.fail("unterminated string")
