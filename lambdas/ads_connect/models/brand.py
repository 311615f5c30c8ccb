"""The operator's brand on the public pages: display name, accent colour, logo, support contact.

The rules live here once: ``stacks/config.py`` applies them at synth (a bad value stops
``cdk synth``) and the page functions apply them again at cold start to what the stack put in
their environment (``models/settings.py``).

- Accent colour: ``#rrggbb``. It is the button's background under white text and the colour of
  links on the white card, so it must reach WCAG 2.1's 4.5:1 contrast ratio against white
  (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio, the ratio axe-core's color-contrast rule
  checks for normal text).
- Logo: PNG, JPEG, GIF or WebP, at most ``LOGO_MAX_BYTES``, embedded as a ``data:`` URI (the
  pages' Content-Security-Policy allows ``img-src data:`` and nothing else: no third-party
  request). It travels in the functions' environment, and Lambda allows 4 KB of environment
  variables per function in total (AWS Lambda quotas, "Total size of environment variables set:
  4 KB"), hence the small limit. SVG is refused: it is markup, and checking markup is a larger
  job than checking an image's signature.
- Support contact: an ``https://`` URL or an e-mail address, shown beside the reference on every
  error page.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Final

from ads_connect.models.strict import Before, Length, Record

DEFAULT_DISPLAY_NAME: Final = "Amazon Ads Connect"
DEFAULT_ACCENT_COLOR: Final = "#146eb4"
MIN_ACCENT_CONTRAST: Final = 4.5
LOGO_MAX_BYTES: Final = 1536
SUPPORT_CONTACT_MAX_CHARS: Final = 200
# media type -> the signature its first bytes carry
LOGO_SIGNATURES: Final[dict[str, tuple[bytes, ...]]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),  # and "WEBP" at offset 8, checked below
}
LOGO_FILE_SUFFIXES: Final = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"} | {
    ".gif": "image/gif",
    ".webp": "image/webp",
}

_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DATA_URI = re.compile(r"^data:(image/[a-z]+);base64,([A-Za-z0-9+/]+={0,2})$")
# The common address form: nothing a mailto: link would read as a query (?) or fragment (#).
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/?#-]*)?$")


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours, 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_accent_color(value: str) -> str:
    if not _HEX_COLOR.match(value):
        raise ValueError("must be a colour written #rrggbb, for example #146eb4")
    ratio = contrast_ratio(value, "#ffffff")
    if ratio < MIN_ACCENT_CONTRAST:
        raise ValueError(
            f"the colour has a contrast ratio of {ratio:.2f}:1 against white; white button text "
            f"and links need at least {MIN_ACCENT_CONTRAST}:1 (WCAG 2.1 AA): choose a darker colour"
        )
    return value.lower()


def logo_media_type(data: bytes) -> str | None:
    """The media type the image's own first bytes declare, or None when it is none we accept."""
    for media_type, signatures in LOGO_SIGNATURES.items():
        if data.startswith(signatures):
            if media_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return media_type
    return None


def logo_data_uri(data: bytes, *, declared_type: str | None = None) -> str:
    """A checked ``data:`` URI for an image: accepted type, signature matching, small enough."""
    if not data:
        raise ValueError("the logo is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise ValueError(
            f"the logo is {len(data)} bytes; at most {LOGO_MAX_BYTES} bytes fit in the functions' "
            "environment (Lambda allows 4 KB in all): use a smaller image"
        )
    media_type = logo_media_type(data)
    if media_type is None:
        raise ValueError(
            f"the logo must be one of {', '.join(LOGO_SIGNATURES)} (its bytes are none of these)"
        )
    if declared_type is not None and declared_type != media_type:
        raise ValueError(f"the logo says it is {declared_type} but its bytes are {media_type}")
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def check_logo_data_uri(value: str) -> str:
    """Accept a ``data:image/...;base64,...`` URI only when its content passes ``logo_data_uri``."""
    match = _DATA_URI.match(value)
    if match is None:
        raise ValueError(
            "must be a data:image/<type>;base64,... URI or the path of a PNG, JPEG, GIF or WebP file"
        )
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the logo's base64 is not valid") from None
    return logo_data_uri(data, declared_type=match.group(1))


def check_support_contact(value: str) -> str:
    value = value.strip()
    if len(value) > SUPPORT_CONTACT_MAX_CHARS:
        raise ValueError(f"must be at most {SUPPORT_CONTACT_MAX_CHARS} characters")
    if not (_EMAIL.match(value) or _URL.match(value)):
        raise ValueError("must be an https:// URL or an e-mail address, such as support@example.com")
    return value


def unset_is_none(value: object) -> object:
    return None if value == "" else value


def accent_color_or_default(value: object) -> object:
    return DEFAULT_ACCENT_COLOR if value in (None, "") else value


# The field types the settings share (Brand here, PagesSettings at cold start, stacks/config.py
# at synth, which wraps the same rules for pydantic): an empty value is unset, anything else must
# pass its check.
AccentColor = Annotated[str, Before(accent_color_or_default), check_accent_color]
LogoDataUri = Annotated[str | None, Before(unset_is_none), check_logo_data_uri]
SupportContact = Annotated[str | None, Before(unset_is_none), check_support_contact]


class Brand(Record, frozen=True):
    """What the pages show of the operator. ``support_contact`` is None only where no stack set
    it (the synth refuses to build one without it)."""

    # Its length is checked where it is set (stacks/config.py, models/settings.py APP_NAME_MAX_LENGTH).
    display_name: Annotated[str, Length(1)]
    accent_color: AccentColor = DEFAULT_ACCENT_COLOR
    logo: LogoDataUri = None
    support_contact: SupportContact = None

    @property
    def support_href(self) -> str | None:
        """Where the contact link goes: the URL itself, or ``mailto:`` for an address."""
        if self.support_contact is None:
            return None
        return (
            self.support_contact
            if self.support_contact.startswith("https://")
            else f"mailto:{self.support_contact}"
        )
