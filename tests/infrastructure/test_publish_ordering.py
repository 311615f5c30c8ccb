"""The access secret is published only under the connection's lease, and that lease must outlive
the function holding it: this is why no read-before-write guard is needed against an older token
overwriting a newer one (docs/architecture.md, "Publishing order")."""

from __future__ import annotations

import re
from pathlib import Path

import ads_connect
from ads_connect.handlers.deadline import SAFETY_MARGIN_MS
from ads_connect.logic import admin, callback, refresh

from stacks.ads_connect import SPECS

PACKAGE = Path(ads_connect.__file__).parent


def test_every_lease_held_while_publishing_outlives_its_function() -> None:
    # Refresh: the worker's scheduled refreshes and the admin API's "refresh now"
    for function in ("refresh_worker", "admin"):
        assert SPECS[function].timeout.to_seconds() < refresh.LEASE_SECONDS, function
    # Grant install on the OAuth callback
    assert SPECS["callback"].timeout.to_seconds() < callback.LEASE_SECONDS


def test_every_refreshing_function_can_start_a_refresh_whose_rotated_token_write_fits() -> None:
    # A fresh invocation must hold the token call plus a whole rotated-token write, or no
    # refresh could ever start there.
    for function in ("refresh_worker", "admin"):
        usable = SPECS[function].timeout.to_seconds() - SAFETY_MARGIN_MS / 1000
        assert usable >= refresh.MIN_SECONDS_FOR_REFRESH, function


def test_the_disconnect_lease_outlives_the_admin_function() -> None:
    assert SPECS["admin"].timeout.to_seconds() < admin.DISCONNECT_LEASE_SECONDS


def test_only_the_lease_holding_flows_publish_the_access_token() -> None:
    sources = {path.relative_to(PACKAGE).as_posix(): path.read_text() for path in PACKAGE.rglob("*.py")}
    # The vault is written through logic/grants.py only ...
    vault_writers = {name for name, text in sources.items() if ".publish_access_token(" in text}
    assert vault_writers == {"logic/grants.py"}
    # ... which the refresh (under its lease) and the callback's grant install (under its lease) call.
    callers = {
        name
        for name, text in sources.items()
        if re.search(r"^\s+publish_access_token\($", text, re.MULTILINE) and name != "logic/grants.py"
    }
    assert callers == {"logic/refresh.py", "logic/callback.py"}
