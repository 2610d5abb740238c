"""One PowerShell command line, read with PowerShell's own quoting rules (argument mode).

``parse_command("Set-SendConnector 'Outbound to Office 365' -TlsCertificateName:$Name -RequireTLS")`` gives the
command name, its named parameters and its positional arguments, each argument a :class:`Value`:

- ``'...'`` single-quoted: nothing expands; a quote is written twice (``''``). PowerShell also takes the curly
  quotes U+2018, U+2019, U+201A and U+201B as single quotes, each closing any other;
- ``"..."`` double-quoted (or U+201C, U+201D, U+201E): a backtick escapes the next character (`` `n `` a line
  break, `` `" `` a quote), a doubled quote is one quote; ``$name`` or ``$(...)`` inside makes the value one the
  line does not know (kept as written, never guessed);
- a backtick at the end of a line continues the command on the next;
- ``-Param:value``, ``-Param value``, a switch ``-Param`` alone; ``$true``, ``$false``, ``$null``;
- arrays ``a,b`` and ``@('a','b')``; a variable ``$X``, an expression ``(...)`` or ``$(...)``: values not known
  from the line; ``@params``: splatting, resolved by the caller from a hashtable read with :func:`parse_hashtable`.

Parameter names are kept as written; :func:`resolve_parameter` binds one to a cmdlet's parameter by its exact name,
an alias, or an unambiguous prefix. :func:`quoted_assignment` reads ``$name = 'string'``.

The command ends at a line end (not continued), ``;``, ``|`` or a ``#`` comment. Anything that is not a
command PowerShell would accept raises :class:`CommandSyntaxError` with a one-line message.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SINGLE = frozenset("'\u2018\u2019\u201a\u201b")
DOUBLE = frozenset("\"\u201c\u201d\u201e")
_SPACE = frozenset(" \t\u00a0\u2007\u202f\f\v")
_ENDS = frozenset("\n;|")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_CONSTANTS = {"$true": "True", "$false": "False", "$null": None}
MAX_DEPTH = 32  # nested (), @(), @{}, $() in one value


class CommandSyntaxError(ValueError):
    """Text that is not a command PowerShell would parse (an unterminated quote, an unbalanced bracket)."""


class ValueKind(str, enum.Enum):
    LITERAL = "literal"  # a string or bare word, known from the line
    BOOLEAN = "boolean"  # $true / $false (text "True" / "False")
    NULL = "null"  # $null
    VARIABLE = "variable"  # $X: set from a variable, not known from the line
    EXPRESSION = "expression"  # "...$x...", $(...), (...): computed when run, not known from the line
    ARRAY = "array"  # a,b or @(...)
    SPLAT = "splat"  # @params


@dataclass(frozen=True, slots=True)
class Value:
    kind: ValueKind
    text: str | None  # the value when known (LITERAL, BOOLEAN); as written otherwise
    items: tuple[Value, ...] = ()

    @property
    def known(self) -> bool:
        if self.kind is ValueKind.ARRAY:
            return all(item.known for item in self.items)
        return self.kind in (ValueKind.LITERAL, ValueKind.BOOLEAN, ValueKind.NULL)

    @property
    def unknown_parts(self) -> tuple[str, ...]:
        """What the value depends on that the line does not say: ``$TLSCertName``, ``$($c.Issuer)``."""
        if self.kind is ValueKind.ARRAY:
            return tuple(part for item in self.items for part in item.unknown_parts)
        return () if self.known else (self.text or "",)

    def strings(self) -> tuple[str, ...]:
        """The known strings: one for a literal, each item's for an array."""
        if self.kind is ValueKind.ARRAY:
            return tuple(s for item in self.items for s in item.strings())
        return (self.text,) if self.known and self.text is not None else ()


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str  # as written, without the dash
    value: Value | None  # None: a switch given alone
    offset: int  # where ``-Name`` starts in the text


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    parameters: tuple[Parameter, ...]
    positional: tuple[Value, ...]
    splats: tuple[str, ...]  # variable names of @splat arguments
    end: int  # offset just past the command in the text

    def get(self, name: str) -> Parameter | None:
        """The last parameter of that name (case-insensitive, as PowerShell binds it)."""
        wanted = name.casefold()
        found = [p for p in self.parameters if p.name.casefold() == wanted]
        return found[-1] if found else None


@dataclass
class _Reader:
    text: str
    pos: int = 0
    depth: int = 0
    parts: list[str] = field(default_factory=list)

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.text[at] if at < len(self.text) else ""

    def fail(self, what: str) -> CommandSyntaxError:
        line = self.text.count("\n", 0, self.pos) + 1
        return CommandSyntaxError(f"{what} (line {line} of the command)")

    def skip_space(self) -> None:
        """Blanks, and backtick line continuations."""
        while True:
            char = self.peek()
            if char in _SPACE and char:
                self.pos += 1
            elif char == "`" and self.peek(1) in ("\n", "\r") and self.peek(1):
                self.pos += 3 if self.text.startswith("\r\n", self.pos + 1) else 2
            else:
                return

    def skip_separators(self) -> None:
        """Blanks, line ends, ``;`` and ``#`` comments: what stands between the statements of a list or table."""
        while True:
            self.skip_space()
            char = self.peek()
            if char and char in "\n\r;":
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def at_end(self) -> bool:
        char = self.peek()
        if char == "\r" and self.peek(1) in ("\n", ""):
            return True
        return char == "" or char in _ENDS or char in ")}#"

    def single(self) -> str:
        """A single-quoted string from its opening quote; any single quote closes, doubled is one."""
        self.pos += 1
        out = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("a single-quoted string is not closed")
            self.pos += 1
            if char in SINGLE:
                if self.peek() in SINGLE and self.peek():
                    out.append(self.peek())
                    self.pos += 1
                    continue
                return "".join(out)
            out.append(char)

    def double(self) -> tuple[str, bool]:
        """A double-quoted string: its text, and whether it expands something ($x, $(...))."""
        start = self.pos
        self.pos += 1
        out = []
        dynamic = False
        while True:
            char = self.peek()
            if not char:
                raise self.fail("a double-quoted string is not closed")
            self.pos += 1
            if char == "`":
                nxt = self.peek()
                if not nxt:
                    raise self.fail("a double-quoted string is not closed")
                self.pos += 1
                out.append(_ESCAPES.get(nxt, nxt))
            elif char in DOUBLE:
                if self.peek() in DOUBLE and self.peek():
                    out.append(self.peek())
                    self.pos += 1
                    continue
                return ("".join(out), False) if not dynamic else (self.text[start:self.pos], True)
            elif char == "$" and (self.peek() == "(" or self.peek() == "{" or _variable_char(self.peek())):
                dynamic = True
                if self.peek() == "(":
                    self.balanced("(", ")")
                out.append(char)
            else:
                out.append(char)

    def balanced(self, opening: str, closing: str) -> str:
        """From an opening bracket to its match, quotes respected; the text as written."""
        start = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("brackets nested too deeply")
        self.pos += 1
        while True:
            char = self.peek()
            if not char:
                raise self.fail(f"'{opening}' is not closed")
            if char in SINGLE:
                self.single()
            elif char in DOUBLE:
                self.double()
            elif char == "`":
                self.pos += 2
            elif char in "({":
                self.balanced(char, ")" if char == "(" else "}")
            elif char == closing:
                self.pos += 1
                self.depth -= 1
                return self.text[start:self.pos]
            elif char in ")}":
                raise self.fail(f"'{char}' closes what is not open")
            else:
                self.pos += 1

    def element(self) -> Value:
        """One value, without commas: the parts written together (``'a'"b"c``) make one string."""
        start = self.pos
        text: list[str] = []
        dynamic: str | None = None
        while True:
            char = self.peek()
            if not char or char in _SPACE or char in _ENDS or char in ",)}\r":
                break
            if char == "#" and self.pos == start:
                break
            if char in SINGLE:
                text.append(self.single())
            elif char in DOUBLE:
                value, expands = self.double()
                if expands:
                    dynamic = dynamic or "expression"
                text.append(value)
            elif char == "`":
                nxt = self.peek(1)
                if nxt in ("\n", "\r") or not nxt:
                    break  # a continuation ends the element
                text.append(nxt)
                self.pos += 2
            elif char == "$":
                found = self.variable()  # always read: it moves past the variable
                dynamic = dynamic or found
            elif char == "@" and self.pos == start and self.peek(1) and self.peek(1) in "({":
                self.pos += 1
                inner = self.balanced(char := self.peek(), ")" if char == "(" else "}")
                if char == "(":
                    return _array_of(inner[1:-1], self)
                dynamic = "expression"
            elif char == "@" and self.pos == start and _variable_char(self.peek(1)):
                self.pos += 1
                name = self._name()
                return Value(ValueKind.SPLAT, name)
            elif char == "(":
                self.balanced("(", ")")
                dynamic = "expression"
            elif char == "{":
                self.balanced("{", "}")
                dynamic = "expression"
            else:
                text.append(char)
                self.pos += 1
        raw = self.text[start:self.pos]
        if not raw:
            raise self.fail(f"a value was expected, found {self.peek()!r}" if self.peek() else "a value was expected")
        if dynamic == "variable" and raw.casefold() in _CONSTANTS:
            constant = _CONSTANTS[raw.casefold()]
            return Value(ValueKind.NULL if constant is None else ValueKind.BOOLEAN, constant)
        if dynamic == "variable" and raw.startswith("$") and _simple_variable(raw):
            return Value(ValueKind.VARIABLE, raw)
        if dynamic:
            return Value(ValueKind.EXPRESSION, raw)
        return Value(ValueKind.LITERAL, "".join(text))

    def _name(self) -> str:
        start = self.pos
        while _variable_char(self.peek()) or (self.peek() == ":" and _variable_char(self.peek(1))):
            self.pos += 1
        return self.text[start:self.pos]

    def variable(self) -> str:
        """``$name``, ``${name}``, ``$(...)`` from the dollar sign; 'variable' for a plain one."""
        self.pos += 1
        char = self.peek()
        if char == "(":
            self.balanced("(", ")")
            return "expression"
        if char == "{":
            end = self.text.find("}", self.pos)
            if end < 0:
                raise self.fail("'${' is not closed")
            self.pos = end + 1
            return "variable"
        if not self._name():
            if self.peek() in ("$", "?", "^"):
                self.pos += 1
            return "expression"  # $$, $?, $^, a lone '$': not a value the line tells
        if (self.peek() == "." and _variable_char(self.peek(1))) or self.peek() == "[":  # member or index: computed
            while self.peek() and self.peek() not in _SPACE and self.peek() not in _ENDS and self.peek() not in ",)}":
                if self.peek() == "[":
                    self.balanced_square()
                elif self.peek() == "(":
                    self.balanced("(", ")")
                else:
                    self.pos += 1
            return "expression"
        return "variable"

    def balanced_square(self) -> None:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.fail("'[' is not closed")
        self.pos = end + 1

    def value(self) -> Value:
        """An argument: elements separated by commas make an array."""
        items = [self.element()]
        while True:
            save = self.pos
            self.skip_space()
            if self.peek() != ",":
                self.pos = save
                break
            self.pos += 1
            self.skip_space()
            items.append(self.element())
        return items[0] if len(items) == 1 else Value(ValueKind.ARRAY, None, tuple(items))


def _variable_char(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_")


def _simple_variable(raw: str) -> bool:
    name = raw[1:]
    if name.startswith("{") and name.endswith("}"):
        return True
    return bool(name) and all(_variable_char(c) or c == ":" for c in name)


def _array_of(inner: str, outer: _Reader) -> Value:
    """``@(...)``: the items of a literal list; any statement in it makes it an expression."""
    reader = _Reader(inner, depth=outer.depth)
    items: list[Value] = []
    try:
        while True:
            reader.skip_separators()
            if not reader.peek():
                break
            value = reader.value()
            items.extend(value.items if value.kind is ValueKind.ARRAY else (value,))
            reader.skip_space()
            if reader.peek() and reader.peek() not in "\r\n;":
                raise CommandSyntaxError("not a list")
    except CommandSyntaxError:
        return Value(ValueKind.EXPRESSION, f"@({inner})")
    if any(item.kind is ValueKind.SPLAT for item in items):
        return Value(ValueKind.EXPRESSION, f"@({inner})")
    return Value(ValueKind.ARRAY, None, tuple(items))


def _parameter_name(reader: _Reader) -> str | None:
    """``-Name`` at the reader's position (a dash then a letter); None for a value that starts with a dash."""
    if reader.peek() not in ("-", "\u2013", "\u2014") or not (reader.peek(1).isalpha() or reader.peek(1) == "_"):
        return None
    start = reader.pos + 1
    end = start
    while end < len(reader.text) and (reader.text[end].isalnum() or reader.text[end] in "_-?"):
        end += 1
    reader.pos = end
    return reader.text[start:end]


def parse_command(text: str, start: int = 0) -> Command:
    """The command at ``start`` in ``text`` (its name first), read up to where PowerShell would end it."""
    reader = _Reader(text, start)
    reader.skip_space()
    name_start = reader.pos
    while reader.peek() and not reader.peek().isspace() and reader.peek() not in ";|#()`'\"":
        reader.pos += 1
    name = text[name_start:reader.pos]
    if not name:
        raise reader.fail("no command name")
    parameters: list[Parameter] = []
    positional: list[Value] = []
    splats: list[str] = []
    while True:
        reader.skip_space()
        if reader.at_end():
            break
        offset = reader.pos
        param = _parameter_name(reader)
        if param is None:
            value = reader.value()
            if value.kind is ValueKind.SPLAT:
                splats.append(value.text or "")
            else:
                positional.append(value)
            continue
        if reader.peek() == ":":  # -Param:value binds the value, even one that starts with a dash
            reader.pos += 1
            reader.skip_space()
            parameters.append(Parameter(param, reader.value(), offset))
            continue
        save = reader.pos
        reader.skip_space()
        if reader.at_end() or _parameter_name(_Reader(text, reader.pos)) is not None:
            reader.pos = save
            parameters.append(Parameter(param, None, offset))
        else:
            parameters.append(Parameter(param, reader.value(), offset))
    return Command(name=name, parameters=tuple(parameters), positional=tuple(positional), splats=tuple(splats),
                   end=reader.pos)


def resolve_parameter(written: str, names: Iterable[str], aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The parameters a name as written binds to, as PowerShell binds it: the parameter (or alias) of that exact
    name, case-insensitively; else every parameter it is a prefix of. One: bound; none: not a parameter of the
    cmdlet; several: ambiguous (PowerShell refuses the command)."""
    folded = written.casefold()
    by_name = {name.casefold(): name for name in names}
    if folded in by_name:
        return (by_name[folded],)
    alias = {key.casefold(): target for key, target in (aliases or {}).items()}.get(folded)
    if alias is not None:
        return (alias,)
    return tuple(name for key, name in by_name.items() if key.startswith(folded)) if folded else ()


def quoted_assignment(text: str, start: int) -> tuple[str, str] | None:
    """``$name = 'literal'`` (or a double-quoted string that expands nothing) alone in its statement, at ``start``
    (the dollar sign): (the variable's name, the string). None for anything else: a command, an expression, an
    operator after the string, a scope-qualified name."""
    reader = _Reader(text, start)
    if reader.peek() != "$":
        return None
    reader.pos += 1
    if reader.peek() == "{":
        end = text.find("}", reader.pos, reader.pos + 256)
        if end < 0:
            return None
        name, reader.pos = text[reader.pos + 1:end], end + 1
    else:
        name = reader._name()
    if not name or ":" in name:
        return None
    reader.skip_space()
    if reader.peek() != "=" or reader.peek(1) == "=":
        return None
    reader.pos += 1
    reader.skip_space()
    opening = reader.pos
    if reader.peek() not in SINGLE and reader.peek() not in DOUBLE or not reader.peek():
        return None
    try:
        value = reader.element()
    except CommandSyntaxError:
        return None
    closing = reader.pos - 1
    reader.skip_space()
    ends = reader.peek() in ("", "\n", "\r", ";", "#")
    if value.kind is not ValueKind.LITERAL or value.text is None or not ends or not (
            text[closing] in SINGLE or text[closing] in DOUBLE) or closing <= opening:
        return None
    return name, value.text


def hashtable_body(text: str) -> str:
    """The body of the hashtable whose ``{`` starts the text, up to its matching ``}`` (quotes respected)."""
    body = _Reader(text).balanced("{", "}")
    return body[1:-1]


def parse_hashtable(text: str) -> Mapping[str, Value]:
    """The entries of a hashtable literal's body (``Name = 'x'; Enabled = $true``, one per line or ``;``)."""
    reader = _Reader(text)
    entries: dict[str, Value] = {}
    while True:
        reader.skip_separators()
        if not reader.peek():
            return entries
        if reader.peek() in SINGLE:
            key = reader.single()
        elif reader.peek() in DOUBLE:
            key, _ = reader.double()
        else:
            key = reader._name()
        reader.skip_space()
        if not key or reader.peek() != "=":
            raise reader.fail("a hashtable entry is not 'Name = value'")
        reader.pos += 1
        reader.skip_space()
        entries[key] = reader.value()
