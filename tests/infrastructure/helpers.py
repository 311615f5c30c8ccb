"""Reading a synthesized template in terms a reviewer can check: who may do what on which resource."""

from __future__ import annotations

from typing import Any


def describe(value: Any) -> str:
    """Render a CloudFormation value: {"Fn::GetAtt": [X, "Arn"]} -> "X.Arn", {"Ref": X} -> "X"."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return ".".join(value["Fn::GetAtt"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(describe(part) for part in parts)
    return repr(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_permissions(resources: dict[str, Any], role_id: str) -> set[tuple[str, str]]:
    """Every (action, resource) pair the role's identity policies allow."""
    pairs: set[tuple[str, str]] = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if {"Ref": role_id} not in resource["Properties"].get("Roles", []):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                for target in as_list(statement["Resource"]):
                    pairs.add((action, describe(target)))
    return pairs


def actions_on(pairs: set[tuple[str, str]], resource_fragment: str) -> set[str]:
    return {action for action, resource in pairs if resource_fragment in resource}


def resources_of(pairs: set[tuple[str, str]], service: str) -> set[str]:
    return {resource for action, resource in pairs if action.startswith(f"{service}:")}
