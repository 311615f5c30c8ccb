"""An emulator of Amazon's side: Login with Amazon (authorization page + token endpoint) and the
Ads API (``/v2/profiles`` and a Scope-protected campaign endpoint), for all three regions.

Never deployed. The product reaches it only through ``ADS_CONNECT_AMAZON_ENDPOINTS``.
"""

from emulator.core import (
    AUTHORIZE_ERRORS,
    DEFAULT_RETRY_AFTER_SECONDS,
    ROTATION_MODES,
    TOKEN_ERRORS,
    Client,
    Emulator,
    FaultRule,
    agency_profile,
    check_profile,
    fault_rule,
    seller_profile,
    vendor_profile,
)
from emulator.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, add_demo_accounts, demo_accounts

__all__ = [
    "AUTHORIZE_ERRORS",
    "DEFAULT_RETRY_AFTER_SECONDS",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "ROTATION_MODES",
    "TOKEN_ERRORS",
    "Client",
    "Emulator",
    "FaultRule",
    "add_demo_accounts",
    "agency_profile",
    "check_profile",
    "demo_accounts",
    "fault_rule",
    "seller_profile",
    "vendor_profile",
]
