"""cdk-nag (v3, CDK Validations) acknowledgments: one finding, one specific reason.

Wildcard findings (AwsSolutions-IAM5) are acknowledged one resource pattern at a time, so a new
wildcard anywhere fails synth until someone writes down why it is needed.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def acknowledge_wildcard(construct: IConstruct, resource: str, reason: str) -> None:
    """``resource`` as cdk-nag prints it, e.g. ``*`` or ``<Table.Arn>/index/*``."""
    acknowledge(construct, f"AwsSolutions-IAM5[Resource::{resource}]", reason)


def arn_reference(resource: IConstruct) -> str:
    """How cdk-nag spells ``Fn::GetAtt [<logical id>, Arn]`` of an L2's resource in a finding."""
    cfn = resource.node.default_child
    if not isinstance(cfn, CfnResource):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource")
    stack = Stack.of(resource)
    return f"<{stack.resolve(stack.get_logical_id(cfn))}.Arn>"


def resource_reference(resource: IConstruct, imported_arn_pattern: str) -> str:
    """``arn_reference`` for a resource the stack creates; for an imported one (no CloudFormation
    resource), its ARN as cdk-nag prints a ``Stack.format_arn`` value: ``imported_arn_pattern``
    is ``<service>:<resource path>``, e.g. ``dynamodb:table/acme``."""
    if isinstance(resource.node.default_child, CfnResource):
        return arn_reference(resource)
    service, _, path = imported_arn_pattern.partition(":")
    return f"arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{path}"


def secret_pattern(name_pattern: str) -> str:
    """How cdk-nag spells a ``Stack.format_arn`` secret-name pattern in a finding."""
    return f"arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:{name_pattern}"
