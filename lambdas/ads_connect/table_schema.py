"""The one DynamoDB table: its key schema, and every item key, built here and nowhere else.

Single-table design. Item families (``pk`` / ``sk``), each built by the function named:

| item            | pk                        | sk                                   | builder            |
|-----------------|---------------------------|--------------------------------------|--------------------|
| connection      | ``TENANT#<tenant>``       | ``CONN#<region>``                    | ``connection_key`` |
| profile mapping | ``TENANT#<tenant>``       | ``PROFILE#<region>#<profileId>``     | ``profile_key``    |
| refresh attempt | ``TENANT#<tenant>``       | ``ATTEMPT#<iso time>#<region>#<id>`` | ``attempt_key``    |
| audit record    | ``TENANT#<tenant>``       | ``AUDIT#<iso time>#<id>``            | ``audit_key``      |
| connect session | ``SESSION#<sha256(id)>``  | ``SESSION``                          | ``consent_key``    |
| OAuth state     | ``STATE#<sha256(state)>`` | ``STATE``                            | ``consent_key``    |
| connect result  | ``RESULT#<sha256(id)>``   | ``RESULT``                           | ``consent_key``    |
| operator status | ``OPERATOR``              | ``<name>``                           | ``operator_key``   |

Sparse indexes: only the items that carry an index's partition-key attribute appear in it.

The adapters, the stack's IAM conditions, local mode, the benchmarks and the consumer client all
call these builders; ``tests/unit/test_table_keys.py`` fails when another module spells a key
prefix. Pure standard library, so the consumer client can ship this file. A new item type:
CONTRIBUTING.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
TTL_ATTRIBUTE: Final = "expires_at_ttl"

# Due-time index: only active connections carry ``due_bucket`` (always DUE_BUCKET_VALUE),
# so the scheduler queries ``due_bucket = DUE AND refresh_due_at <= now`` and never scans.
DUE_INDEX: Final = "due-index"
DUE_INDEX_PARTITION_KEY: Final = "due_bucket"
DUE_INDEX_SORT_KEY: Final = "refresh_due_at"  # number, epoch seconds
DUE_BUCKET_VALUE: Final = "DUE"

# Profile re-sync index: connections whose profiles must be re-checked (empty list,
# propagation delay, periodic re-sync) carry ``profile_sync_bucket``.
PROFILE_SYNC_INDEX: Final = "profile-sync-index"
PROFILE_SYNC_INDEX_PARTITION_KEY: Final = "profile_sync_bucket"
PROFILE_SYNC_INDEX_SORT_KEY: Final = "profile_sync_due_at"  # number, epoch seconds
PROFILE_SYNC_BUCKET_VALUE: Final = "SYNC"

# Reverse lookup profileId -> tenant: profile mappings carry ``profile_id`` (string: ids can
# exceed 2^53) and ``tenant_region``.
PROFILE_INDEX: Final = "profile-index"
PROFILE_INDEX_PARTITION_KEY: Final = "profile_id"
PROFILE_INDEX_SORT_KEY: Final = "tenant_region"

# Operator listing: connections carry ``connection_status`` and ``tenant_region``
# (``<tenant>#<region>``), so "all reauthorization_required" is one paginated query.
STATUS_INDEX: Final = "status-index"
STATUS_INDEX_PARTITION_KEY: Final = "connection_status"
STATUS_INDEX_SORT_KEY: Final = "tenant_region"

STRING_ATTRIBUTES: Final = (
    PARTITION_KEY,
    SORT_KEY,
    DUE_INDEX_PARTITION_KEY,
    PROFILE_SYNC_INDEX_PARTITION_KEY,
    PROFILE_INDEX_PARTITION_KEY,
    PROFILE_INDEX_SORT_KEY,
    STATUS_INDEX_PARTITION_KEY,
)
NUMBER_ATTRIBUTES: Final = (DUE_INDEX_SORT_KEY, PROFILE_SYNC_INDEX_SORT_KEY)

# (index name, partition key, sort key, projection). The schedulers need only the keys, so
# their indexes stay small and a 150,000-row due set is read in few pages.
GLOBAL_SECONDARY_INDEXES: Final = (
    (DUE_INDEX, DUE_INDEX_PARTITION_KEY, DUE_INDEX_SORT_KEY, "KEYS_ONLY"),
    (PROFILE_SYNC_INDEX, PROFILE_SYNC_INDEX_PARTITION_KEY, PROFILE_SYNC_INDEX_SORT_KEY, "KEYS_ONLY"),
    (PROFILE_INDEX, PROFILE_INDEX_PARTITION_KEY, PROFILE_INDEX_SORT_KEY, "ALL"),
    (STATUS_INDEX, STATUS_INDEX_PARTITION_KEY, STATUS_INDEX_SORT_KEY, "ALL"),
)


def create_table_kwargs(table_name: str) -> dict[str, object]:
    """boto3 ``create_table`` arguments matching the stack's table (tests and local mode)."""
    attribute_definitions = [{"AttributeName": name, "AttributeType": "S"} for name in STRING_ATTRIBUTES]
    attribute_definitions += [{"AttributeName": name, "AttributeType": "N"} for name in NUMBER_ATTRIBUTES]
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": attribute_definitions,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": projection},
            }
            for name, pk, sk, projection in GLOBAL_SECONDARY_INDEXES
        ],
    }


# --- item keys --------------------------------------------------------------------------------
# The prefixes are persisted data: changing one orphans every stored item of its kind.
TENANT_PREFIX: Final = "TENANT#"
CONNECTION_PREFIX: Final = "CONN#"
PROFILE_PREFIX: Final = "PROFILE#"
ATTEMPT_PREFIX: Final = "ATTEMPT#"
AUDIT_PREFIX: Final = "AUDIT#"
OPERATOR_PARTITION: Final = "OPERATOR"
_SEPARATOR: Final = "#"


class ConsentKind(StrEnum):
    """The short-lived consent items: partition ``<KIND>#<sha256 of the random id>``, sort ``<KIND>``."""

    SESSION = "SESSION"
    STATE = "STATE"
    RESULT = "RESULT"


Key = dict[str, str]


def tenant_pk(tenant_id: str) -> str:
    """The partition of everything one tenant owns (also the stack's ``dynamodb:LeadingKeys``)."""
    return f"{TENANT_PREFIX}{tenant_id}"


def connection_sk(region: str) -> str:
    return f"{CONNECTION_PREFIX}{region}"


def connection_key(tenant_id: str, region: str) -> Key:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: connection_sk(region)}


def parse_connection_key(pk: str, sk: str) -> tuple[str, str]:
    """``(tenant, region code)`` of a connection item's keys (an index query returns only those)."""
    if not pk.startswith(TENANT_PREFIX) or not sk.startswith(CONNECTION_PREFIX):
        raise ValueError("not a connection item's keys")
    return pk.removeprefix(TENANT_PREFIX), sk.removeprefix(CONNECTION_PREFIX)


def profiles_sk_prefix(region: str | None = None) -> str:
    """``begins_with`` value for a tenant's profile mappings: all regions, or one."""
    return PROFILE_PREFIX if region is None else f"{PROFILE_PREFIX}{region}{_SEPARATOR}"


def profile_key(tenant_id: str, region: str, profile_id: str) -> Key:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"{profiles_sk_prefix(region)}{profile_id}"}


def attempt_key(tenant_id: str, attempted_at_iso: str, region: str, unique: str) -> Key:
    """Sorted by time within the tenant (the newest attempts are read first)."""
    return {
        PARTITION_KEY: tenant_pk(tenant_id),
        SORT_KEY: _SEPARATOR.join((f"{ATTEMPT_PREFIX}{attempted_at_iso}", region, unique)),
    }


def audit_key(tenant_id: str, at_iso: str, unique: str) -> Key:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"{AUDIT_PREFIX}{at_iso}{_SEPARATOR}{unique}"}


def consent_key(kind: ConsentKind, key_hash: str) -> Key:
    return {PARTITION_KEY: f"{kind.value}{_SEPARATOR}{key_hash}", SORT_KEY: kind.value}


def consent_pk_pattern(kind: ConsentKind) -> str:
    """Every partition of one consent kind, for an IAM ``dynamodb:LeadingKeys`` condition."""
    return f"{kind.value}{_SEPARATOR}*"


def operator_key(name: str) -> Key:
    return {PARTITION_KEY: OPERATOR_PARTITION, SORT_KEY: name}


def tenant_region(tenant_id: str, region: str) -> str:
    """The status and profile indexes' sort key: ``<tenant>#<region>``."""
    return f"{tenant_id}{_SEPARATOR}{region}"
