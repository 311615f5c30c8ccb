"""Demo accounts for standalone use and local mode: profiles in all three regions."""

from __future__ import annotations

from emulator.core import Emulator, agency_profile, seller_profile, vendor_profile

# Obviously fake: the emulator's demo application, never a real LWA client.
DEMO_CLIENT_ID = "amzn1.application-oa2-client.emulator-demo"
DEMO_CLIENT_SECRET = "emulator-demo-client-secret"
DEMO_USER = "demo-advertiser"
NEW_ADVERTISER = "new-advertiser"


def add_demo_accounts(emu: Emulator) -> None:
    """A demo advertiser with a seller, vendor and agency profile (one id above 2^53) across
    NA, EU and FE, and a second advertiser whose account has no campaigns yet."""
    emu.add_user(
        DEMO_USER,
        name="Demo Advertiser",
        profiles={
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
    )
    emu.add_user(
        NEW_ADVERTISER,
        name="New Advertiser (no campaigns yet)",
        has_campaigns=False,
        profiles={"NA": [seller_profile(6789012345678, "US", "New Shop")]},
    )
    emu.sign_in(DEMO_USER)
