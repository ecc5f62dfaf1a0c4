"""A griffe extension for the API pages: gradwise's docstrings are plain text, not Markdown.

They index as the code does (``param_groups[i]['lr']``, ``.history[layer][metric]``), which
Markdown reads as reference links: mkdocs-autorefs then looks for a page named 'lr' and
``mkdocs build --strict`` fails. Here every "[" of the prose (outside code spans and indented
code blocks) is escaped, so the brackets print as written. The docstrings themselves, what
help() shows, stay as they are.
"""
import re

import griffe

_CODE_SPAN = re.compile(r"(`+).*?\1")


def _escape_prose(line: str) -> str:
    """'[' -> '\\[' outside the line's code spans."""
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(line):
        out += [line[pos:m.start()].replace("[", "\\["), m.group(0)]
        pos = m.end()
    return "".join(out) + line[pos:].replace("[", "\\[")


def plain_text(doc: str) -> str:
    """The docstring with its prose's brackets escaped; indented blocks (code) as they are.

    As in Markdown, a line indented by 4 spaces is code when it follows a blank line or more
    code; after a line of prose it continues that prose (a hanging indent).
    """
    lines, in_code, prev_blank = [], False, True
    for line in doc.split("\n"):
        blank = not line.strip()
        if not blank:
            in_code = line.startswith("    ") and (prev_blank or in_code)
        lines.append(line if blank or in_code else _escape_prose(line))
        prev_blank = blank
    return "\n".join(lines)


class PlainDocstrings(griffe.Extension):
    """Escape the prose of every docstring as griffe loads it (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_text(obj.docstring.value)
