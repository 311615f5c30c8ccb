"""The one DynamoDB table, built from ``ads_connect.table_schema`` (never re-spelled here)."""

from __future__ import annotations

import ads_connect.table_schema as schema
from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


def _attribute(name: str) -> dynamodb.Attribute:
    kind = (
        dynamodb.AttributeType.NUMBER if name in schema.NUMBER_ATTRIBUTES else dynamodb.AttributeType.STRING
    )
    return dynamodb.Attribute(name=name, type=kind)


class DataStore(Construct):
    """Connections, profile mappings, refresh attempts, sessions and states (single table).

    ``existing_table_name``: adopt the table a destroyed deployment of this stage retained
    (referenced, not created: its tenants, mappings and attempts come back with it)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, existing_table_name: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.table: dynamodb.ITable
        if existing_table_name:
            self.table = dynamodb.Table.from_table_name(self, "Table", existing_table_name)
            return
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=_attribute(schema.PARTITION_KEY),
            sort_key=_attribute(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # Holds no secret (sessions and states are stored by hash), so the AWS-managed key is
            # enough, and consumers granted Query need no KMS permission.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            # Kept on update and `cdk destroy` (every tenant lives here); deleted when the
            # deployment that created it rolls back, so a retry starts clean.
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        for name, partition_key, sort_key, projection in schema.GLOBAL_SECONDARY_INDEXES:
            table.add_global_secondary_index(
                index_name=name,
                partition_key=_attribute(partition_key),
                sort_key=_attribute(sort_key),
                projection_type=dynamodb.ProjectionType(projection),
            )
        self.table = table

    @property
    def index_arns(self) -> list[str]:
        return [f"{self.table.table_arn}/index/{name}" for name, *_ in schema.GLOBAL_SECONDARY_INDEXES]
