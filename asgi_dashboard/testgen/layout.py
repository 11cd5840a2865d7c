"""Black-style layout of the small expressions the generated tests are made of.

The generated code must come out formatted whether or not ``ruff`` is available, so calls,
dicts and lists are built as little trees and laid out the way black/ruff format them: on one
line when it fits; else a call's (or def's) arguments on one line of their own when they fit
there; else one element per line with a trailing comma (the "magic trailing comma" keeps that
form stable under ``ruff format``), nested brackets laid out the same way. A collection literal
(dict, list) that does not fit is always one element per line, as black does. Long
string literals stay on one line, as black leaves them. Literals follow ruff's quote rule:
double quotes unless single quotes need fewer escapes.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Black's and ruff's default line length.
LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True, slots=True)
class Atom:
    """Code that is never split (a name, a literal, ``x.y()``)."""

    text: str


@dataclass(frozen=True, slots=True)
class Pair:
    """``key=value`` (a keyword argument) or ``key: value`` (a dict entry)."""

    key: str
    value: Node
    sep: str = "="


@dataclass(frozen=True, slots=True)
class Brackets:
    """``head(items)``, ``{items}``, ``[items]``: split one item per line when too long."""

    head: str
    opening: str
    items: tuple[Node, ...]
    closing: str


Node = Atom | Pair | Brackets


def call(name: str, *args: Node | str, **kwargs: Node | str) -> Brackets:
    """``name(args, key=value)``; plain strings are code (atoms)."""
    items: list[Node] = [_node(a) for a in args]
    items += [Pair(k, _node(v)) for k, v in kwargs.items()]
    return Brackets(name, "(", tuple(items), ")")


def _node(value: Node | str) -> Node:
    return Atom(value) if isinstance(value, str) else value


def flat(node: Node) -> str:
    """The node on one line."""
    if isinstance(node, Atom):
        return node.text
    if isinstance(node, Pair):
        sep = "=" if node.sep == "=" else f"{node.sep} "
        return f"{node.key}{sep}{flat(node.value)}"
    inner = ", ".join(flat(item) for item in node.items)
    return f"{node.head}{node.opening}{inner}{node.closing}"


def render(node: Node, indent: str = "", lead: str = "", tail: str = "") -> list[str]:
    """Lines of ``lead + node + tail`` at ``indent``, split the way black splits it."""
    one = f"{indent}{lead}{flat(node)}{tail}"
    if len(one) <= LINE_LENGTH:
        return [one]
    if isinstance(node, Pair):
        sep = "=" if node.sep == "=" else f"{node.sep} "
        return render(node.value, indent, f"{lead}{node.key}{sep}", tail)
    if isinstance(node, Atom) or not node.items:
        return [one]  # cannot be split (black leaves a long string as it is)
    lines = [f"{indent}{lead}{node.head}{node.opening}"]
    if node.head:
        # A call or a def: black first tries all arguments on one line of their own (no
        # trailing comma); a collection literal is always one element per line.
        body = f"{indent}{INDENT}{', '.join(flat(item) for item in node.items)}"
        if len(body) <= LINE_LENGTH:
            return [*lines, body, f"{indent}{node.closing}{tail}"]
    for item in node.items:
        lines += render(item, indent + INDENT, "", ",")
    lines.append(f"{indent}{node.closing}{tail}")
    return lines


def py_str(text: str) -> str:
    """A Python string literal of ``text`` in ruff's preferred quotes."""
    doubles, singles = text.count('"'), text.count("'")
    quote = "'" if singles < doubles else '"'
    out = [quote]
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def py_bytes(data: bytes) -> str:
    """A bytes literal (``b"..."``) in ruff's preferred quotes."""
    text = py_str(data.decode("latin-1"))
    # Non-ASCII latin-1 characters are printable in str but not allowed in a bytes literal.
    escaped = "".join(ch if ord(ch) < 0x80 else f"\\x{ord(ch):02x}" for ch in text)
    return "b" + escaped


def literal(value: object) -> Node:
    """A JSON value (dict, list, str, number, bool, None) as a Python literal node."""
    if isinstance(value, dict):
        return Brackets(
            "", "{", tuple(Pair(py_str(str(k)), literal(v), ":") for k, v in value.items()), "}"
        )
    if isinstance(value, list):
        return Brackets("", "[", tuple(literal(v) for v in value), "]")
    if isinstance(value, str):
        return Atom(py_str(value))
    return Atom(repr(value))  # int, float, bool, None


def statement(node: Node, indent: str, lead: str = "", tail: str = "") -> str:
    """One statement's text (lines joined)."""
    return "\n".join(render(node, indent, lead, tail))
