"""TokenVault on Secrets Manager: the LWA client secret and the two secrets of each connection.

Names and JSON shapes are the consumer contract (docs/architecture.md, docs/consumers.md):
- ``<prefix>/lwa-client``: ``{"client_id", "client_secret"}`` of the current client, plus
  ``"previous_clients": [{"client_id", "client_secret"}, ...]`` kept for the grants they obtained
  and ``"unrecorded_grants_client_id"`` (logic/clients.py) (stack functions only, never the
  consent function)
- ``<prefix>/lwa-client-id``: ``{"client_id"}`` of the current client, the public copy the consent
  function reads; written after the LWA client secret by the same ``write_client_keyring``
- ``<prefix>/refresh/<tenant>/<region>``: ``{"refresh_token", "grant_version", "updated_at",
  "client_id"}``, only what a refresh needs (stack functions only: a customer-managed KMS key and a resource
  policy that denies every other principal)
- ``<prefix>/access/<tenant>/<region>``: the access token consumers read (never the refresh
  token or the client secret)

A private secret never holds a value without its deny policy: it is created empty, the policy
is attached, and only then is the refresh token written.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from ads_connect.adapters.aws import AWS_CLIENT_CONFIG
from ads_connect.logic.grants import FIRST_GRANT_VERSION
from ads_connect.logic.ports import (
    ClientCredentials,
    ClientCredentialsMissingError,
    ClientKeyring,
    PublishedAccessToken,
    StoredRefreshToken,
)
from ads_connect.models.settings import CoreSettings
from ads_connect.regions import Region

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CLIENT_CREDENTIALS_CACHE_SECONDS = 300.0


def refresh_secret_name(prefix: str, tenant_id: str, region: Region) -> str:
    return f"{prefix}/refresh/{tenant_id}/{region.value}"


def client_id_secret_name(prefix: str) -> str:
    return f"{prefix}/lwa-client-id"


def access_secret_name(prefix: str, tenant_id: str, region: Region) -> str:
    return f"{prefix}/access/{tenant_id}/{region.value}"


def private_secret_policy(reader_arns: tuple[str, ...]) -> str:
    """Deny reading the refresh token to every principal but the stack's own function roles."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OnlyAdsConnectFunctionsReadRefreshTokens",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalArn": list(reader_arns)}},
                }
            ],
        }
    )


def client_keyring_json(keyring: ClientKeyring) -> str:
    """The LWA client secret's JSON: the current client's ``client_id``/``client_secret`` at the
    top level (as before several clients could be stored), the others under ``previous_clients``."""
    return json.dumps(
        {
            "client_id": keyring.current.client_id,
            "client_secret": keyring.current.client_secret,
            "previous_clients": [
                {"client_id": c.client_id, "client_secret": c.client_secret} for c in keyring.previous
            ],
            "unrecorded_grants_client_id": keyring.unrecorded_grants_client_id,
        }
    )


def parse_client_keyring(raw: str) -> ClientKeyring:
    data = _json_object(raw, "LWA client secret")
    current = _parse_client(data)
    if current is None:
        raise ClientCredentialsMissingError(
            "the LWA client id and secret have not been filled in (the stack creates a placeholder)"
        )
    listed = data.get("previous_clients")
    previous = tuple(
        client
        for client in (_parse_client(entry) for entry in (listed if isinstance(listed, list) else []))
        if client is not None and client.client_id != current.client_id
    )
    unrecorded = data.get("unrecorded_grants_client_id")
    return ClientKeyring(
        current, previous, unrecorded if isinstance(unrecorded, str) and unrecorded else None
    )


def _parse_client(data: object) -> ClientCredentials | None:
    client_id = data.get("client_id") if isinstance(data, dict) else None
    client_secret = data.get("client_secret") if isinstance(data, dict) else None
    if (
        not isinstance(client_id, str)
        or not client_id
        or not isinstance(client_secret, str)
        or not client_secret
    ):
        return None
    return ClientCredentials(client_id=client_id, client_secret=client_secret)


def _json_object(raw: str, what: str) -> dict[str, Any]:
    """The secret's JSON object (empty when it holds another JSON value)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise ClientCredentialsMissingError(f"the {what} is not JSON") from None
    return data if isinstance(data, dict) else {}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class SecretsManagerVault:
    def __init__(
        self,
        settings: CoreSettings,
        *,
        client: SecretsManagerClient | None = None,
        monotonic: Any = time.monotonic,
    ) -> None:
        self._client: SecretsManagerClient = client or boto3.client(
            "secretsmanager", config=AWS_CLIENT_CONFIG
        )
        self._prefix = settings.secret_prefix
        self._lwa_secret_id = settings.lwa_secret_id
        self._kms_key_id = settings.private_secret_kms_key_id
        self._reader_arns = settings.private_secret_reader_arns
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keyring: ClientKeyring | None = None
        self._credentials_read_at = 0.0
        self._client_id_secret_id = client_id_secret_name(settings.secret_prefix)
        self._client_id: str | None = None
        self._client_id_read_at = 0.0
        # Private secrets this process created (or restored) whose deny policy is not attached
        # yet: a failed attempt leaves the name here and the next write attaches it first.
        self._policy_pending: set[str] = set()

    # --- client credentials -----------------------------------------------------------------

    def read_client_credentials(self, *, fresh: bool = False) -> ClientCredentials:
        """The current client (new consents use it); see ``read_client_keyring``."""
        return self.read_client_keyring(fresh=fresh).current

    def read_client_keyring(self, *, fresh: bool = False) -> ClientKeyring:
        """Cached for five minutes: a rotated secret is picked up without a redeploy.

        ``fresh`` skips the cache, reads Secrets Manager now and caches what it read: the admin
        credentials check uses it, because the ``credentials set`` before it may have run in
        another (warm) container whose write this container's cache has not seen."""
        if not fresh:
            with self._lock:
                cached_for = self._monotonic() - self._credentials_read_at
                if self._keyring is not None and cached_for < CLIENT_CREDENTIALS_CACHE_SECONDS:
                    return self._keyring
        keyring = parse_client_keyring(self._secret_string(self._lwa_secret_id, "LWA client secret"))
        self._remember_keyring(keyring)
        return keyring

    def write_client_keyring(self, keyring: ClientKeyring) -> None:
        self._client.put_secret_value(SecretId=self._lwa_secret_id, SecretString=client_keyring_json(keyring))
        # What was just stored is what this container uses from now on (not the old value).
        self._remember_keyring(keyring)
        # The public copy last: a consent started from it always finds its client's secret stored.
        self._client.put_secret_value(
            SecretId=self._client_id_secret_id,
            SecretString=json.dumps({"client_id": keyring.current.client_id}),
        )
        with self._lock:
            self._client_id, self._client_id_read_at = keyring.current.client_id, self._monotonic()

    def read_client_id(self) -> str:
        """Cached for five minutes, like the credentials (the consent page reads it per start)."""
        with self._lock:
            cached_for = self._monotonic() - self._client_id_read_at
            if self._client_id is not None and cached_for < CLIENT_CREDENTIALS_CACHE_SECONDS:
                return self._client_id
        what = "LWA client id secret"
        client_id = _json_object(self._secret_string(self._client_id_secret_id, what), what).get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise ClientCredentialsMissingError(
                "the LWA client id has not been filled in (`credentials set` writes it)"
            )
        with self._lock:
            self._client_id, self._client_id_read_at = client_id, self._monotonic()
        return client_id

    def _remember_keyring(self, keyring: ClientKeyring) -> None:
        with self._lock:
            self._keyring = keyring
            self._credentials_read_at = self._monotonic()

    def forget_client_credentials(self) -> None:
        """Drop the cache (after ``invalid_client``: the operator may just have fixed it)."""
        with self._lock:
            self._keyring = None

    def _secret_string(self, secret_id: str, what: str) -> str:
        """An operator-filled secret's value; a missing secret reads as "not configured"."""
        try:
            return self._client.get_secret_value(SecretId=secret_id)["SecretString"]
        except ClientError as error:
            if _error_code(error) == "ResourceNotFoundException":
                raise ClientCredentialsMissingError(f"the {what} does not exist yet") from None
            raise

    # --- per-connection secrets ---------------------------------------------------------------

    def read_refresh_token(self, tenant_id: str, region: Region) -> StoredRefreshToken | None:
        try:
            raw = self._client.get_secret_value(
                SecretId=refresh_secret_name(self._prefix, tenant_id, region)
            )["SecretString"]
        except ClientError as error:
            # Deleted (disconnect) or never created: there is no refresh token to use.
            if _error_code(error) in ("ResourceNotFoundException", "InvalidRequestException"):
                return None
            raise
        data = json.loads(raw)
        client_id = data.get("client_id")
        return StoredRefreshToken(
            refresh_token=str(data["refresh_token"]),
            grant_version=int(data["grant_version"]),
            updated_at=datetime.fromisoformat(str(data["updated_at"])),
            client_id=client_id if isinstance(client_id, str) and client_id else None,
        )

    def write_refresh_token(
        self, tenant_id: str, region: Region, *, refresh_token: str, grant_version: int, client_id: str
    ) -> None:
        name = refresh_secret_name(self._prefix, tenant_id, region)
        # Only what a refresh reads; tenant and region are in the name.
        body = json.dumps(
            {
                "refresh_token": refresh_token,
                "grant_version": grant_version,
                "updated_at": datetime.now(UTC).isoformat(),
                "client_id": client_id,
            }
        )
        with self._lock:
            policy_pending = name in self._policy_pending
        if policy_pending or grant_version == FIRST_GRANT_VERSION:
            # A first consent that crashed between CreateSecret and PutResourcePolicy left an
            # empty secret without the policy and no connection, so its retry is a first grant
            # again: make sure of the policy before the value (one call more per new
            # connection; a refresh never writes version 1, its path stays one PutSecretValue).
            self._prepare_private_secret(name, restore=False)
            self._client.put_secret_value(SecretId=name, SecretString=body)
            return
        try:
            self._client.put_secret_value(SecretId=name, SecretString=body)
            return
        except ClientError as error:
            code = _error_code(error)
            # Never created, or scheduled for deletion by a disconnect (a re-consent restores it).
            if code not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise
        self._prepare_private_secret(name, restore=code == "InvalidRequestException")
        self._client.put_secret_value(SecretId=name, SecretString=body)

    def publish_access_token(self, token: PublishedAccessToken) -> None:
        body = json.dumps(
            {
                "access_token": token.access_token,
                "token_type": "bearer",
                "expires_at": token.expires_at.astimezone(UTC).isoformat(),
                "expires_at_epoch": int(token.expires_at.timestamp()),
                "region": token.region.value,
                "api_url": token.api_url,
                "client_id": token.client_id,
                "tenant_id": token.tenant_id,
                "grant_version": token.grant_version,
            }
        )
        self._put_or_create(access_secret_name(self._prefix, token.tenant_id, token.region), body)

    def read_access_token(self, tenant_id: str, region: Region) -> PublishedAccessToken | None:
        try:
            raw = self._client.get_secret_value(SecretId=access_secret_name(self._prefix, tenant_id, region))[
                "SecretString"
            ]
        except ClientError as error:
            if _error_code(error) in ("ResourceNotFoundException", "InvalidRequestException"):
                return None
            raise
        data = json.loads(raw)
        return PublishedAccessToken(
            tenant_id=str(data["tenant_id"]),
            region=Region(str(data["region"])),
            access_token=str(data["access_token"]),
            expires_at=datetime.fromisoformat(str(data["expires_at"])),
            api_url=str(data["api_url"]),
            client_id=str(data["client_id"]),
            grant_version=int(data["grant_version"]),
        )

    def delete_connection_secrets(self, tenant_id: str, region: Region, *, recovery_window_days: int) -> None:
        for name in (
            refresh_secret_name(self._prefix, tenant_id, region),
            access_secret_name(self._prefix, tenant_id, region),
        ):
            try:
                self._client.delete_secret(SecretId=name, RecoveryWindowInDays=recovery_window_days)
            except ClientError as error:
                # Already gone or already scheduled for deletion: the goal is reached.
                if _error_code(error) not in ("ResourceNotFoundException", "InvalidRequestException"):
                    raise

    def _prepare_private_secret(self, name: str, *, restore: bool) -> None:
        """Create (or restore) a private secret WITHOUT a value, then attach the deny policy;
        the caller writes the value after. A crash in between leaves a secret that holds no
        token, and the next write of that connection repeats this before writing one."""
        with self._lock:
            self._policy_pending.add(name)
        if restore:
            self._client.restore_secret(SecretId=name)
        else:
            kwargs: dict[str, Any] = {
                "Name": name,
                "Tags": [{"Key": "amazon-ads-connect", "Value": "private"}],
            }
            if self._kms_key_id:
                kwargs["KmsKeyId"] = self._kms_key_id
            try:
                self._client.create_secret(**kwargs)
            except ClientError as error:
                code = _error_code(error)
                if code == "InvalidRequestException":
                    # Scheduled for deletion by a disconnect: bring it back (policy re-attached).
                    self._client.restore_secret(SecretId=name)
                elif code != "ResourceExistsException":
                    raise
                # Exists: another writer created it a moment ago, or an earlier attempt stopped
                # before its policy. Either way the policy goes on before our value.
        if self._reader_arns:
            self._client.put_resource_policy(
                SecretId=name, ResourcePolicy=private_secret_policy(self._reader_arns), BlockPublicPolicy=True
            )
        with self._lock:
            self._policy_pending.discard(name)

    def _put_or_create(self, name: str, body: str) -> None:
        """The access secret: one PutSecretValue in the steady state; create (or restore) it the
        first time. It holds no refresh token and carries no deny policy (consumers read it)."""
        try:
            self._client.put_secret_value(SecretId=name, SecretString=body)
            return
        except ClientError as error:
            code = _error_code(error)
            if code == "InvalidRequestException":
                # Scheduled for deletion by a disconnect; a re-consent brings it back.
                self._client.restore_secret(SecretId=name)
                self._client.put_secret_value(SecretId=name, SecretString=body)
                return
            if code != "ResourceNotFoundException":
                raise
        try:
            self._client.create_secret(
                Name=name, SecretString=body, Tags=[{"Key": "amazon-ads-connect", "Value": "access"}]
            )
        except ClientError as error:
            if _error_code(error) != "ResourceExistsException":
                raise
            # Another writer created it a moment ago: write our value over it.
            self._client.put_secret_value(SecretId=name, SecretString=body)
