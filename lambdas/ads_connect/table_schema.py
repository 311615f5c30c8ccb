"""The one DynamoDB table's key schema, shared by the stack, the store adapter and the tests.

Single-table design. Item families (``pk`` / ``sk``):

| item                 | pk                        | sk                                   |
|----------------------|---------------------------|--------------------------------------|
| connection           | ``TENANT#<tenant>``       | ``CONN#<region>``                    |
| profile mapping      | ``TENANT#<tenant>``       | ``PROFILE#<region>#<profileId>``     |
| refresh attempt      | ``TENANT#<tenant>``       | ``ATTEMPT#<iso time>#<region>#<id>`` |
| audit record         | ``TENANT#<tenant>``       | ``AUDIT#<iso time>#<id>``            |
| connect session      | ``SESSION#<sha256(id)>``  | ``SESSION``                          |
| OAuth state          | ``STATE#<sha256(state)>`` | ``STATE``                            |
| operator status      | ``OPERATOR``              | ``<name>``                           |

Sparse indexes: only the items that carry an index's partition-key attribute appear in it.
"""

from __future__ import annotations

from typing import Final

PARTITION_KEY: Final = "pk"
# Partition-key prefix of a tenant's items and sort-key prefix of its profile mappings (the table
# above); the consumer helper's ``list_profiles`` queries with them.
TENANT_PREFIX: Final = "TENANT#"
PROFILE_PREFIX: Final = "PROFILE#"
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
