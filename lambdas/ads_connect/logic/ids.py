"""Random bearer ids (sessions, states, results, browser bindings) and their stored hashes."""

from __future__ import annotations

import base64
import hashlib
import secrets

# 32 random bytes = 256 bits (the design asks at least 128 for OAuth state).
_ID_BYTES = 32


def new_id() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


def id_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def looks_like_id(value: str | None) -> bool:
    """Cheap shape check before any lookup: url-safe base64 of the expected length."""
    if not value or len(value) != 43:
        return False
    return all(c.isalnum() or c in "-_" for c in value)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(48)  # 64 characters, within 43..128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge
