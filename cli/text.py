"""Server-provided text made inert for a terminal.

Tenant ids, display names, account names and reasons come from tenants and from Amazon; an
escape sequence in one (``ESC [ 2 J`` clears the screen, ``ESC ] 8`` forges a link, ``CR``
overwrites the line, ``BEL`` rings) would act on the operator's terminal. Tables and messages
drop every control and format character (Unicode categories Cc and Cf: C0, DEL, C1, bidi
overrides, zero-width marks). ``--json`` output stays exact: JSON escapes them itself.
"""

from __future__ import annotations

import unicodedata


def inert(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
