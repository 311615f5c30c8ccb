"""The breaker against mass revocation: a real revocation is rare and individual.

When ``invalid_grant`` arrives for many distinct connections within a short window, something
other than advertisers is at work (an Amazon incident, a wrong client): further revocations are
held instead of applied. The threshold is the larger of a fixed number of connections and a
share of the active ones (docs/refresh.md "Revocation breaker"; cdk.json settings
``revocation_breaker_*`` in stacks/config.py).
"""

from __future__ import annotations

import math

from ads_connect.models.settings import BreakerSettings


def revocation_threshold(active_connections: int, settings: BreakerSettings) -> int:
    """How many distinct connections answering ``invalid_grant`` within the window count as
    "many": ``min_connections`` or ``percent`` of the active connections, whichever is larger."""
    share = math.ceil(active_connections * settings.percent / 100)
    return max(settings.min_connections, share)


def revocation_held(distinct_in_window: int, active_connections: int, settings: BreakerSettings) -> bool:
    """Whether this revocation is held: the distinct connections that answered ``invalid_grant``
    within the window, this one included, have reached the threshold. The ones before it were
    applied (each of them can be undone with ``connections reactivate``)."""
    return distinct_in_window >= revocation_threshold(active_connections, settings)
