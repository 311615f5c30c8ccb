"""Secrets Manager: the LWA client secret, and the KMS key for the per-connection refresh tokens.

Per-connection secrets are created by the functions at runtime (``<prefix>/refresh/<tenant>/<region>``
and ``<prefix>/access/<tenant>/<region>``); the stack decides their key and who may read them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

from ads_connect.adapters.secrets import client_id_secret_name
from aws_cdk import Acknowledgment as Ack
from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

# What the stack writes into the LWA secret: JSON the code reads as "not configured"
# (empty client id and secret), so nothing works until the operator fills it in.
LWA_PLACEHOLDER: Final = {"client_id": "", "client_secret": ""}
CLIENT_ID_PLACEHOLDER: Final = {"client_id": ""}

# Key administration, spelled out action by action: the account can describe, re-policy, rotate,
# tag, alias, disable and delete the key, but not use it. No wildcard: ``kms:Create*`` would
# include kms:CreateGrant, with which any IAM principal allowed CreateGrant could grant itself
# Decrypt (a grant bypasses the kms:ViaService condition below). No Decrypt / Encrypt /
# GenerateDataKey* / ReEncrypt*: only the named function roles use the key, through Secrets Manager.
# (Removing grants stays allowed: RevokeGrant, RetireGrant.)
KEY_ADMIN_ACTIONS: Final = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ListKeyPolicies",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:ListKeyRotations",
    "kms:RotateKeyOnDemand",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:UpdateKeyDescription",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:RevokeGrant",
    "kms:RetireGrant",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
KEY_USE_ACTIONS: Final = ("kms:Decrypt", "kms:GenerateDataKey")


def account_administers_key() -> iam.PolicyStatement:
    """The key-policy statement that lets the account manage a key but never use it."""
    return iam.PolicyStatement(
        sid="AccountAdministersButCannotUseKey",
        principals=[iam.AccountRootPrincipal()],
        actions=list(KEY_ADMIN_ACTIONS),
        resources=["*"],
    )


def key_use_statement(reader_arns: Sequence[str]) -> iam.PolicyStatement:
    """Only the reader roles, only through Secrets Manager in this region. The principal is the
    account, so the roles' own IAM policies must allow the use as well (they do, for this key)."""
    return iam.PolicyStatement(
        sid="OnlyStackFunctionsUseKeyThroughSecretsManager",
        principals=[iam.AccountRootPrincipal()],
        actions=list(KEY_USE_ACTIONS),
        resources=["*"],
        conditions={
            "StringEquals": {
                "kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com",
                "aws:PrincipalArn": list(reader_arns),
            }
        },
    )


def secret_arn_pattern(scope: Construct, name_pattern: str) -> str:
    return Stack.of(scope).format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=name_pattern,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Secrets(Construct):
    """The LWA client secret and the private-token key.

    ``private_reader_arns``: the roles that create, read and rotate refresh tokens (callback,
    worker, admin). ``lwa_reader_arns``: every role that reads the client credentials (never the
    consent function: it reads the public client id copy, ``<prefix>/lwa-client-id``). Both are
    named in ``aws:PrincipalArn`` conditions, never as principals: KMS and Secrets Manager check
    that a named principal exists when the policy is set, and a role created seconds earlier in
    the same deployment may not be visible to them yet ("Policy contains a statement with one or
    more invalid principals"). A condition is a plain string compare at request time.

    ``existing_key_arn`` / ``existing_lwa_secret_arn``: adopt what a destroyed deployment of the
    stage retained (referenced, not created; the stack still writes the secret's resource policy).
    Adopting the LWA secret adopts its client id copy too (same stage, same name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        private_reader_arns: Sequence[str],
        lwa_reader_arns: Sequence[str],
        existing_key_arn: str | None = None,
        existing_lwa_secret_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = prefix
        self.private_key: kms.IKey
        if existing_key_arn:
            # Its policy was written by the earlier deployment and names the same role ARNs
            # (stable role names, stacks/functions.py role_name), so it admits this stack's roles.
            self.private_key = kms.Key.from_key_arn(self, "PrivateTokenKey", existing_key_arn)
        else:
            key = kms.Key(
                self,
                "PrivateTokenKey",
                description=f"Amazon Ads Connect: refresh-token secrets under {prefix}/refresh/",
                enable_key_rotation=True,
                rotation_period=Duration.days(365),
                # Kept on update and `cdk destroy` (tenants' refresh tokens are encrypted with it);
                # deleted when the deployment that created it rolls back, so a retry starts clean.
                removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
                policy=iam.PolicyDocument(
                    statements=[account_administers_key(), key_use_statement(private_reader_arns)]
                ),
            )
            self.private_key = key
        # Deleted with the stack (not retained), so a redeploy names the adopted key again.
        kms.Alias(
            self,
            "PrivateTokenKeyAlias",
            alias_name=f"alias/{prefix.replace('/', '-')}-private-tokens",
            target_key=self.private_key,
        )

        self.lwa_secret: secretsmanager.ISecret
        self.client_id_secret: secretsmanager.ISecret
        if existing_lwa_secret_arn:
            self.lwa_secret = secretsmanager.Secret.from_secret_complete_arn(
                self, "LwaClient", existing_lwa_secret_arn
            )
            # Written together with the LWA secret by every `credentials set`, so a stage that
            # retained one retained the other under its fixed name.
            self.client_id_secret = secretsmanager.Secret.from_secret_name_v2(
                self, "LwaClientId", client_id_secret_name(prefix)
            )
        else:
            self.lwa_secret = self._operator_filled_secret(
                "LwaClient",
                name=f"{prefix}/lwa-client",
                description=(
                    "Login with Amazon client id and secret (Security Profile). Created empty: fill it "
                    "with `ads-connect credentials set`, which keeps earlier clients for their grants "
                    "(docs/deploy.md)."
                ),
                placeholder=LWA_PLACEHOLDER,
                why_not_rotated=(
                    "The LWA client secret is issued and rotated in Amazon's developer console, not by "
                    "AWS; the operator writes the new value with `python -m cli credentials set` "
                    "(docs/deploy.md)."
                ),
            )
            # The client id alone, for the consent function (docs/security.md: the public page's
            # role has no path to the client secret). Not secret itself (it is in every
            # authorization URL); a secret rather than an SSM parameter so local mode and the tests
            # need one service less.
            self.client_id_secret = self._operator_filled_secret(
                "LwaClientId",
                name=client_id_secret_name(prefix),
                description=(
                    "Login with Amazon client id alone (public copy for the consent page). Written "
                    "with the client secret by `python -m cli credentials set`; never edit it alone."
                ),
                placeholder=CLIENT_ID_PLACEHOLDER,
                why_not_rotated=(
                    "Holds only the LWA client id, which Amazon issues and which changes only with the "
                    "client secret; `python -m cli credentials set` writes both (docs/deploy.md)."
                ),
            )
        # Operators may write the secret (AWS CLI or the admin API); only the stack's functions
        # may read it back. A resource of its own, so an adopted secret gets it too.
        policy = secretsmanager.ResourcePolicy(self, "LwaClientPolicy", secret=self.lwa_secret)
        policy.document.add_statements(
            iam.PolicyStatement(
                sid="OnlyStackFunctionsReadClientSecret",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["secretsmanager:GetSecretValue"],
                resources=["*"],
                conditions={"StringNotEquals": {"aws:PrincipalArn": list(lwa_reader_arns)}},
            )
        )

    @property
    def client_id_secret_arn_for_policies(self) -> str:
        """The copy's ARN for IAM: exact when this stack created it; an adopted one is known by
        name only, so its ARN ends in Secrets Manager's six random characters (``-??????``)."""
        return self.client_id_secret.secret_full_arn or secret_arn_pattern(
            self, f"{client_id_secret_name(self.prefix)}-??????"
        )

    def _operator_filled_secret(
        self,
        construct_id: str,
        *,
        name: str,
        description: str,
        placeholder: Mapping[str, str],
        why_not_rotated: str,
    ) -> secretsmanager.Secret:
        """A secret the operator fills in, created holding ``placeholder`` (which the code reads as
        "not configured"). Kept on update and `cdk destroy`; deleted when the deployment that
        created it rolls back, so a retry starts clean."""
        secret = secretsmanager.Secret(
            self,
            construct_id,
            secret_name=name,
            description=description,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(placeholder),
                # The generator must add one key; the code ignores it.
                generate_string_key="placeholder",
                exclude_punctuation=True,
                password_length=16,
            ),
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        Validations.of(secret).acknowledge(Ack(id="AwsSolutions-SMG4", reason=why_not_rotated))
        return secret

    def pattern_arn(self, kind: str) -> str:
        """ARN pattern of one family of runtime-created secrets: ``refresh`` or ``access``."""
        return secret_arn_pattern(self, f"{self.prefix}/{kind}/*")
