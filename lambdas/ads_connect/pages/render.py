"""HTML pages: one layout, auto-escaping templates, the security headers, in one place.

Every value substituted into a template is HTML-escaped unless it is ``Markup`` (built only
here, from other escaped fragments). Pages carry no script; the one inline style (coloured with
the operator's accent) is allowed by its hash in the Content-Security-Policy, and the only image,
the operator's logo, is a data: URI (``img-src data:``, or ``'none'`` without a logo).
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from string import Template


class Markup(str):
    """Already-safe HTML. Only this module creates it."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def render(template: Template, **values: object) -> Markup:
    return Markup(template.substitute({k: escape(v) for k, v in values.items()}))


def join(fragments: Iterable[Markup]) -> Markup:
    return Markup("".join(escape(f) for f in fragments))


# The one stylesheet; $accent is the operator's accent colour (checked for contrast against white
# in models/brand.py). Phones first: from 320 px up nothing is wider than the screen (below 768 px
# the profile table becomes stacked rows), tap targets are at least 44 px high; wider screens get
# a card, from 768 px one wide enough for the table side by side.
_STYLE = Template(
    "*,*::before,*::after{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Hiragino Sans','Noto Sans CJK JP',"
    "sans-serif;margin:0;padding:.75rem;background:#f4f5f7;color:#1b1f24;line-height:1.5;"
    "overflow-wrap:anywhere}"
    ".card{max-width:40rem;margin:0 auto;background:#fff;border-top:4px solid $accent;border-radius:8px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "header{display:flex;align-items:center;gap:.75rem;padding:1rem 1.25rem 0}"
    "header img{display:block;max-height:2.5rem;max-width:10rem;width:auto;height:auto}"
    ".brand-name{font-weight:600}"
    "main{padding:.5rem 1.25rem 1rem}"
    "footer{padding:0 1.25rem 1.25rem}"
    "h1{font-size:1.4rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.15rem}"
    "a{color:$accent}"
    "fieldset{border:1px solid #d0d4da;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}"
    "legend{padding:0 .25rem}"
    "label{display:flex;gap:.6rem;align-items:flex-start;padding:.6rem 0;min-height:44px;cursor:pointer}"
    "input[type=radio]{width:1.25rem;height:1.25rem;margin:.15rem 0 0;flex:none;accent-color:$accent}"
    "button{font:inherit;font-size:1rem;min-height:48px;width:100%;padding:.7rem 1.4rem;border:0;"
    "border-radius:6px;background:$accent;color:#fff;cursor:pointer}"
    "button:focus-visible,a:focus-visible{outline:3px solid #ff9900;outline-offset:2px}"
    "table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}"
    "@media (max-width:47.99rem){"
    "thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
    "table,tbody,tr,td{display:block;width:100%}"
    "tr{border:1px solid #d0d4da;border-radius:6px;margin:0 0 .75rem;padding:.25rem .75rem}"
    "td{display:flex;gap:1rem;justify-content:space-between;text-align:right;padding:.4rem 0;"
    "border-bottom:1px solid #eef0f2}"
    "td:last-child{border-bottom:0}"
    "td::before{content:attr(data-label);font-weight:600;color:#57606a;text-align:left;flex:none}}"
    "@media (min-width:40rem){body{padding:3rem 1rem}header,main,footer{padding-left:2.5rem;"
    "padding-right:2.5rem}button{width:auto}}"
    # Side by side the columns are wide enough for whole words (ids are never split).
    "@media (min-width:48rem){.card{max-width:46rem}th,td{overflow-wrap:normal}}"
    ".note,footer{color:#57606a;font-size:.9rem}.error h1{color:#b3261e}.ref{font-family:monospace}"
)


@dataclass(frozen=True)
class Stylesheet:
    css: str
    sha256: str  # base64, as the Content-Security-Policy's style-src names it


@cache
def stylesheet(accent_color: str) -> Stylesheet:
    css = _STYLE.substitute(accent=accent_color)
    return Stylesheet(css, base64.b64encode(hashlib.sha256(css.encode()).digest()).decode())


_LAYOUT = Template(
    "<!doctype html>\n"
    '<html lang="$lang"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="referrer" content="no-referrer">'
    "<title>$title</title><style>$style</style></head>"
    '<body><div class="card"><header>$logo<span class="brand-name">$name</span></header>'
    '<main class="$kind">$body</main>$footer</div></body></html>\n'
)


def page(
    title: str,
    body: Markup,
    *,
    lang: str,
    brand_name: str,
    logo: str | None,
    accent_color: str,
    footer: Markup,
    kind: str = "page",
) -> str:
    # The name is written beside the logo, so the image itself is decorative (alt="").
    logo_html = render(Template('<img src="$src" alt="">'), src=logo) if logo else Markup("")
    return str(
        render(
            _LAYOUT,
            lang=lang,
            title=title,
            style=Markup(stylesheet(accent_color).css),
            logo=logo_html,
            name=brand_name,
            kind=kind,
            body=body,
            footer=render(Template("<footer>$f</footer>"), f=footer) if footer else Markup(""),
        )
    )


def security_headers(
    style_sha256: str | None, *, form_targets: Iterable[str] = (), images: bool = False
) -> dict[str, str]:
    """Headers every HTML answer carries. ``style_sha256``: the page's stylesheet (None: no
    body); ``form_targets``: extra origins a form may post to; ``images``: the page embeds the
    operator's logo as a data: URI (no image is ever fetched)."""
    form_action = " ".join(["'self'", *form_targets])
    style_src = f"'sha256-{style_sha256}'" if style_sha256 else "'none'"
    img_src = "data:" if images else "'none'"
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {style_src}; img-src {img_src}; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


def redirect_headers(location: str) -> dict[str, str]:
    headers = security_headers(None)
    headers["Location"] = location
    return headers


def table(headings: Sequence[str], rows: Iterable[Iterable[object]]) -> Markup:
    """A table whose cells also carry their column's heading (``data-label``): on a phone the
    rows are stacked and each value is shown under its own label."""
    head = join(render(Template('<th scope="col">$h</th>'), h=h) for h in headings)
    cell = Template('<td data-label="$h">$c</td>')
    body = join(
        Markup("<tr>" + join(render(cell, h=h, c=c) for h, c in zip(headings, row, strict=True)) + "</tr>")
        for row in rows
    )
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def attributes(values: Mapping[str, str]) -> Markup:
    return join(Markup(f' {escape(k)}="{escape(v)}"') for k, v in values.items())
