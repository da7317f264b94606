"""The report as a list of blocks, written out as Markdown or as HTML with the same content."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Text:
    text: str  # `code` spans allowed


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    links: dict[int, str]  # row index -> where its cell in `link_column` links to
    link_column: int = 0


@dataclass(frozen=True)
class Image:
    path: str  # relative to the report
    alt: str


@dataclass(frozen=True)
class Link:
    path: str
    text: str


Block = Heading | Text | Table | Image | Link

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1300px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "img{max-width:100%}"
)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(blocks: list[Block]) -> str:
    """The report as Markdown (GitHub's flavour: tables, relative image links)."""
    parts: list[str] = []
    for block in blocks:
        match block:
            case Heading(level, text):
                parts.append(f"{'#' * level} {text}")
            case Text(text):
                parts.append(text)
            case Table(header, rows, links, column):
                lines = ["| " + " | ".join(map(_md_cell, header)) + " |"]
                lines.append("|" + "---|" * len(header))
                for i, row in enumerate(rows):
                    cells = [_md_cell(c) for c in row]
                    if i in links:
                        cells[column] = f"[{cells[column]}]({links[i]})"
                    lines.append("| " + " | ".join(cells) + " |")
                parts.append("\n".join(lines))
            case Image(path, alt):
                parts.append(f"![{alt}]({path})")
            case Link(path, text):
                parts.append(f"- [{text}]({path})")
    return "\n\n".join(parts) + "\n"


def _inline(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def to_html(blocks: list[Block], title: str) -> str:
    """The report as one HTML page that shows the images from their relative paths."""
    body: list[str] = []
    for block in blocks:
        match block:
            case Heading(level, text):
                body.append(f"<h{level}>{_inline(text)}</h{level}>")
            case Text(text):
                body.append(f"<p>{_inline(text)}</p>")
            case Table(header, rows, links, column):
                head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
                lines = [f"<table><tr>{head}</tr>"]
                for i, row in enumerate(rows):
                    cells = [html.escape(c) for c in row]
                    if i in links:
                        cells[column] = f'<a href="{html.escape(links[i])}">{cells[column]}</a>'
                    lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
                body.append("\n".join([*lines, "</table>"]))
            case Image(path, alt):
                body.append(f'<p><img src="{html.escape(path)}" alt="{html.escape(alt)}"></p>')
            case Link(path, text):
                body.append(f'<p><a href="{html.escape(path)}">{html.escape(text)}</a></p>')
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
