"""An emulator with one advertiser (NA seller above 2^53, EU agency), headless "allow"."""

from __future__ import annotations

import pytest

from emulator import agency_profile, seller_profile
from tests.fixtures.amazon import RunningEmulator

BIG_ID = 2**53 + 3


@pytest.fixture
def em(amazon_emulator: RunningEmulator) -> RunningEmulator:
    amazon_emulator.emu.add_user(
        "u1",
        name="First Advertiser",
        profiles={"NA": [seller_profile(BIG_ID)], "EU": [agency_profile(42, "UK")]},
    )
    amazon_emulator.emu.headless = "allow"
    return amazon_emulator
