"""DynamoConsentStore on moto: hashed keys, TTL, atomic single-use states, results."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import boto3
from ads_connect.adapters.consent_store import DynamoConsentStore
from ads_connect.logic.ids import id_hash, new_id
from ads_connect.models.consent import ConnectResultRecord, ConnectSessionRecord, OAuthStateRecord
from ads_connect.models.records import ProfilesState
from ads_connect.regions import Region
from ads_connect.table_schema import ConsentKind, consent_key

from tests.fixtures.aws import AwsResources

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _state_record() -> OAuthStateRecord:
    return OAuthStateRecord(
        session_hash=id_hash("s"),
        tenant_id="acme",
        region=Region.EU,
        redirect_uri="https://connect.example.test/callback",
        code_verifier="v" * 64,
        browser_binding_hash=id_hash("b"),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
    )


def _items(aws: AwsResources) -> list[dict[str, object]]:
    table = boto3.resource("dynamodb", region_name=aws.region).Table(aws.table_name)
    return list(table.scan()["Items"])


def test_sessions_are_stored_by_hash_with_a_ttl_and_marked_used(aws: AwsResources) -> None:
    store = DynamoConsentStore(aws.table_name)
    session_id = new_id()
    record = ConnectSessionRecord(tenant_id="acme", created_at=NOW, expires_at=NOW + timedelta(days=7))
    store.put_session(session_id, record)
    (item,) = _items(aws)
    assert item["pk"] == consent_key(ConsentKind.SESSION, id_hash(session_id))[
        "pk"
    ] and session_id not in str(item)
    assert int(str(item["expires_at_ttl"])) >= int((NOW + timedelta(days=7)).timestamp())
    assert store.get_session(session_id) == record
    store.mark_session_used(id_hash(session_id), used_at=NOW)
    stored = store.get_session(session_id)
    assert stored is not None and stored.used_at == NOW
    store.mark_session_used(id_hash("vanished"), used_at=NOW)  # no error, nothing created
    assert len(_items(aws)) == 1


def test_a_session_is_claimed_by_exactly_one_callback_even_when_raced(aws: AwsResources) -> None:
    store = DynamoConsentStore(aws.table_name)
    session_id = new_id()
    session_hash = id_hash(session_id)
    store.put_session(
        session_id, ConnectSessionRecord(tenant_id="acme", created_at=NOW, expires_at=NOW + timedelta(days=1))
    )
    until = NOW + timedelta(minutes=2)
    wins: list[str] = []

    def claim(claim_id: str) -> None:
        if store.claim_session(session_hash, claim_id=claim_id, now=NOW, until=until):
            wins.append(claim_id)

    threads = [threading.Thread(target=claim, args=(f"callback-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert store.get_session(session_id) is not None  # the claim is bookkeeping, not a field
    # Someone else's release changes nothing; the winner's frees it; a lapsed claim is free too.
    store.release_session_claim(session_hash, claim_id="not-the-winner")
    assert not store.claim_session(session_hash, claim_id="late", now=NOW, until=until)
    store.release_session_claim(session_hash, claim_id=wins[0])
    assert store.claim_session(session_hash, claim_id="retry", now=NOW, until=until)
    later = until + timedelta(minutes=2)
    assert store.claim_session(session_hash, claim_id="after-crash", now=until, until=later)
    # Once used, nobody claims it, and the claim attributes are gone.
    store.mark_session_used(session_hash, used_at=NOW)
    assert not store.claim_session(session_hash, claim_id="again", now=later, until=later)
    (item,) = _items(aws)
    assert "claim_id" not in item and "claimed_until" not in item
    store.release_session_claim(id_hash("vanished"), claim_id="x")  # no error, nothing created
    assert not store.claim_session(id_hash("vanished"), claim_id="x", now=NOW, until=until)
    assert len(_items(aws)) == 1


def test_a_state_is_consumed_exactly_once_even_when_raced(aws: AwsResources) -> None:
    store = DynamoConsentStore(aws.table_name)
    state = new_id()
    store.put_state(state, _state_record())
    assert state not in str(_items(aws))
    winners: list[OAuthStateRecord | None] = []
    threads = [threading.Thread(target=lambda: winners.append(store.consume_state(state))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [w for w in winners if w is not None] == [_state_record()]
    assert store.consume_state(state) is None and _items(aws) == []


def test_results_round_trip(aws: AwsResources) -> None:
    store = DynamoConsentStore(aws.table_name)
    result_id = new_id()
    record = ConnectResultRecord(
        tenant_id="acme",
        region=Region.FE,
        profiles_state=ProfilesState.EMPTY,
        profiles_state_reason="none yet",
        browser_binding_hash=id_hash("b"),
        expires_at=NOW + timedelta(minutes=30),
    )
    store.put_result(result_id, record)
    assert store.get_result(result_id) == record and store.get_result(new_id()) is None
