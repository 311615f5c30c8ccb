"""HTML pages: one layout, auto-escaping templates, the security headers, in one place.

Every value substituted into a template is HTML-escaped unless it is ``Markup`` (built only
here, from other escaped fragments). Pages carry no script; the one inline style is allowed by
its hash in the Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Mapping
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


STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f5f7;"
    "color:#1b1f24;line-height:1.5}"
    "main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem 2.5rem;border-radius:8px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "h1{font-size:1.5rem;margin-top:0}"
    "fieldset{border:1px solid #d0d4da;border-radius:6px;padding:1rem;margin:1rem 0}"
    "label{display:block;margin:.4rem 0}"
    "button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#146eb4;"
    "color:#fff;cursor:pointer}"
    "button:focus{outline:3px solid #ff9900}"
    "table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e6ea}"
    ".note{color:#57606a;font-size:.9rem}.error h1{color:#b3261e}.ref{font-family:monospace}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

_LAYOUT = Template(
    "<!doctype html>\n"
    '<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="referrer" content="no-referrer">'
    "<title>$title</title><style>$style</style></head>"
    '<body><main class="$kind">$body</main></body></html>\n'
)


def page(title: str, body: Markup, *, kind: str = "page") -> str:
    return str(render(_LAYOUT, title=title, style=Markup(STYLE), kind=kind, body=body))


def security_headers(form_targets: Iterable[str] = ()) -> dict[str, str]:
    """Headers every HTML answer carries. ``form_targets``: extra origins a form may post to."""
    form_action = " ".join(["'self'", *form_targets])
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src 'self'; "
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
    headers = security_headers()
    headers["Location"] = location
    return headers


def table(headings: Iterable[str], rows: Iterable[Iterable[object]]) -> Markup:
    head = join(render(Template('<th scope="col">$h</th>'), h=h) for h in headings)
    body = join(
        Markup("<tr>" + join(render(Template("<td>$c</td>"), c=c) for c in row) + "</tr>") for row in rows
    )
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def attributes(values: Mapping[str, str]) -> Markup:
    return join(Markup(f' {escape(k)}="{escape(v)}"') for k, v in values.items())
