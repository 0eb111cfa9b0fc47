"""String literals of the language: `"..."` with two escapes, `\\"` and `\\\\`; any other character,
non-ASCII included, stands for itself. Control characters (and lone surrogates) are refused: paths never hold them."""

from __future__ import annotations

from snnc.diagnostics import Diagnostic, Span, error

ESCAPES = {'"': '"', "\\": "\\"}


def unescape(token: str, path: str, line: int, column: int) -> tuple[str, Diagnostic | None]:
    """The value of the string literal `token` (quotes included) that starts at line:column, or the
    diagnostic of its first bad character, pointed at that character."""
    body, out, index = token[1:-1], [], 0
    while index < len(body):
        char = body[index]
        where = Span(path, line, column + 1 + index, line, column + 3 + index)
        if char == "\\":
            escaped = body[index + 1:index + 2]
            if escaped not in ESCAPES:
                return "", error("E005", f"unknown escape '\\{escaped}' in a string; the only escapes are "
                                 "\\\" and \\\\ (in a path, write a backslash as \\\\ or use '/')", where)
            out.append(ESCAPES[escaped])
            index += 2
            continue
        if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or 0xD800 <= ord(char) < 0xE000:
            return "", error("E005", f"a string may not hold the control character U+{ord(char):04X}",
                             Span(path, line, column + 1 + index, line, column + 2 + index))
        out.append(char)
        index += 1
    return "".join(out), None
