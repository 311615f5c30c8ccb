"""ConnectionStore on DynamoDB: connections, profile mappings, attempts, leases, audit, pauses.

Item layout and indexes: ``table_schema.py``. Times are stored as ISO-8601 strings, except the
two index sort keys (``refresh_due_at``, ``profile_sync_due_at``), which are epoch seconds.
AWS failures other than lost conditions propagate as botocore ``ClientError``/``BotoCoreError``
(callers treat them as transient); lost conditions become the domain errors of ``logic.ports``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from ads_connect import table_schema as schema
from ads_connect.adapters.dynamodb import dynamodb_table, query_pages
from ads_connect.logic.ports import (
    Clock,
    InvalidPageTokenError,
    Lease,
    LeaseHeldError,
    NotDueError,
    OperatorPause,
    Page,
    StaleGrantError,
)
from ads_connect.models.records import (
    Connection,
    ConnectionStatus,
    ProfileMapping,
    RefreshAttempt,
    validate_tenant_id,
)
from ads_connect.regions import Region
from ads_connect.table_schema import tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

ATTEMPT_RETENTION = timedelta(days=30)
_INDEX_NUMBER_FIELDS = (schema.DUE_INDEX_SORT_KEY, schema.PROFILE_SYNC_INDEX_SORT_KEY)
# Attributes a connection item carries that are not Connection fields.
_LEASE_ATTRIBUTES = ("lease_owner", "lease_expires_at")
_CONNECTION_INDEX_ATTRIBUTES = (
    schema.DUE_INDEX_PARTITION_KEY,
    schema.PROFILE_SYNC_INDEX_PARTITION_KEY,
    schema.STATUS_INDEX_PARTITION_KEY,
    schema.STATUS_INDEX_SORT_KEY,
)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _from_epoch(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def _plain(value: Any) -> Any:
    """DynamoDB Decimals back to int (every number this store writes is whole)."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_condition_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


_DESERIALIZER = TypeDeserializer()


def _deserialize_item(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """An item in DynamoDB's wire format (as an error response carries it) as plain values."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in (raw or {}).items()}


def _is_status_index_key(key: Mapping[str, str], status: ConnectionStatus) -> bool:
    """Whether ``key`` is the status-index key of a connection of ``status``: the only start key
    a listing of that status ever hands out."""
    try:
        tenant, region = schema.parse_connection_key(key[schema.PARTITION_KEY], key[schema.SORT_KEY])
        Region(region)
        validate_tenant_id(tenant)
    except ValueError:
        return False
    return key[schema.STATUS_INDEX_PARTITION_KEY] == status.value and key[
        schema.STATUS_INDEX_SORT_KEY
    ] == schema.tenant_region(tenant, region)


def _is_due(item: Mapping[str, Any], due_by: datetime) -> bool:
    """What the lease condition's due clause checks, on the item it saw."""
    due = item.get(schema.DUE_INDEX_SORT_KEY)
    return (
        item.get(schema.DUE_INDEX_PARTITION_KEY) == schema.DUE_BUCKET_VALUE
        and due is not None
        and int(due) <= _epoch(due_by)
    )


def connection_to_item(connection: Connection) -> dict[str, Any]:
    """All attributes of a connection item except its keys and lease."""
    item: dict[str, Any] = {
        k: v for k, v in connection.to_json().items() if v is not None and k not in _INDEX_NUMBER_FIELDS
    }
    item["entity"] = "connection"
    item[schema.STATUS_INDEX_PARTITION_KEY] = connection.status.value
    item[schema.STATUS_INDEX_SORT_KEY] = schema.tenant_region(connection.tenant_id, connection.region)
    active = connection.status is ConnectionStatus.ACTIVE
    if connection.refresh_due_at is not None:
        item[schema.DUE_INDEX_SORT_KEY] = _epoch(connection.refresh_due_at)
        if active:
            item[schema.DUE_INDEX_PARTITION_KEY] = schema.DUE_BUCKET_VALUE
    if connection.profile_sync_due_at is not None:
        item[schema.PROFILE_SYNC_INDEX_SORT_KEY] = _epoch(connection.profile_sync_due_at)
        if active:
            item[schema.PROFILE_SYNC_INDEX_PARTITION_KEY] = schema.PROFILE_SYNC_BUCKET_VALUE
    return item


def connection_from_item(item: Mapping[str, Any]) -> Connection | None:
    """None for an item that holds only a lease (a first consent still in flight)."""
    if "grant_version" not in item:
        return None
    fields = Connection.field_names()
    data = {k: _plain(v) for k, v in item.items() if k in fields}
    for name in _INDEX_NUMBER_FIELDS:
        if name in item:
            data[name] = _from_epoch(item[name])
    return Connection.from_mapping(data)


def _update_expression(
    values: Mapping[str, Any], remove: Sequence[str]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    names: dict[str, str] = {}
    attribute_values: dict[str, Any] = {}
    sets = []
    for index, (name, value) in enumerate(values.items()):
        names[f"#a{index}"] = name
        attribute_values[f":v{index}"] = value
        sets.append(f"#a{index} = :v{index}")
    removes = []
    for index, name in enumerate(remove):
        names[f"#r{index}"] = name
        removes.append(f"#r{index}")
    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression, names, attribute_values


class DynamoConnectionStore:
    def __init__(self, table_name: str, *, clock: Clock, table: Table | None = None) -> None:
        self._table: Table = table or dynamodb_table(table_name)
        self._clock = clock

    # --- connections ---------------------------------------------------------------------

    def get_connection(self, tenant_id: str, region: Region) -> Connection | None:
        response = self._table.get_item(
            Key=schema.connection_key(tenant_id, region),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return connection_from_item(item) if item else None

    def list_connections(self, tenant_id: str) -> Sequence[Connection]:
        items = self._query_all(
            KeyConditionExpression=Key(schema.PARTITION_KEY).eq(tenant_pk(tenant_id))
            & Key(schema.SORT_KEY).begins_with(schema.CONNECTION_PREFIX),
            ConsistentRead=True,
        )
        return [c for c in (connection_from_item(i) for i in items) if c is not None]

    def save_connection(
        self, connection: Connection, *, expected_grant_version: int | None, lease: Lease | None = None
    ) -> None:
        item = connection_to_item(connection)
        remove = self._absent_optional_attributes(connection, item)
        expression, names, values = _update_expression(item, remove)
        if expected_grant_version is None:
            condition = "attribute_not_exists(grant_version)"
        else:
            names["#gv"] = "grant_version"
            values[":expected"] = expected_grant_version
            condition = "#gv = :expected"
        if lease is not None:
            # As in record_refresh: only while the lease is still ours. Owners are unique per
            # call, so once it expired and was taken over (or released by the taker) this fails.
            names["#owner"] = "lease_owner"
            values[":owner"] = lease.owner
            condition = f"{condition} AND #owner = :owner"
        try:
            self._table.update_item(
                Key=self._connection_key(connection.tenant_id, connection.region),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise StaleGrantError(
                    f"connection {connection.tenant_id}/{connection.region.value} changed under this "
                    "write (or its lease was lost)"
                ) from None
            raise

    def record_refresh(
        self,
        connection: Connection,
        attempt: RefreshAttempt,
        *,
        lease: Lease | None,
        clear_operator_pause: str | tuple[str, ...] | None = None,
    ) -> None:
        item = connection_to_item(connection)
        remove = list(self._absent_optional_attributes(connection, item))
        if lease is not None:
            remove += list(_LEASE_ATTRIBUTES)
        expression, names, values = _update_expression(item, remove)
        if lease is not None:
            names["#owner"] = "lease_owner"
            values[":owner"] = lease.owner
            condition = "#owner = :owner"
        else:
            names["#gv"] = "grant_version"
            values[":gv"] = connection.grant_version
            condition = "#gv = :gv"
        client = self._table.meta.client
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": self._connection_key(connection.tenant_id, connection.region),
                            "UpdateExpression": expression,
                            "ConditionExpression": condition,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {"Put": {"TableName": self._table.name, "Item": self._attempt_item(attempt)}},
                    *self._clear_pause_items(clear_operator_pause),
                ]
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise StaleGrantError(
                    f"refresh of {connection.tenant_id}/{connection.region.value} lost its lease or version"
                ) from None
            raise

    def _clear_pause_items(self, names: str | tuple[str, ...] | None) -> list[Any]:
        # An unconditional Delete: a no-op when no pause is set, so the success path pays no
        # extra call to find out whether the operator pause was on.
        if names is None:
            return []
        return [
            {"Delete": {"TableName": self._table.name, "Key": schema.operator_key(name)}}
            for name in ((names,) if isinstance(names, str) else names)
        ]

    # --- leases ----------------------------------------------------------------------------

    def acquire_lease(self, tenant_id: str, region: Region, *, owner: str, seconds: int) -> Lease:
        return self.acquire_lease_and_read(tenant_id, region, owner=owner, seconds=seconds)[0]

    def acquire_lease_and_read(
        self, tenant_id: str, region: Region, *, owner: str, seconds: int, due_by: datetime | None = None
    ) -> tuple[Lease, Connection | None]:
        """The lease and the connection as it stands, in one write (the worker's first call).

        With ``due_by`` the condition also requires the due-index key (only active connections
        carry it) and ``refresh_due_at <= due_by``, so a duplicate work message for a connection
        another worker already refreshed costs one failed conditional write, and never creates
        an item for a key that has none. On failure the item as it was comes back with the
        error (``ReturnValuesOnConditionCheckFailure``), which tells "not due" from "lease held"
        without a second call."""
        now = self._clock.now()
        expires_at = now + timedelta(seconds=seconds)
        condition = "(attribute_not_exists(#owner) OR #expires < :now OR #owner = :owner)"
        names = {"#owner": "lease_owner", "#expires": "lease_expires_at"}
        values: dict[str, Any] = {":owner": owner, ":expires": _epoch(expires_at), ":now": _epoch(now)}
        if due_by is not None:
            names |= {"#bucket": schema.DUE_INDEX_PARTITION_KEY, "#due": schema.DUE_INDEX_SORT_KEY}
            values |= {":bucket": schema.DUE_BUCKET_VALUE, ":due_by": _epoch(due_by)}
            condition = f"#bucket = :bucket AND #due <= :due_by AND {condition}"
        try:
            response = self._table.update_item(
                Key=self._connection_key(tenant_id, region),
                UpdateExpression="SET #owner = :owner, #expires = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            old = _deserialize_item(cast("Mapping[str, Any] | None", error.response.get("Item")))
            if due_by is not None and not _is_due(old, due_by):
                raise NotDueError(
                    f"connection {tenant_id}/{region.value} is not due", connection=connection_from_item(old)
                ) from None
            raise LeaseHeldError(
                f"connection {tenant_id}/{region.value} is being refreshed elsewhere"
            ) from None
        lease = Lease(tenant_id=tenant_id, region=region, owner=owner, expires_at=expires_at)
        return lease, connection_from_item(response.get("Attributes", {}))

    def oldest_due_at(self) -> datetime | None:
        """The earliest refresh due time of any active connection (for the staleness metric)."""
        response = self._table.query(
            IndexName=schema.DUE_INDEX,
            KeyConditionExpression=Key(schema.DUE_INDEX_PARTITION_KEY).eq(schema.DUE_BUCKET_VALUE),
            Limit=1,
        )
        items = response.get("Items", [])
        return _from_epoch(items[0][schema.DUE_INDEX_SORT_KEY]) if items else None

    def release_lease(self, lease: Lease) -> None:
        try:
            self._table.update_item(
                Key=self._connection_key(lease.tenant_id, lease.region),
                UpdateExpression="REMOVE lease_owner, lease_expires_at",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues={":owner": lease.owner},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            # The lease expired and another owner took it: nothing of ours left to release.

    # --- profiles --------------------------------------------------------------------------

    def list_profiles(self, tenant_id: str, region: Region | None = None) -> Sequence[ProfileMapping]:
        prefix = schema.profiles_sk_prefix(region)
        items = self._query_all(
            KeyConditionExpression=Key(schema.PARTITION_KEY).eq(tenant_pk(tenant_id))
            & Key(schema.SORT_KEY).begins_with(prefix),
            ConsistentRead=True,
        )
        fields = ProfileMapping.field_names()
        return [
            ProfileMapping.from_mapping({k: _plain(v) for k, v in i.items() if k in fields}) for i in items
        ]

    def save_profiles(self, tenant_id: str, region: Region, profiles: Sequence[ProfileMapping]) -> None:
        existing = {p.profile_id: p for p in self.list_profiles(tenant_id, region)}
        keep = {p.profile_id for p in profiles}
        with self._table.batch_writer() as batch:
            for profile in profiles:
                batch.put_item(Item=self._profile_item(profile))
            for profile_id, old in existing.items():
                if profile_id not in keep and not old.gone:
                    batch.put_item(Item=self._profile_item(old.replace(gone=True)))

    def find_tenants_by_profile(self, profile_id: str) -> Sequence[tuple[str, Region]]:
        items = self._query_all(
            IndexName=schema.PROFILE_INDEX,
            KeyConditionExpression=Key(schema.PROFILE_INDEX_PARTITION_KEY).eq(profile_id),
        )
        return [(str(i["tenant_id"]), Region(str(i["region"]))) for i in items if not i.get("gone")]

    # --- attempts and audit -----------------------------------------------------------------

    def list_refresh_attempts(self, tenant_id: str, *, limit: int) -> Sequence[RefreshAttempt]:
        response = self._table.query(
            KeyConditionExpression=Key(schema.PARTITION_KEY).eq(tenant_pk(tenant_id))
            & Key(schema.SORT_KEY).begins_with(schema.ATTEMPT_PREFIX),
            ScanIndexForward=False,
            Limit=limit,
        )
        fields = RefreshAttempt.field_names()
        return [
            RefreshAttempt.from_mapping({k: _plain(v) for k, v in i.items() if k in fields})
            for i in response.get("Items", [])
        ]

    def append_audit(self, tenant_id: str, action: str, detail: dict[str, Any]) -> None:
        now = self._clock.now()
        self._table.put_item(
            Item={
                **schema.audit_key(tenant_id, now.isoformat(), uuid.uuid4().hex[:8]),
                "entity": "audit",
                "tenant_id": tenant_id,
                "action": action,
                "at": now.isoformat(),
                "detail": json.dumps(detail, sort_keys=True, default=str),
            }
        )

    # --- scheduler queries --------------------------------------------------------------------

    def due_connections(self, *, now: datetime, limit: int | None = None) -> Sequence[tuple[str, Region]]:
        return list(
            self._index_keys(
                schema.DUE_INDEX,
                schema.DUE_INDEX_PARTITION_KEY,
                schema.DUE_BUCKET_VALUE,
                schema.DUE_INDEX_SORT_KEY,
                now,
                limit,
            )
        )

    def profile_sync_due(self, *, now: datetime, limit: int | None = None) -> Sequence[tuple[str, Region]]:
        return list(
            self._index_keys(
                schema.PROFILE_SYNC_INDEX,
                schema.PROFILE_SYNC_INDEX_PARTITION_KEY,
                schema.PROFILE_SYNC_BUCKET_VALUE,
                schema.PROFILE_SYNC_INDEX_SORT_KEY,
                now,
                limit,
            )
        )

    def iter_due_pages(self, *, now: datetime, page_size: int = 1000) -> Iterator[list[tuple[str, Region]]]:
        """The due set page by page (the scheduler sends each page while reading the next)."""
        yield from self._index_pages(
            schema.DUE_INDEX,
            schema.DUE_INDEX_PARTITION_KEY,
            schema.DUE_BUCKET_VALUE,
            schema.DUE_INDEX_SORT_KEY,
            now,
            page_size,
        )

    def list_connections_by_status(
        self, status: ConnectionStatus, *, limit: int, next_token: str | None
    ) -> Page:
        kwargs: dict[str, Any] = {
            "IndexName": schema.STATUS_INDEX,
            "KeyConditionExpression": Key(schema.STATUS_INDEX_PARTITION_KEY).eq(status.value),
            "Limit": limit,
        }
        if next_token:
            kwargs["ExclusiveStartKey"] = self._decode_token(next_token, status)
        response = self._table.query(**kwargs)
        connections = [
            c for c in (connection_from_item(i) for i in response.get("Items", [])) if c is not None
        ]
        last = response.get("LastEvaluatedKey")
        return Page(items=connections, next_token=self._encode_token(last, status) if last else None)

    def note_revocation(self, tenant_id: str, region: Region, *, at: datetime, window: timedelta) -> int:
        """One item per ``invalid_grant`` under ``REVOCATIONS`` (kept for the window, by TTL), then
        one query of the window: written only when a refresh meets invalid_grant, so rare."""
        self._table.put_item(
            Item={
                **schema.revocation_note_key(at.isoformat(), tenant_id, region.value),
                "entity": "revocation_note",
                schema.TTL_ATTRIBUTE: _epoch(at + window) + 3600,
            }
        )
        low, high = schema.revocation_notes_between((at - window).isoformat(), at.isoformat())
        items = self._query_all(
            KeyConditionExpression=Key(schema.PARTITION_KEY).eq(schema.REVOCATIONS_PARTITION)
            & Key(schema.SORT_KEY).between(low, high),
            ProjectionExpression=schema.SORT_KEY,
            ConsistentRead=True,
        )
        return len({schema.parse_revocation_note(str(i[schema.SORT_KEY])) for i in items})

    def count_active_connections(self) -> int:
        kwargs: dict[str, Any] = {
            "IndexName": schema.STATUS_INDEX,
            "KeyConditionExpression": Key(schema.STATUS_INDEX_PARTITION_KEY).eq(
                ConnectionStatus.ACTIVE.value
            ),
            "Select": "COUNT",
        }
        return sum(int(page.get("Count", 0)) for page in query_pages(self._table, **kwargs))

    def list_revocation_held(self) -> Sequence[Connection]:
        items = self._query_all(
            IndexName=schema.STATUS_INDEX,
            KeyConditionExpression=Key(schema.STATUS_INDEX_PARTITION_KEY).eq(ConnectionStatus.ACTIVE.value),
            FilterExpression=Attr("revocation_held_at").exists(),
        )
        return [c for c in (connection_from_item(i) for i in items) if c is not None]

    def count_grants_by_client(self) -> dict[str | None, int]:
        """Active connections per ``client_id``: the status index's ``active`` partition read
        whole, projecting only that attribute (admin ``credentials set``/``check`` only; about
        one 1 MB page per few thousand connections)."""
        return self._count_by_client(ConnectionStatus.ACTIVE)

    def count_reauthorization_grants_by_client(self) -> dict[str | None, int]:
        """``reauthorization_required`` connections per ``client_id`` (same read, other partition)."""
        return self._count_by_client(ConnectionStatus.REAUTHORIZATION_REQUIRED)

    def _count_by_client(self, status: ConnectionStatus) -> dict[str | None, int]:
        counts: dict[str | None, int] = {}
        items = self._query_all(
            IndexName=schema.STATUS_INDEX,
            KeyConditionExpression=Key(schema.STATUS_INDEX_PARTITION_KEY).eq(status.value),
            ProjectionExpression="client_id",
        )
        for item in items:
            client = item.get("client_id")
            key = str(client) if client else None
            counts[key] = counts.get(key, 0) + 1
        return counts

    # --- operator pauses -----------------------------------------------------------------------

    def get_operator_pause(self, name: str) -> OperatorPause | None:
        item = self._table.get_item(Key=schema.operator_key(name), ConsistentRead=True).get("Item")
        if not item:
            return None
        error_code = item.get("error_code")
        return OperatorPause(
            name=name,
            paused_at=datetime.fromisoformat(str(item["paused_at"])),
            error_code=str(error_code) if error_code is not None else None,
        )

    def set_operator_pause(self, pause: OperatorPause) -> bool:
        item: dict[str, Any] = {
            **schema.operator_key(pause.name),
            "entity": "operator_pause",
            "paused_at": pause.paused_at.isoformat(),
        }
        if pause.error_code is not None:
            item["error_code"] = pause.error_code
        # Keep the first pause time: later workers hitting the same error must not move it, and
        # only the writer that created the item reports True (it alone publishes the event).
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            return False
        return True

    def clear_operator_pause(self, name: str) -> bool:
        response = self._table.delete_item(Key=schema.operator_key(name), ReturnValues="ALL_OLD")
        return bool(response.get("Attributes"))

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _connection_key(tenant_id: str, region: Region) -> dict[str, str]:
        return schema.connection_key(tenant_id, region)

    @staticmethod
    def _absent_optional_attributes(connection: Connection, item: Mapping[str, Any]) -> list[str]:
        """Attributes to REMOVE so a cleared field (or a left index) does not linger."""
        optional = [name for name in Connection.field_names() if name not in item]
        optional += [name for name in _CONNECTION_INDEX_ATTRIBUTES if name not in item]
        return [name for name in optional if name not in ("tenant_id", "region")]

    def _attempt_item(self, attempt: RefreshAttempt) -> dict[str, Any]:
        item: dict[str, Any] = {k: v for k, v in attempt.to_json().items() if v is not None}
        item.update(
            schema.attempt_key(
                attempt.tenant_id, attempt.attempted_at.isoformat(), attempt.region, uuid.uuid4().hex[:8]
            )
        )
        item["entity"] = "refresh_attempt"
        item[schema.TTL_ATTRIBUTE] = _epoch(attempt.attempted_at + ATTEMPT_RETENTION)
        return item

    @staticmethod
    def _profile_item(profile: ProfileMapping) -> dict[str, Any]:
        item: dict[str, Any] = {k: v for k, v in profile.to_json().items() if v is not None}
        item.update(schema.profile_key(profile.tenant_id, profile.region, profile.profile_id))
        item["entity"] = "profile"
        item[schema.PROFILE_INDEX_SORT_KEY] = schema.tenant_region(profile.tenant_id, profile.region)
        return item

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [item for page in query_pages(self._table, **kwargs) for item in page.get("Items", [])]

    def _index_pages(
        self, index: str, pk_name: str, pk_value: str, sk_name: str, now: datetime, page_size: int
    ) -> Iterator[list[tuple[str, Region]]]:
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": Key(pk_name).eq(pk_value) & Key(sk_name).lte(_epoch(now)),
            "ProjectionExpression": f"{schema.PARTITION_KEY}, {schema.SORT_KEY}",
            "Limit": page_size,
        }
        while True:
            response = self._table.query(**kwargs)
            keys = []
            for item in response.get("Items", []):
                tenant, region = schema.parse_connection_key(
                    str(item[schema.PARTITION_KEY]), str(item[schema.SORT_KEY])
                )
                keys.append((tenant, Region(region)))
            if keys:
                yield keys
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _index_keys(
        self, index: str, pk_name: str, pk_value: str, sk_name: str, now: datetime, limit: int | None
    ) -> Iterator[tuple[str, Region]]:
        count = 0
        for page in self._index_pages(index, pk_name, pk_value, sk_name, now, 1000):
            for key in page:
                yield key
                count += 1
                if limit is not None and count >= limit:
                    return

    @staticmethod
    def _encode_token(last_key: Mapping[str, Any], status: ConnectionStatus) -> str:
        payload = {"s": status.value, "k": {k: str(v) for k, v in last_key.items()}}
        return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")

    @staticmethod
    def _decode_token(token: str, status: ConnectionStatus) -> dict[str, str]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload = json.loads(raw)
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidPageTokenError("next_token is not a token this API issued") from None
        expected_keys = {
            schema.PARTITION_KEY,
            schema.SORT_KEY,
            schema.STATUS_INDEX_PARTITION_KEY,
            schema.STATUS_INDEX_SORT_KEY,
        }
        if (
            not isinstance(payload, dict)
            or payload.get("s") != status.value
            or not isinstance(payload.get("k"), dict)
            or set(payload["k"]) != expected_keys
            or not all(isinstance(v, str) for v in payload["k"].values())
        ):
            raise InvalidPageTokenError("next_token is not a token this API issued for this filter")
        key: dict[str, str] = dict(payload["k"])
        if not _is_status_index_key(key, status):
            # DynamoDB would refuse it (ValidationException: a 503 with an error log) or start
            # from a key no listing of this status can reach.
            raise InvalidPageTokenError("next_token is not a token this API issued for this filter")
        return key
