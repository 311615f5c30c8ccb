"""ConsentStore on DynamoDB: sessions, states and results, each with a TTL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from ads_connect import table_schema as schema
from ads_connect.adapters.aws import AWS_CLIENT_CONFIG
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
        self._table: Table = table or boto3.resource("dynamodb", config=AWS_CLIENT_CONFIG).Table(table_name)

    def put_session(self, session_id: str, record: ConnectSessionRecord) -> None:
        self._put(ConsentKind.SESSION, id_hash(session_id), record.model_dump(mode="json"), record.expires_at)

    def get_session(self, session_id: str) -> ConnectSessionRecord | None:
        return self.get_session_by_hash(id_hash(session_id))

    def get_session_by_hash(self, session_hash: str) -> ConnectSessionRecord | None:
        item = self._get(ConsentKind.SESSION, session_hash)
        return ConnectSessionRecord.model_validate(item) if item else None

    def claim_session(self, session_hash: str, *, claim_id: str, now: datetime, until: datetime) -> bool:
        try:
            self._table.update_item(
                Key=self._session_key(session_hash),
                UpdateExpression="SET claim_id = :claim, claimed_until = :until",
                ConditionExpression=(
                    "attribute_exists(pk) AND attribute_not_exists(used_at) "
                    "AND (attribute_not_exists(claimed_until) OR claimed_until <= :now)"
                ),
                ExpressionAttributeValues={
                    ":claim": claim_id,
                    ":until": until.isoformat(),
                    ":now": now.isoformat(),
                },
            )
        except ClientError as error:
            if _conditional_check_failed(error):
                return False
            raise
        return True

    def release_session_claim(self, session_hash: str, *, claim_id: str) -> None:
        try:
            self._table.update_item(
                Key=self._session_key(session_hash),
                UpdateExpression="REMOVE claim_id, claimed_until",
                ConditionExpression="claim_id = :claim",
                ExpressionAttributeValues={":claim": claim_id},
            )
        except ClientError as error:
            # Another callback's claim (ours lapsed), or the session expired out of the table.
            if not _conditional_check_failed(error):
                raise

    def mark_session_used(self, session_hash: str, *, used_at: datetime) -> None:
        try:
            self._table.update_item(
                Key=self._session_key(session_hash),
                UpdateExpression="SET used_at = :used REMOVE claim_id, claimed_until",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":used": used_at.isoformat()},
            )
        except ClientError as error:
            # The session expired out of the table meanwhile: nothing left to mark.
            if not _conditional_check_failed(error):
                raise

    @staticmethod
    def _session_key(session_hash: str) -> dict[str, str]:
        return schema.consent_key(ConsentKind.SESSION, session_hash)

    def put_state(self, state: str, record: OAuthStateRecord) -> None:
        self._put(ConsentKind.STATE, id_hash(state), record.model_dump(mode="json"), record.expires_at)

    def consume_state(self, state: str) -> OAuthStateRecord | None:
        response = self._table.delete_item(
            Key=schema.consent_key(ConsentKind.STATE, id_hash(state)),
            ReturnValues="ALL_OLD",
        )
        item = response.get("Attributes")
        return OAuthStateRecord.model_validate(self._fields(item)) if item else None

    def put_result(self, result_id: str, record: ConnectResultRecord) -> None:
        self._put(ConsentKind.RESULT, id_hash(result_id), record.model_dump(mode="json"), record.expires_at)

    def get_result(self, result_id: str) -> ConnectResultRecord | None:
        item = self._get(ConsentKind.RESULT, id_hash(result_id))
        return ConnectResultRecord.model_validate(item) if item else None

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
