"""The attack tests of docs/security.md: each test plays one threat against the real handlers
(in-process, on moto, with the Amazon emulator) and checks the mitigation holds."""

from __future__ import annotations

from tests.integration.conftest import Product, product

__all__ = ["Product", "product"]
