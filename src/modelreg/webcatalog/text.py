"""What every page shares: escaping registry values, rendering Markdown safely, links.

Every value read from the registry (names, tags, descriptions, users, sources...) goes
through :func:`esc` before it reaches HTML, attributes included. Markdown is rendered by
markdown-it-py's CommonMark with raw HTML off: ``<script>`` in a description is text,
``javascript:`` links are refused by markdown-it's ``validateLink``, and images are not
rendered (an image would be fetched from wherever it points when the page is viewed).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from modelreg.entities import ms_to_iso


def esc(value: object) -> str:
    """``value`` as text safe in HTML content and in double- or single-quoted attributes."""
    text = value if type(value) is str else "" if value is None else str(value)
    # Most values need nothing: five membership tests are cheaper than html.escape's
    # five replacements (a catalog escapes a million values).
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return html.escape(text, quote=True)
    return text


def when(ms: int | None) -> str:
    """A time as people read it: ``2026-11-28 19:13:34 UTC``."""
    if ms is None:
        return ""
    iso = ms_to_iso(ms)
    return f"{iso[:10]} {iso[11:19]} UTC"


@functools.lru_cache(maxsize=65536)
def time_tag(ms: int | None) -> str:
    if ms is None:
        return ""
    return iso_time_tag(ms_to_iso(ms))


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\Z")


@functools.lru_cache(maxsize=65536)
def iso_time_tag(text: str) -> str:
    """A ``<time>`` of an ISO-8601 UTC time as modelreg writes them (anything else is
    shown as it is, escaped)."""
    if not _ISO.match(text):
        return esc(text)
    return f'<time datetime="{text}">{text[:10]} {text[11:19]} UTC</time>'


def href(path: str) -> str:
    """A relative link's path, percent-encoded (model names are letters, digits and
    ``._-`` already; this keeps it so whatever they become)."""
    return esc(quote(path, safe="/._-"))


def model_path(name: str) -> str:
    """The model's page, relative to the site's root."""
    return f"models/{name}/index.html"


def version_path(name: str, version: int) -> str:
    """A version's page, relative to the site's root."""
    return f"models/{name}/v{int(version)}.html"


def link(path: str, text: object, cls: str | None = None) -> str:
    attribute = f' class="{esc(cls)}"' if cls else ""
    return f'<a href="{href(path)}"{attribute}>{esc(text)}</a>'


_SAFE_URL = re.compile(r"https?://[^\s\"'<>]+\Z", re.IGNORECASE)


def external_link(url: object, text: object | None = None) -> str:
    """A link to ``url`` when it is an http(s) URL, else ``url`` as text."""
    if not isinstance(url, str) or not _SAFE_URL.match(url):
        return esc(url)
    shown = url if text is None else text
    return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(shown)}</a>'


def value_text(value: object) -> str:
    """A param, lineage or history value as one line of text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        from modelreg import jsonio

        return jsonio.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def chips(items: Sequence[tuple[str, str | None]], cls: str = "chip") -> str:
    """``key=value`` pills (value None: the key alone)."""
    return " ".join(
        f'<span class="{cls}">{esc(key)}</span>'
        if value is None
        else f'<span class="{cls}">{esc(key)}<span class="eq">=</span>{esc(value)}</span>'
        for key, value in items
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table of already-escaped cells (headers are escaped here)."""
    head = "".join(f"<th>{esc(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    attribute = f' class="{esc(cls)}"' if cls else ""
    return (
        f'<div class="scroll"><table{attribute}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


@functools.lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])  # model cards are often tables (GFM's)
    md.disable("image")  # nothing is fetched when a page is viewed

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        # Links lead out of the site: no referrer, no access to this window.
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


@functools.lru_cache(maxsize=4096)
def markdown(text: str) -> str:
    """``text`` (Markdown) as HTML: raw HTML shown as text, unsafe links refused."""
    return str(_markdown().render(text))
