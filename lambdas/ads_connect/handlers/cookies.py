"""The browser-binding cookie: the one cookie parser of the public routes, strict on purpose.

The binding cookie ties an OAuth ``state`` to the browser that started the flow, so whoever can
make a victim's browser send *their* binding value can finish their own flow with the victim's
Amazon account (docs/security.md, "planted binding"). ``__Host-`` stops another origin from
setting a cookie of that name, but not from planting a cookie whose *value* a lenient parser
reads as a second cookie: ``http.cookies.SimpleCookie`` reads ``x=1 __Host-ads_connect_binding=B``
as two cookies. So this module parses the way a browser sends cookies (RFC 6265 section 5.4:
``name=value`` pairs joined by ``"; "``), and refuses instead of guessing:

- each ``cookies`` entry of the HTTP API event is split on ``;``, each piece trimmed, and split
  at its first ``=``; a name matches only exactly (no case folding, no decoding, no quotes);
- the binding value must have exactly the issued format (``logic.ids.looks_like_id``);
- a second binding value, a malformed one, or the binding's name anywhere inside another
  cookie (raw or percent-decoded) is a :class:`FailureKind.COOKIE_CONFLICT`, never resolved by
  order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.ids import looks_like_id

BINDING_COOKIE = "__Host-ads_connect_binding"
BINDING_COOKIE_MAX_AGE = 3600
# The name without its prefix, lower-cased: found inside another cookie, it is a smuggling
# attempt whichever prefix spelling or case a lenient reader downstream might accept.
_BINDING_MARKER = BINDING_COOKIE.removeprefix("__Host-").lower()
# RFC 6265 section 5.2 trims spaces and horizontal tabs around names and values.
_WHITESPACE = " \t"


def cookie_pairs(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every ``(name, value)`` the request carries, in order, split as a browser joins them.
    A piece without ``=`` is kept with an empty value under its text as the name (browsers send
    nameless cookies that way), so nothing in the header escapes the checks below."""
    entries = event.get("cookies") or []
    if not isinstance(entries, list):
        return []
    pairs: list[tuple[str, str]] = []
    for entry in entries:
        if not isinstance(entry, str):
            continue
        for raw_piece in entry.split(";"):
            piece = raw_piece.strip(_WHITESPACE)
            if not piece:
                continue
            name, separator, value = piece.partition("=")
            if not separator:
                name, value = "", piece
            pairs.append((name.strip(_WHITESPACE), value.strip(_WHITESPACE)))
    return pairs


def _mentions_binding(text: str) -> bool:
    lowered = text.lower()
    return _BINDING_MARKER in lowered or _BINDING_MARKER in unquote(lowered)


def binding_cookie(event: Mapping[str, Any]) -> str | None:
    """The browser's binding value; ``None`` when the request carries no trace of one.

    Raises ``ConsentFlowError(COOKIE_CONFLICT)`` for two binding values, a malformed one, or
    the binding's name inside another cookie's name or value."""
    found: list[str] = []
    for name, value in cookie_pairs(event):
        if name == BINDING_COOKIE:
            found.append(value)
        elif _mentions_binding(name) or _mentions_binding(value):
            raise ConsentFlowError(FailureKind.COOKIE_CONFLICT)
    if not found:
        return None
    if len(found) > 1 or not looks_like_id(found[0]):
        raise ConsentFlowError(FailureKind.COOKIE_CONFLICT)
    return found[0]


def binding_set_cookie(value: str) -> str:
    return (
        f"{BINDING_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={BINDING_COOKIE_MAX_AGE}"
    )
