"""Which LWA client a grant belongs to, and what storing other client credentials would do.

A refresh token is bound to the client that obtained it: refreshed with any other client, LWA
answers ``invalid_grant``, exactly what a real revocation answers. So the product never sends a
grant to LWA with a client other than its own, and storing credentials that would leave active
grants without their client is refused unless the operator says what is meant (docs/operator-cli.md
"Client credentials").

Model: several clients can be stored at once. The *current* one obtains new consents (and is
what the consent page sends to Amazon); each *previous* one is kept for the grants it obtained,
until they are re-consented (a migration between Security Profiles) or the operator drops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ads_connect.logic.ports import ClientCredentials, ClientKeyring

# How a grant's client shows in counts when it was stored before clients were recorded.
UNRECORDED_CLIENT = "unrecorded"


def grant_client_id(
    secret_client_id: str | None, connection_client_id: str | None, keyring: ClientKeyring
) -> str:
    """The client a grant belongs to: what its private secret records (written with the token),
    else what its connection records, else (a grant from before clients were recorded) the
    client that was current when clients started being recorded (``ClientKeyring``)."""
    return secret_client_id or connection_client_id or keyring.owner_of_unrecorded_grants


class ClientChange(StrEnum):
    """How ``credentials set`` changes the stored clients."""

    # The same client id: a new secret for it (Amazon's client-secret rotation).
    ROTATE_SECRET = "rotate_secret"  # noqa: S105 - the name of a change, not a secret
    # Another client becomes current; the others stay stored for their grants.
    ADD_CLIENT = "add_client"
    # Another client becomes the only one; grants of the dropped clients pause (client_mismatch).
    REPLACE_CLIENT = "replace_client"


class ClientChangeRefusedError(Exception):
    """Storing these credentials would change which client obtains new consents, or orphan
    grants, without the operator having said so. ``grants_by_client`` says who holds what."""

    def __init__(self, message: str, *, grants_by_client: Mapping[str, int]) -> None:
        super().__init__(message)
        self.grants_by_client = dict(grants_by_client)


@dataclass(frozen=True)
class ClientChangePlan:
    keyring: ClientKeyring
    change: ClientChange
    # Grants (active and reauthorization_required) whose client is no longer stored after the
    # change: active ones pause, reauthorization_required ones can no longer be reactivated.
    orphaned_grants: int
    # Of ``orphaned_grants``, the reauthorization_required ones.
    orphaned_reauthorization_grants: int = 0


def named_counts(grants_by_client: Mapping[str | None, int]) -> dict[str, int]:
    return {(client or UNRECORDED_CLIENT): count for client, count in grants_by_client.items() if count}


def plan_client_change(
    stored: ClientKeyring | None,
    new: ClientCredentials,
    grants_by_client: Mapping[str | None, int],
    *,
    add_client: bool,
    replace_client: bool,
    reauthorization_grants_by_client: Mapping[str | None, int] | None = None,
) -> ClientChangePlan:
    """The keyring after storing ``new`` as the current client. Refused (``ClientChangeRefusedError``)
    when grants exist and none of them belongs to ``new`` (a different Security Profile
    stored by mistake looks exactly like this), unless the operator chose ``add_client`` (keep
    every stored client for its grants) or ``replace_client`` (keep only ``new``: grants of the
    others pause with ``client_mismatch`` until their client is stored again). Storing the
    client that holds grants (a new secret for it, or restoring it after a mistake) is never
    refused; the other stored clients are kept.

    Grants are the active ones (``grants_by_client``) and the ``reauthorization_required``
    ones (``reauthorization_grants_by_client``): their refresh token stays stored and
    ``connections reactivate`` refreshes it with its own client.

    When nothing readable is stored (``stored`` None: the placeholder or a malformed secret),
    grants without a recorded client belong to a client nobody knows: the same refusal applies,
    and once confirmed those grants stay without a stored client (they pause, never sent to
    LWA with ``new``)."""
    if add_client and replace_client:
        raise ValueError("choose one of add_client and replace_client")
    held_by_client = reauthorization_grants_by_client or {}
    if stored is None:
        unknown = grants_by_client.get(None, 0) + held_by_client.get(None, 0) > 0
        unrecorded_owner = UNRECORDED_CLIENT if unknown else new.client_id
    else:
        unrecorded_owner = stored.owner_of_unrecorded_grants
    active = _attributed(grants_by_client, unrecorded_owner)
    held = _attributed(held_by_client, unrecorded_owner)
    counts = dict(active)
    for client, n in held.items():
        counts[client] = counts.get(client, 0) + n
    confirmed = add_client or replace_client
    holds_grants = counts.get(new.client_id, 0) > 0 or sum(counts.values()) == 0
    if stored is None:
        if not (confirmed or holds_grants):
            raise ClientChangeRefusedError(
                _refusal_message(None, new, active, held),
                grants_by_client={c: n for c, n in counts.items() if n},
            )
        return ClientChangePlan(
            ClientKeyring(new, (), unrecorded_owner),
            ClientChange.REPLACE_CLIENT,
            sum(n for client, n in counts.items() if client != new.client_id),
            sum(n for client, n in held.items() if client != new.client_id),
        )
    others = tuple(c for c in stored.clients if c.client_id != new.client_id)
    if replace_client:
        return ClientChangePlan(
            ClientKeyring(new, (), unrecorded_owner),
            ClientChange.REPLACE_CLIENT,
            sum(n for client, n in counts.items() if client != new.client_id),
            sum(n for client, n in held.items() if client != new.client_id),
        )
    if new.client_id == stored.current.client_id:
        return ClientChangePlan(ClientKeyring(new, others, unrecorded_owner), ClientChange.ROTATE_SECRET, 0)
    if add_client or holds_grants:
        return ClientChangePlan(ClientKeyring(new, others, unrecorded_owner), ClientChange.ADD_CLIENT, 0)
    raise ClientChangeRefusedError(
        _refusal_message(stored, new, active, held), grants_by_client={c: n for c, n in counts.items() if n}
    )


def uncovered_grants(keyring: ClientKeyring, grants_by_client: Mapping[str | None, int]) -> dict[str, int]:
    """Active grants per client that is not stored (their refreshes pause with client_mismatch)."""
    counts = _attributed(grants_by_client, keyring.owner_of_unrecorded_grants)
    return {client: n for client, n in counts.items() if n and keyring.for_client(client) is None}


def _attributed(grants_by_client: Mapping[str | None, int], unrecorded_owner: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for client, count in grants_by_client.items():
        owner = client or unrecorded_owner
        counts[owner] = counts.get(owner, 0) + count
    return counts


def _refusal_message(
    stored: ClientKeyring | None, new: ClientCredentials, active: Mapping[str, int], held: Mapping[str, int]
) -> str:
    held_active = ", ".join(f"{n} with {client}" for client, n in sorted(active.items()) if n) or "none"
    current = (
        f"current client {stored.current.client_id}"
        if stored is not None
        else "no readable client stored: grants without a recorded client belong to an unknown client"
    )
    reactivatable = ""
    if any(held.values()):
        listed = ", ".join(f"{n} with {client}" for client, n in sorted(held.items()) if n)
        reactivatable = (
            f", nor of the reauthorization_required grants `connections reactivate` still needs ({listed})"
        )
    return (
        f"client {new.client_id} holds none of the active grants ({held_active}){reactivatable} "
        f"({current}). A refresh token works only with the client that obtained "
        "it. If this is the wrong Security Profile, store the right one instead. To move to this "
        "client, repeat with "
        "--add-client (new consents use it; every grant keeps refreshing with its own client until "
        "it is re-consented). --replace-client drops the other clients: their grants pause "
        "(client_mismatch, nothing revoked) until their client is stored again."
    )
