"""Where moto is kinder than AWS in a way the product depends on, make it as strict as AWS.

Used by the tests' moto fixtures and by local mode, so neither passes on behaviour a real
account refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.secretsmanager.exceptions import InvalidRequestException
from moto.secretsmanager.models import SecretsManagerBackend

_original_put_secret_value = SecretsManagerBackend.put_secret_value


def _put_secret_value_refusing_deleted(
    self: SecretsManagerBackend, secret_id: str, *args: Any, **kwargs: Any
) -> str:
    # Secrets Manager refuses PutSecretValue on a secret scheduled for deletion until it is
    # restored (moto accepts it, which would hide a missing RestoreSecret after a disconnect).
    secret = self.secrets.get(secret_id) if self._is_valid_identifier(secret_id) else None
    if secret is not None and getattr(secret, "deleted_date", None) is not None:
        raise InvalidRequestException(
            "You can't perform this operation on the secret because it was marked for deletion."
        )
    return _original_put_secret_value(self, secret_id, *args, **kwargs)


PATCHES: tuple[tuple[type, str, Callable[..., Any]], ...] = (
    (SecretsManagerBackend, "put_secret_value", _put_secret_value_refusing_deleted),
)


def apply() -> None:
    """Install the patches for the life of the process (local mode)."""
    for owner, name, replacement in PATCHES:
        setattr(owner, name, replacement)


@contextmanager
def applied() -> Iterator[None]:
    """Install the patches for a block (tests), then put moto back as it was."""
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in PATCHES]
    apply()
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
