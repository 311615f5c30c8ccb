"""ConsentStore on DynamoDB: sessions, states and results, each with a TTL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ads_connect import table_schema as schema
from ads_connect.adapters.dynamodb import dynamodb_table, query_pages
from ads_connect.logic.ids import id_hash
from ads_connect.models.consent import ConnectResultRecord, ConnectSessionRecord, OAuthStateRecord
from ads_connect.table_schema import ConsentKind

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# DynamoDB's TTL sweep can lag by hours: expiry is always re-checked on read by the flows.
_TTL_GRACE_SECONDS = 3600
# Bookkeeping the records do not model: keys, entity tag, TTL, and a callback's session claim.
_INTERNAL_ATTRIBUTES = frozenset(
    {schema.PARTITION_KEY, schema.SORT_KEY, "entity", schema.TTL_ATTRIBUTE, "claim_id", "claimed_until"}
)


class DynamoConsentStore:
    def __init__(self, table_name: str, *, table: Table | None = None) -> None:
        self._table: Table = table or dynamodb_table(table_name)

    def put_session(self, session_id: str, record: ConnectSessionRecord) -> None:
        session_hash = id_hash(session_id)
        # The tenant's reference first: a session is never out of reach of a listing, a revoke
        # or a disconnect (a reference whose session was never written is skipped when listed).
        self._table.put_item(
            Item={
                **schema.session_ref_key(record.tenant_id, session_hash),
                "entity": "session_ref",
                schema.TTL_ATTRIBUTE: int(record.expires_at.timestamp()) + _TTL_GRACE_SECONDS,
            }
        )
        self._put(ConsentKind.SESSION, session_hash, record.to_json(), record.expires_at)

    def list_sessions(self, tenant_id: str) -> Sequence[tuple[str, ConnectSessionRecord]]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key(schema.PARTITION_KEY).eq(schema.tenant_pk(tenant_id))
            & Key(schema.SORT_KEY).begins_with(schema.SESSION_REF_PREFIX),
            "ProjectionExpression": schema.SORT_KEY,
        }
        hashes = [
            schema.parse_session_ref(str(item[schema.SORT_KEY]))
            for page in query_pages(self._table, **kwargs)
            for item in page.get("Items", [])
        ]
        sessions = [(h, self.get_session_by_hash(h)) for h in hashes]
        return [(h, record) for h, record in sessions if record is not None]

    def revoke_session(self, session_hash: str, *, revoked_at: datetime) -> bool:
        return self._update_session(
            session_hash,
            "SET revoked_at = :revoked",
            "attribute_exists(pk) AND attribute_not_exists(used_at) AND attribute_not_exists(revoked_at)",
            {":revoked": revoked_at.isoformat()},
        )

    def get_session(self, session_id: str) -> ConnectSessionRecord | None:
        return self.get_session_by_hash(id_hash(session_id))

    def get_session_by_hash(self, session_hash: str) -> ConnectSessionRecord | None:
        item = self._get(ConsentKind.SESSION, session_hash)
        return ConnectSessionRecord.from_mapping(item) if item else None

    def claim_session(self, session_hash: str, *, claim_id: str, now: datetime, until: datetime) -> bool:
        return self._update_session(
            session_hash,
            "SET claim_id = :claim, claimed_until = :until",
            "attribute_exists(pk) AND attribute_not_exists(used_at) "
            "AND attribute_not_exists(revoked_at) "
            "AND (attribute_not_exists(claimed_until) OR claimed_until <= :now)",
            {":claim": claim_id, ":until": until.isoformat(), ":now": now.isoformat()},
        )

    def release_session_claim(self, session_hash: str, *, claim_id: str) -> None:
        # Refused: another callback's claim (ours lapsed), or the session expired out of the table.
        self._update_session(
            session_hash, "REMOVE claim_id, claimed_until", "claim_id = :claim", {":claim": claim_id}
        )

    def mark_session_used(self, session_hash: str, *, used_at: datetime) -> None:
        # Refused: the session expired out of the table meanwhile, nothing left to mark.
        self._update_session(
            session_hash,
            "SET used_at = :used REMOVE claim_id, claimed_until",
            "attribute_exists(pk)",
            {":used": used_at.isoformat()},
        )

    def _update_session(self, session_hash: str, update: str, condition: str, values: dict[str, str]) -> bool:
        """One conditional update of a session item: ``False`` when the condition refused it."""
        try:
            self._table.update_item(
                Key=self._session_key(session_hash),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _conditional_check_failed(error):
                return False
            raise
        return True

    @staticmethod
    def _session_key(session_hash: str) -> dict[str, str]:
        return schema.consent_key(ConsentKind.SESSION, session_hash)

    def put_state(self, state: str, record: OAuthStateRecord) -> None:
        self._put(ConsentKind.STATE, id_hash(state), record.to_json(), record.expires_at)

    def consume_state(self, state: str) -> OAuthStateRecord | None:
        response = self._table.delete_item(
            Key=schema.consent_key(ConsentKind.STATE, id_hash(state)),
            ReturnValues="ALL_OLD",
        )
        item = response.get("Attributes")
        return OAuthStateRecord.from_mapping(self._fields(item)) if item else None

    def put_result(self, result_id: str, record: ConnectResultRecord) -> None:
        self._put(ConsentKind.RESULT, id_hash(result_id), record.to_json(), record.expires_at)

    def get_result(self, result_id: str) -> ConnectResultRecord | None:
        item = self._get(ConsentKind.RESULT, id_hash(result_id))
        return ConnectResultRecord.from_mapping(item) if item else None

    def _put(self, kind: ConsentKind, key_hash: str, data: dict[str, Any], expires_at: datetime) -> None:
        item = {k: v for k, v in data.items() if v is not None}
        item.update(schema.consent_key(kind, key_hash))
        item["entity"] = kind.value.lower()
        item[schema.TTL_ATTRIBUTE] = int(expires_at.timestamp()) + _TTL_GRACE_SECONDS
        self._table.put_item(Item=item)

    def _get(self, kind: ConsentKind, key_hash: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key=schema.consent_key(kind, key_hash), ConsistentRead=True).get("Item")
        return self._fields(item) if item else None

    @staticmethod
    def _fields(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k not in _INTERNAL_ATTRIBUTES}


def _conditional_check_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
