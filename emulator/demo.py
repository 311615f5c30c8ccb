"""Demo accounts for standalone use and local mode: profiles in all three regions."""

from __future__ import annotations

from typing import Any

from emulator.core import Emulator, agency_profile, seller_profile, vendor_profile

# Obviously fake: the emulator's demo application, never a real LWA client.
DEMO_CLIENT_ID = "amzn1.application-oa2-client.emulator-demo"
DEMO_CLIENT_SECRET = "emulator-demo-client-secret"
DEMO_USER = "demo-advertiser"
NEW_ADVERTISER = "new-advertiser"


def demo_accounts() -> list[dict[str, Any]]:
    """The demo users as ``add_user`` keyword arguments (a fresh copy on every call): a demo
    advertiser with seller, vendor and agency profiles across NA, EU and FE (one profile id above
    2^53, the others realistic 13-digit ids), and a second advertiser whose account has no
    campaigns yet (so ``/v2/profiles`` answers ``[]``)."""
    return [
        {
            "user_id": DEMO_USER,
            "name": "Demo Advertiser",
            "profiles": {
                "NA": [
                    seller_profile(1234567890123, "US", "Demo Outdoor Gear (US)"),
                    vendor_profile(
                        2**53 + 11, "CA", "Demo Vendor Canada", currency="CAD", marketplace="A2EUQ1WTGCTBG2"
                    ),
                ],
                "EU": [
                    seller_profile(
                        3456789012345,
                        "DE",
                        "Demo Outdoor Gear (DE)",
                        currency="EUR",
                        marketplace="A1PA6795UKMFR9",
                        timezone="Europe/Berlin",
                    ),
                    agency_profile(
                        4567890123456,
                        "UK",
                        "Demo Agency UK",
                        currency="GBP",
                        marketplace="A1F83G8C2ARO7P",
                        timezone="Europe/London",
                    ),
                ],
                "FE": [
                    seller_profile(
                        5678901234567,
                        "JP",
                        "Demo Outdoor Gear (JP)",
                        currency="JPY",
                        marketplace="A1VC38T7YXB528",
                        timezone="Asia/Tokyo",
                    ),
                ],
            },
        },
        {
            "user_id": NEW_ADVERTISER,
            "name": "New Advertiser (no campaigns yet)",
            "has_campaigns": False,
            "profiles": {"NA": [seller_profile(6789012345678, "US", "New Shop")]},
        },
    ]


def add_demo_accounts(emu: Emulator) -> None:
    """Add :func:`demo_accounts` to ``emu`` and sign the demo advertiser in."""
    for account in demo_accounts():
        emu.add_user(account.pop("user_id"), **account)
    emu.sign_in(DEMO_USER)
