"""SecretsManagerVault on moto: names, shapes, placeholder, create-or-put, policy before value,
deletion."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from ads_connect.adapters.secrets import (
    SecretsManagerVault,
    access_secret_name,
    client_id_secret_name,
    refresh_secret_name,
)
from ads_connect.logic.ports import (
    ClientCredentials,
    ClientCredentialsMissingError,
    ClientKeyring,
    PublishedAccessToken,
)
from ads_connect.models.settings import CoreSettings
from ads_connect.regions import Region
from botocore.exceptions import ClientError

from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET, AwsResources

READER = "arn:aws:iam::123456789012:role/ads-connect-worker"


class _Ticker:
    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def settings(aws: AwsResources) -> CoreSettings:
    return CoreSettings.from_environment().replace(
        private_secret_kms_key_id="alias/ads-connect-private",
        private_secret_reader_arns=(READER,),
    )


@pytest.fixture
def secrets_client(aws: AwsResources):  # type: ignore[no-untyped-def]
    return boto3.client("secretsmanager", region_name=aws.region)


def test_client_credentials_are_read_and_cached_for_five_minutes(
    settings: CoreSettings, secrets_client
) -> None:  # type: ignore[no-untyped-def]
    ticker = _Ticker()
    vault = SecretsManagerVault(settings, monotonic=ticker)
    assert vault.read_client_credentials() == ClientCredentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET)
    secrets_client.put_secret_value(
        SecretId=settings.lwa_secret_id,
        SecretString=json.dumps({"client_id": "x", "client_secret": "rotated"}),
    )
    assert vault.read_client_credentials().client_secret == TEST_CLIENT_SECRET
    ticker.value = 301
    assert vault.read_client_credentials().client_secret == "rotated"


@pytest.mark.parametrize(
    "body", ['{"client_id": "", "client_secret": ""}', '{"client_id": "x"}', "not json", "[]"]
)
def test_placeholder_or_malformed_client_secret_reads_as_missing(
    settings: CoreSettings, secrets_client, body: str
) -> None:  # type: ignore[no-untyped-def]
    secrets_client.put_secret_value(SecretId=settings.lwa_secret_id, SecretString=body)
    with pytest.raises(ClientCredentialsMissingError) as raised:
        SecretsManagerVault(settings).read_client_credentials()
    assert "secret" in str(raised.value) and body not in str(raised.value)


def test_credentials_write_stores_the_client_id_alone_in_its_public_copy_after_the_secret(
    settings: CoreSettings, secrets_client
) -> None:  # type: ignore[no-untyped-def]
    # When the operator's credentials are written
    written = ClientCredentials("amzn1.new-client", "new-secret")
    SecretsManagerVault(settings).write_client_keyring(ClientKeyring(written))
    # Then the copy the consent function reads holds the client id and nothing else
    copy = secrets_client.get_secret_value(SecretId=client_id_secret_name(settings.secret_prefix))
    assert json.loads(copy["SecretString"]) == {"client_id": "amzn1.new-client"}
    # And another container reads it (cached for five minutes, like the credentials)
    ticker = _Ticker()
    reader = SecretsManagerVault(settings, monotonic=ticker)
    assert reader.read_client_id() == "amzn1.new-client"
    secrets_client.put_secret_value(
        SecretId=client_id_secret_name(settings.secret_prefix), SecretString='{"client_id": "later"}'
    )
    assert reader.read_client_id() == "amzn1.new-client"
    ticker.value = 301
    assert reader.read_client_id() == "later"


@pytest.mark.parametrize("body", ['{"client_id": ""}', '{"client_id": 5}', "not json", "[]", None])
def test_placeholder_malformed_or_missing_client_id_copy_reads_as_missing(
    settings: CoreSettings, secrets_client, body: str | None
) -> None:  # type: ignore[no-untyped-def]
    name = client_id_secret_name(settings.secret_prefix)
    if body is None:
        secrets_client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    else:
        secrets_client.put_secret_value(SecretId=name, SecretString=body)
    with pytest.raises(ClientCredentialsMissingError) as raised:
        SecretsManagerVault(settings).read_client_id()
    assert "client id" in str(raised.value) and (body is None or body not in str(raised.value))


def _count_reads(client: Any) -> list[str]:
    """GetSecretValue calls made through ``client`` (their SecretId only)."""
    reads: list[str] = []
    client.meta.events.register(
        "before-parameter-build.secretsmanager.GetSecretValue",
        lambda params, **_: reads.append(params["SecretId"]),
    )
    return reads


def test_written_client_credentials_are_what_this_container_caches(
    settings: CoreSettings, secrets_client
) -> None:  # type: ignore[no-untyped-def]
    reads = _count_reads(secrets_client)
    vault = SecretsManagerVault(settings, client=secrets_client, monotonic=_Ticker())
    vault.read_client_credentials()
    new = ClientCredentials("amzn1.application-oa2-client.new", "new-fixture-secret")
    vault.write_client_keyring(ClientKeyring(new))
    before = len(reads)
    # The cached value is the one just written, without another read
    assert vault.read_client_credentials() == new
    assert len(reads) == before


def test_a_fresh_read_skips_the_cache_and_refreshes_it(settings: CoreSettings, secrets_client) -> None:  # type: ignore[no-untyped-def]
    # Given a warm container that cached the credentials, and another one that then wrote new ones
    reads = _count_reads(secrets_client)
    ticker = _Ticker()
    warm = SecretsManagerVault(settings, client=secrets_client, monotonic=ticker)
    assert warm.read_client_credentials().client_secret == TEST_CLIENT_SECRET
    SecretsManagerVault(settings).write_client_keyring(
        ClientKeyring(ClientCredentials(TEST_CLIENT_ID, "set-elsewhere"))
    )
    assert warm.read_client_credentials().client_secret == TEST_CLIENT_SECRET  # the 5-minute cache
    # Then a fresh read returns what is stored, and the cache holds it from then on
    assert warm.read_client_credentials(fresh=True).client_secret == "set-elsewhere"
    reads_after_fresh = len(reads)
    assert warm.read_client_credentials().client_secret == "set-elsewhere"
    assert len(reads) == reads_after_fresh == 2
    ticker.value = 299  # the refreshed entry's five minutes started at the fresh read
    assert warm.read_client_credentials().client_secret == "set-elsewhere"
    assert len(reads) == 2


def test_refresh_token_secret_is_created_private_then_overwritten(
    settings: CoreSettings, secrets_client
) -> None:  # type: ignore[no-untyped-def]
    vault = SecretsManagerVault(settings)
    assert vault.read_refresh_token("acme", Region.EU) is None
    vault.write_refresh_token(
        "acme", Region.EU, refresh_token="Atzr|fixture-1", grant_version=1, client_id=TEST_CLIENT_ID
    )
    vault.write_refresh_token(
        "acme", Region.EU, refresh_token="Atzr|fixture-2", grant_version=2, client_id=TEST_CLIENT_ID
    )
    stored = vault.read_refresh_token("acme", Region.EU)
    assert stored is not None and (stored.refresh_token, stored.grant_version) == ("Atzr|fixture-2", 2)
    assert "fixture-2" not in repr(stored)
    name = refresh_secret_name("ads-connect", "acme", Region.EU)
    assert name == "ads-connect/refresh/acme/EU"
    description = secrets_client.describe_secret(SecretId=name)
    assert description["KmsKeyId"] == "alias/ads-connect-private"
    policy = json.loads(secrets_client.get_resource_policy(SecretId=name)["ResourcePolicy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"] == [READER]


class _Recording:
    """The real (moto) client, recording each call's operation and parameter names; ``fail_next``
    makes the next call of an operation fail as AWS would on an outage."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, set[str]]] = []
        self.fail_next: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, set(kwargs)))
            if name in self.fail_next:
                self.fail_next.discard(name)
                raise ClientError({"Error": {"Code": "InternalServiceError", "Message": "x"}}, name)
            return real(**kwargs)

        return call

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]


def _has_value(secrets_client: Any, name: str) -> bool:
    try:
        secrets_client.get_secret_value(SecretId=name)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def _has_policy(secrets_client: Any, name: str) -> bool:
    return "ResourcePolicy" in secrets_client.get_resource_policy(SecretId=name)


def test_a_new_private_secret_gets_its_policy_before_its_value(
    settings: CoreSettings, secrets_client: Any
) -> None:
    # Given a first consent whose value write fails (an outage after the policy went on)
    recording = _Recording(secrets_client)
    recording.fail_next = {"put_secret_value"}
    name = refresh_secret_name("ads-connect", "acme", Region.NA)
    with pytest.raises(ClientError):
        SecretsManagerVault(settings, client=recording).write_refresh_token(
            "acme", Region.NA, refresh_token="Atzr|fixture-1", grant_version=1, client_id=TEST_CLIENT_ID
        )
    # Then the secret was created without a value, and the policy came before any value
    assert recording.operations() == ["create_secret", "put_resource_policy", "put_secret_value"]
    create_params = recording.calls[0][1]
    assert "SecretString" not in create_params and "SecretBinary" not in create_params
    assert _has_policy(secrets_client, name) and not _has_value(secrets_client, name)
    assert SecretsManagerVault(settings).read_refresh_token("acme", Region.NA) is None
    # When the consent is retried (another process: nothing remembered in memory)
    SecretsManagerVault(settings).write_refresh_token(
        "acme", Region.NA, refresh_token="Atzr|fixture-2", grant_version=1, client_id=TEST_CLIENT_ID
    )
    # Then the write completes it: value and policy
    stored = SecretsManagerVault(settings).read_refresh_token("acme", Region.NA)
    assert stored is not None and stored.refresh_token == "Atzr|fixture-2"
    assert _has_policy(secrets_client, name)


def test_a_create_interrupted_before_its_policy_is_completed_by_a_retried_consent(
    settings: CoreSettings, secrets_client: Any
) -> None:
    # Given a first consent that created the secret and failed to attach the policy
    recording = _Recording(secrets_client)
    recording.fail_next = {"put_resource_policy"}
    name = refresh_secret_name("ads-connect", "acme", Region.EU)
    with pytest.raises(ClientError):
        SecretsManagerVault(settings, client=recording).write_refresh_token(
            "acme", Region.EU, refresh_token="Atzr|fixture-1", grant_version=1, client_id=TEST_CLIENT_ID
        )
    # Then no token was written to the unprotected secret
    assert not _has_policy(secrets_client, name) and not _has_value(secrets_client, name)
    # When the consent is retried by a fresh process (its first grant again)
    retry = _Recording(secrets_client)
    SecretsManagerVault(settings, client=retry).write_refresh_token(
        "acme", Region.EU, refresh_token="Atzr|fixture-2", grant_version=1, client_id=TEST_CLIENT_ID
    )
    # Then the policy is attached before the value goes in
    assert retry.operations() == ["create_secret", "put_resource_policy", "put_secret_value"]
    assert _has_policy(secrets_client, name) and _has_value(secrets_client, name)


def test_the_same_process_attaches_a_missing_policy_before_its_next_write(
    settings: CoreSettings, secrets_client: Any
) -> None:
    # Given a rotated-token write (version 2) that had to create the secret and lost the policy
    recording = _Recording(secrets_client)
    vault = SecretsManagerVault(settings, client=recording)
    recording.fail_next = {"put_resource_policy"}
    with pytest.raises(ClientError):
        vault.write_refresh_token(
            "acme", Region.FE, refresh_token="Atzr|fixture-1", grant_version=2, client_id=TEST_CLIENT_ID
        )
    # When the refresh retries the write in the same process
    recording.calls.clear()
    vault.write_refresh_token(
        "acme", Region.FE, refresh_token="Atzr|fixture-1", grant_version=2, client_id=TEST_CLIENT_ID
    )
    # Then it attaches the policy first, then writes the value
    assert recording.operations() == ["create_secret", "put_resource_policy", "put_secret_value"]
    assert _has_policy(secrets_client, refresh_secret_name("ads-connect", "acme", Region.FE))
    # And from then on a write is a single PutSecretValue again
    recording.calls.clear()
    vault.write_refresh_token(
        "acme", Region.FE, refresh_token="Atzr|fixture-2", grant_version=3, client_id=TEST_CLIENT_ID
    )
    assert recording.operations() == ["put_secret_value"]


def test_steady_state_writes_are_one_put_each_and_the_private_secret_holds_only_what_refresh_needs(
    settings: CoreSettings, secrets_client: Any
) -> None:
    vault = SecretsManagerVault(settings)
    vault.write_refresh_token(
        "acme", Region.NA, refresh_token="Atzr|fixture-1", grant_version=1, client_id=TEST_CLIENT_ID
    )
    token = PublishedAccessToken(
        "acme", Region.NA, "Atza|fixture", datetime.now(UTC) + timedelta(hours=1), "https://a", "cid", 1
    )
    vault.publish_access_token(token)
    recording = _Recording(secrets_client)
    vault = SecretsManagerVault(settings, client=recording)
    # A rotation (version 2) and a publish: one PutSecretValue each, nothing else
    vault.write_refresh_token(
        "acme", Region.NA, refresh_token="Atzr|fixture-2", grant_version=2, client_id=TEST_CLIENT_ID
    )
    vault.publish_access_token(token)
    assert recording.operations() == ["put_secret_value", "put_secret_value"]
    body = json.loads(
        secrets_client.get_secret_value(SecretId=refresh_secret_name("ads-connect", "acme", Region.NA))[
            "SecretString"
        ]
    )
    assert set(body) == {"refresh_token", "grant_version", "updated_at", "client_id"}
    assert body["client_id"] == TEST_CLIENT_ID


def test_access_token_secret_has_the_consumer_shape_and_no_refresh_token(
    settings: CoreSettings, secrets_client
) -> None:  # type: ignore[no-untyped-def]
    vault = SecretsManagerVault(settings)
    expires = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    vault.write_refresh_token(
        "acme", Region.NA, refresh_token="Atzr|fixture", grant_version=1, client_id=TEST_CLIENT_ID
    )
    vault.publish_access_token(
        PublishedAccessToken("acme", Region.NA, "Atza|fixture", expires, "https://ads.example", "cid", 1)
    )
    body = json.loads(
        secrets_client.get_secret_value(SecretId=access_secret_name("ads-connect", "acme", Region.NA))[
            "SecretString"
        ]
    )
    assert body == {
        "access_token": "Atza|fixture",
        "token_type": "bearer",
        "expires_at": "2026-03-01T13:00:00+00:00",
        "expires_at_epoch": int(expires.timestamp()),
        "region": "NA",
        "api_url": "https://ads.example",
        "client_id": "cid",
        "tenant_id": "acme",
        "grant_version": 1,
    }
    # Consumers read it: no deny policy on the access secret.
    assert "ResourcePolicy" not in secrets_client.get_resource_policy(SecretId="ads-connect/access/acme/NA")


class _RealDeletionSemantics:
    """moto accepts PutSecretValue on a secret scheduled for deletion; AWS answers
    InvalidRequestException. This wrapper restores AWS's behaviour for the restore path."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_secret_value(self, **kwargs: Any) -> Any:
        try:
            deleted = "DeletedDate" in self._client.describe_secret(SecretId=kwargs["SecretId"])
        except ClientError:
            deleted = False
        if deleted:
            raise ClientError(
                {"Error": {"Code": "InvalidRequestException", "Message": "marked for deletion"}},
                "PutSecretValue",
            )
        return self._client.put_secret_value(**kwargs)


def test_disconnect_deletes_both_secrets_and_reconsent_restores_them(
    settings: CoreSettings, secrets_client: Any
) -> None:
    vault = SecretsManagerVault(settings, client=_RealDeletionSemantics(secrets_client))
    vault.write_refresh_token(
        "acme", Region.FE, refresh_token="Atzr|fixture", grant_version=1, client_id=TEST_CLIENT_ID
    )
    vault.publish_access_token(
        PublishedAccessToken("acme", Region.FE, "Atza|f", datetime.now(UTC) + timedelta(hours=1), "u", "c", 1)
    )
    vault.delete_connection_secrets("acme", Region.FE, recovery_window_days=7)
    vault.delete_connection_secrets("acme", Region.FE, recovery_window_days=7)  # idempotent
    assert vault.read_refresh_token("acme", Region.FE) is None
    vault.write_refresh_token(
        "acme", Region.FE, refresh_token="Atzr|fixture-new", grant_version=2, client_id=TEST_CLIENT_ID
    )
    stored = vault.read_refresh_token("acme", Region.FE)
    assert stored is not None and stored.refresh_token == "Atzr|fixture-new"
    assert _has_policy(secrets_client, refresh_secret_name("ads-connect", "acme", Region.FE))


def test_missing_lwa_secret_reads_as_missing_and_other_failures_propagate(
    settings: CoreSettings, secrets_client
) -> None:  # type: ignore[no-untyped-def]
    secrets_client.delete_secret(SecretId=settings.lwa_secret_id, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientCredentialsMissingError):
        SecretsManagerVault(settings).read_client_credentials()
    with pytest.raises(ClientError):
        SecretsManagerVault(settings).write_client_keyring(ClientKeyring(ClientCredentials("a", "b")))
