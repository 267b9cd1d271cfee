"""The Jinja environment of the report's templates, and the text of a rendered section made ready for Markdown."""

from __future__ import annotations

import re
import traceback
from pathlib import Path
from typing import Any

import jinja2

from helpers.paths import REPORT_DIR
from helpers.reporting.artifacts import ReportInputError
from helpers.reporting.filters import FILTERS

TEMPLATES = REPORT_DIR

TEMPLATE = "template.md.j2"


# Rendering ----------------------------------------------------------------------------------------------------


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    """Jinja2 for Markdown: no HTML escaping, StrictUndefined, block tags leave no blank lines behind."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def reflow(text: str) -> str:
    """Join the lines the template wraps for its editors, so each paragraph and list item is one line.

    Tables, headings, images and code keep their lines; runs of blank lines become one.
    """
    blocks = [block for block in _blocks(text) if block.strip()]
    out = []
    for block in blocks:
        lines = [line.strip() for line in block.strip("\n").split("\n")]
        if lines[0].startswith(("|", "#", "```", "<")):
            out.append("\n".join(lines))
            continue
        items: list[str] = []
        for line in lines:
            if line.startswith("- ") or not items:
                items.append(line)
            else:
                items[-1] += " " + line
        out.append("\n".join(items))
    return "\n\n".join(out) + "\n"


def _blocks(text: str) -> list[str]:
    """The text split at blank lines, except inside a fenced code block, which stays one block."""
    parts = re.split(r"(\n\s*\n)", text)
    blocks: list[str] = []
    fenced = False
    for index, part in enumerate(parts):
        if index % 2:  # a separator: a paragraph break unless it falls inside a fence
            if fenced:
                blocks[-1] += part
            continue
        if fenced:
            blocks[-1] += part
        else:
            blocks.append(part)
        fenced ^= part.count("```") % 2 == 1
    return blocks


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """The template rendered and reflowed; a fact it asks for and the context lacks names the template line."""
    try:
        return reflow(env.get_template(name).render(context))
    except jinja2.UndefinedError as error:
        frames = traceback.extract_tb(error.__traceback__)
        where = next((f"{f.filename}, line {f.lineno}" for f in reversed(frames) if f.filename.endswith(".j2")), name)
        raise ReportInputError(f"{where}: the template asks for a fact the context lacks: {error}") from error
