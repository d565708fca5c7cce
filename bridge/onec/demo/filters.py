"""The `$filter` subset of 1C's standard OData interface, parsed and evaluated.

Covers what reference 17.4.6.1 documents and our clients use: `eq ne gt ge lt le`,
`and or not`, parentheses, `substringof(s, Field)`, `startswith(Field, s)`, and the
literals `'…'` (quotes doubled), `guid'…'`, `datetime'…'`, numbers, `true`,
`false`, `null`. A reference compared with a bare string never matches (1C needs
`guid'…'`); anything else is a parse error (1C's code 14).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Entity = dict[str, Any]
Predicate = Callable[[Entity], bool]
Getter = Callable[[Entity], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<guid>guid'[0-9a-fA-F-]{36}')
    | (?P<dt>datetime'[0-9T:.-]+')
    | (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<punct>[(),])
    | (?P<name>[^\W\d][\w/]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


class FilterError(ValueError):
    """The filter text is not in the subset; 1C answers code 14."""


@dataclass(frozen=True, slots=True)
class _Guid:
    value: str


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str


def parse(text: str) -> Predicate:
    tokens = _tokenize(text)
    parser = _Parser(tokens)
    predicate = parser.expr()
    if parser.pos != len(tokens):
        raise FilterError(f"unexpected {tokens[parser.pos].text!r}")
    return lambda e: bool(predicate(e))


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterError(f"cannot read the filter at {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text):
            raise FilterError(f"expected {text or 'more'}")
        self.pos += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text == word:
            self.pos += 1
            return True
        return False

    def expr(self) -> Getter:
        left = self.conjunction()
        while self.keyword("or"):
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> Getter:
        left = self.unary()
        while self.keyword("and"):
            right = self.unary()
            left = _and(left, right)
        return left

    def unary(self) -> Getter:
        if self.keyword("not"):
            inner = self.unary()
            return lambda e: not inner(e)
        left = self.term()
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text in _COMPARE:
            self.pos += 1
            return _comparison(left, _COMPARE[tok.text], self.term())
        return left

    def term(self) -> Getter:
        tok = self.take()
        if tok.text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if tok.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.text == "(":
                return self.call(tok.text)
            return _constant_or_field(tok.text)
        value = _literal(tok)
        return lambda e: value

    def call(self, name: str) -> Getter:
        self.take("(")
        args = [self.expr()]
        while self.at(","):
            self.take(",")
            args.append(self.expr())
        self.take(")")
        if name == "substringof" and len(args) == 2:
            needle, hay = args
            return lambda e: _text(needle(e)) in _text(hay(e))
        if name == "startswith" and len(args) == 2:
            hay, prefix = args
            return lambda e: _text(hay(e)).startswith(_text(prefix(e)))
        raise FilterError(
            f"function {name} with {len(args)} arguments is not supported"
        )


def _or(a: Getter, b: Getter) -> Getter:
    return lambda e: bool(a(e)) or bool(b(e))


def _and(a: Getter, b: Getter) -> Getter:
    return lambda e: bool(a(e)) and bool(b(e))


def _comparison(left: Getter, op: Callable[[Any, Any], bool], right: Getter) -> Getter:
    return lambda e: op(*_coerce(left(e), right(e)))


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring a property value and a literal to one comparable type."""
    if isinstance(a, _Guid) and isinstance(b, _Guid):
        return (a.value, b.value)
    if isinstance(a, _Guid) or isinstance(b, _Guid):
        # A reference against a bare string (or a composite field holding a
        # guid) never matches in 1C: only guid'…' compares with a reference.
        return (object(), object())
    if isinstance(b, datetime) and isinstance(a, str):
        return (datetime.fromisoformat(a), b)
    if isinstance(a, datetime) and isinstance(b, str):
        return (a, datetime.fromisoformat(b))
    return (a, b)


def _constant_or_field(name: str) -> Getter:
    constants = {"true": True, "false": False, "null": None}
    if name in constants:
        value = constants[name]
        return lambda e: value

    def get(entity: Entity) -> Any:
        value: Any = entity
        for part in name.split("/"):
            if not isinstance(value, dict) or part not in value:
                raise FilterError(f"no property {name}")
            value = value[part]
        if isinstance(value, str) and name.endswith("_Key"):
            return _Guid(value.lower())
        return value

    return get


def _literal(tok: _Tok) -> Any:
    if tok.kind == "guid":
        return _Guid(tok.text[5:-1].lower())
    if tok.kind == "dt":
        return datetime.fromisoformat(tok.text[9:-1])
    if tok.kind == "str":
        return tok.text[1:-1].replace("''", "'")
    if tok.kind == "num":
        return float(tok.text) if "." in tok.text else int(tok.text)
    raise FilterError(f"unexpected {tok.text!r}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
