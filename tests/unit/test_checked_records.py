"""The checked records (models/strict.py) that replace pydantic on the public path, and the
settings read from a function's environment with them (models/settings.py)."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import pytest
from ads_connect.models.brand import Brand
from ads_connect.models.consent import ConnectResultRecord, OAuthStateRecord, ResultProfile
from ads_connect.models.records import AccessLevel, Connection, ConnectionStatus, ProfilesState
from ads_connect.models.settings import (
    ENV_APP_NAME,
    ENV_BREAKER_PERCENT,
    ENV_EVENT_BUS_NAME,
    ENV_INCLUDE_PROFILE_SCOPE,
    ENV_LWA_SECRET_ID,
    ENV_PRIVATE_SECRET_READER_ARNS,
    ENV_REFRESH_LEAD_SECONDS,
    ENV_SECRET_PREFIX,
    ENV_SUPPORT_CONTACT,
    ENV_TABLE_NAME,
    PagesSettings,
    SettingsError,
)
from ads_connect.models.strict import (
    Before,
    Bounds,
    Length,
    Record,
    RecordError,
    WrongTypeError,
    checker,
    pattern,
)
from ads_connect.regions import AMAZON_ENDPOINTS, ENDPOINTS_ENV_VAR, Region

NOW = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
SECRET_LOOKING = "verifier-that-must-never-be-echoed"


class Inner(Record):
    code: Annotated[str, pattern(r"[a-z]{2}", "two lower-case letters")]


class Sample(Record):
    name: Annotated[str, Length(1, 5)]
    count: Annotated[int, Bounds(ge=1)] = 1
    ratio: float = 0.5
    flag: bool = False
    at: datetime | None = None
    region: Region = Region.NA
    tags: tuple[str, ...] = ()
    inner: list[Inner] = field(default_factory=list)
    label: Annotated[str | None, Before(lambda v: None if v == "" else v)] = None


def _connection(**changes: Any) -> Connection:
    values: dict[str, Any] = {
        "tenant_id": "acme",
        "region": Region.EU,
        "status": ConnectionStatus.ACTIVE,
        "grant_version": 3,
        "connected_at": NOW,
        "refresh_due_at": NOW + timedelta(minutes=45),
    }
    return Connection(**{**values, **changes})


# --- types and rules ---------------------------------------------------------------------------


def test_values_of_the_declared_types_are_kept_and_documented_conversions_applied() -> None:
    sample = Sample.from_mapping(
        {
            "name": "abc",
            "count": Decimal("4"),  # DynamoDB's numbers
            "ratio": 2,
            "at": "2026-12-07T09:30:15.123456Z",
            "region": "FE",
            "tags": ["a", "b"],
            "inner": [{"code": "de"}],
            "label": "",
        }
    )
    assert sample.count == 4 and type(sample.count) is int
    assert sample.ratio == 2.0 and type(sample.ratio) is float
    assert sample.at == NOW
    assert sample.region is Region.FE
    assert sample.tags == ("a", "b")
    assert sample.inner == [Inner(code="de")]
    assert sample.label is None


@pytest.mark.parametrize(
    ("changes", "field_name", "problem"),
    [
        ({"name": ""}, "name", "at least 1 character"),
        ({"name": "toolong"}, "name", "at most 5 characters"),
        ({"name": 5}, "name", "must be a string"),
        ({"count": 0}, "count", "at least 1"),
        ({"count": True}, "count", "whole number"),  # a bool is not a number here
        ({"count": Decimal("1.5")}, "count", "whole number"),
        ({"count": "2"}, "count", "whole number"),
        ({"ratio": "0.5"}, "ratio", "must be a finite number"),
        ({"ratio": float("nan")}, "ratio", "must be a finite number"),  # NaN passes every bound
        ({"ratio": Decimal("Infinity")}, "ratio", "must be a finite number"),
        ({"count": Decimal("NaN")}, "count", "whole number"),
        ({"flag": 1}, "flag", "true or false"),
        ({"at": "yesterday"}, "at", "ISO 8601"),
        ({"region": "XX"}, "region", "one of NA, EU, FE"),
        ({"tags": "a,b"}, "tags", "must be a list"),
        ({"inner": [{"code": "DEU"}]}, "inner.code", "two lower-case letters"),
    ],
)
def test_a_broken_rule_names_the_field_and_the_rule(
    changes: dict[str, Any], field_name: str, problem: str
) -> None:
    with pytest.raises(RecordError) as caught:
        Sample(**{"name": "ok", **changes})
    assert caught.value.field == field_name
    assert problem in caught.value.problem


def test_an_error_never_repeats_the_value() -> None:
    # A PKCE verifier is a secret of the flow: a malformed state record must not echo it.
    with pytest.raises(RecordError) as caught:
        OAuthStateRecord.from_mapping(
            {
                "session_hash": "h",
                "tenant_id": "acme",
                "region": SECRET_LOOKING,
                "redirect_uri": "https://example.invalid/cb",
                "code_verifier": SECRET_LOOKING,
                "browser_binding_hash": "b",
                "created_at": NOW,
                "expires_at": NOW,
            }
        )
    assert SECRET_LOOKING not in str(caught.value)
    assert SECRET_LOOKING not in repr(
        OAuthStateRecord(
            session_hash="h",
            tenant_id="acme",
            region=Region.NA,
            redirect_uri="https://example.invalid/cb",
            code_verifier=SECRET_LOOKING,
            browser_binding_hash="b",
            created_at=NOW,
            expires_at=NOW,
        )
    )


def test_from_mapping_refuses_unknown_keys_and_names_missing_ones() -> None:
    with pytest.raises(RecordError, match=r"Sample\.surprise: is not a field"):
        Sample.from_mapping({"name": "a", "surprise": 1})
    assert Sample.from_mapping({"name": "a", "surprise": 1}, extra="ignore") == Sample(name="a")
    with pytest.raises(RecordError, match=r"Sample\.name: is required"):
        Sample.from_mapping({})


def test_replace_checks_the_copy_and_leaves_the_original() -> None:
    connection = _connection()
    assert connection.replace(grant_version=4).grant_version == 4
    with pytest.raises(RecordError, match="grant_version"):
        connection.replace(grant_version=0)
    assert connection.grant_version == 3


def test_records_round_trip_through_json_with_utc_written_as_z() -> None:
    connection = _connection(view_only=True, profiles_state=ProfilesState.EMPTY)
    stored = json.loads(json.dumps(connection.to_json()))
    assert stored["region"] == "EU" and stored["status"] == "active"
    assert stored["connected_at"] == "2026-12-07T09:30:15.123456Z"
    assert Connection.from_mapping(stored) == connection

    other_zone = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert Sample(name="a", at=other_zone).to_json()["at"] == "2026-12-07T10:00:00+01:00"

    result = ConnectResultRecord(
        tenant_id="acme",
        region=Region.NA,
        profiles=[ResultProfile(profile_id="1", access_level=AccessLevel.VIEW)],
        profiles_state=ProfilesState.OK,
        browser_binding_hash="b",
        expires_at=NOW,
    )
    assert ConnectResultRecord.from_mapping(json.loads(json.dumps(result.to_json()))) == result


def test_the_tenant_id_rule_applies_to_every_record() -> None:
    with pytest.raises(RecordError, match=r"Connection\.tenant_id: tenant id must be"):
        _connection(tenant_id="../other")


def _unset_is_none(value: object) -> object:
    return None if value == "" else value


@pytest.mark.parametrize(
    "annotation",
    [
        Annotated[str | None, Before(_unset_is_none), Length(2)],
        Annotated[str, Before(_unset_is_none), Length(2)] | None,
    ],
)
def test_a_standalone_checker_raises_value_errors_for_pydantic_to_report(annotation: Any) -> None:
    check = checker(annotation)
    assert check("") is None and check(None) is None and check("ab") == "ab"
    with pytest.raises(ValueError, match="at least 2"):
        check("a")
    with pytest.raises(WrongTypeError, match="must be a string"):
        check(5)


def test_a_before_rule_cannot_make_a_required_field_none() -> None:
    with pytest.raises(WrongTypeError, match="must be a string"):
        checker(Annotated[str, Before(_unset_is_none)])("")


# --- settings from a function's environment ----------------------------------------------------

PAGES_ENVIRONMENT = {
    ENV_TABLE_NAME: "ads-connect-test",
    ENV_SECRET_PREFIX: "ads-connect/test",
    ENV_LWA_SECRET_ID: "ads-connect/test/lwa-client",
    ENV_EVENT_BUS_NAME: "ads-connect-test",
    ENV_APP_NAME: "Acme Reports",
    ENV_SUPPORT_CONTACT: "support@acme.example",
}


def test_the_environment_text_becomes_typed_settings() -> None:
    settings = PagesSettings.from_environment(
        {
            **PAGES_ENVIRONMENT,
            ENV_REFRESH_LEAD_SECONDS: "1200",
            ENV_BREAKER_PERCENT: "2.5",
            ENV_INCLUDE_PROFILE_SCOPE: "true",
            ENV_PRIVATE_SECRET_READER_ARNS: '["arn:aws:iam::123456789012:role/reader"]',
        }
    )
    assert settings.refresh_lead_seconds == 1200
    assert settings.revocation_breaker_percent == 2.5
    assert settings.include_profile_scope is True
    assert settings.private_secret_reader_arns == ("arn:aws:iam::123456789012:role/reader",)
    assert settings.amazon_endpoints == dict(AMAZON_ENDPOINTS)  # the real hosts by default
    assert settings.brand.accent_color == "#146eb4"  # unset: the default colour


@pytest.mark.parametrize(
    ("variable", "text", "problem"),
    [
        (ENV_REFRESH_LEAD_SECONDS, "soon", "must be a whole number"),
        (ENV_REFRESH_LEAD_SECONDS, "60", "must be at least 300"),
        (ENV_INCLUDE_PROFILE_SCOPE, "maybe", "must be true or false"),
        (ENV_PRIVATE_SECRET_READER_ARNS, '{"a": 1}', "JSON array of strings"),
        (ENV_BREAKER_PERCENT, "nan", "must be a finite number"),
        (ENV_SECRET_PREFIX, "has spaces", "must be 1 to 64 of"),
        (ENV_SUPPORT_CONTACT, "call us", "https:// URL or an e-mail address"),
    ],
)
def test_a_bad_variable_is_named_and_its_value_never_repeated(variable: str, text: str, problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        PagesSettings.from_environment({**PAGES_ENVIRONMENT, variable: text})
    message = str(caught.value)
    assert message.startswith(f"environment variable {variable}: ")
    assert problem in message
    assert text not in message


def test_a_missing_variable_is_named() -> None:
    environment = {k: v for k, v in PAGES_ENVIRONMENT.items() if k != ENV_APP_NAME}
    with pytest.raises(SettingsError, match=f"environment variable {ENV_APP_NAME}: is required"):
        PagesSettings.from_environment(environment)


def test_a_malformed_endpoint_override_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=ENDPOINTS_ENV_VAR):
        PagesSettings.from_environment({**PAGES_ENVIRONMENT, ENDPOINTS_ENV_VAR: "{not json"})


# --- the record classes themselves (no @dataclass: models/strict.py writes the methods once) -----


class FrozenSample(Record, frozen=True):
    LABEL: ClassVar[str] = "not a field"
    name: str
    tags: list[str] = field(default_factory=list)


def test_construction_takes_keywords_only_and_names_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="missing required keyword argument 'name'"):
        FrozenSample()
    with pytest.raises(TypeError, match="unexpected keyword argument 'nmae'"):
        FrozenSample(nmae="x")
    with pytest.raises(TypeError):
        FrozenSample("positional")  # type: ignore[misc]
    assert FrozenSample.field_names() == ("name", "tags")  # a ClassVar is not a field


def test_a_frozen_record_refuses_changes_and_hashes_by_value() -> None:
    sample = FrozenSample(name="a")
    with pytest.raises(FrozenInstanceError):
        sample.name = "b"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del sample.name  # type: ignore[misc]
    assert FrozenSample(name="a") == FrozenSample(name="a") != FrozenSample(name="b")
    assert FrozenSample(name="a").tags is not FrozenSample(name="a").tags  # a fresh default each time


def test_equal_frozen_records_hash_alike_and_mutable_ones_are_unhashable() -> None:
    brand = Brand(display_name="Acme", support_contact="support@acme.example")
    assert hash(brand) == hash(Brand(display_name="Acme", support_contact="support@acme.example"))
    assert {brand, Brand(display_name="Acme", support_contact="support@acme.example")} == {brand}
    with pytest.raises(TypeError, match="unhashable"):
        hash(_connection())
    mutable = _connection()
    mutable.view_only = True  # a mutable record, like the pydantic model it replaced
    assert mutable != _connection()


def test_a_record_extending_a_frozen_one_must_be_frozen() -> None:
    with pytest.raises(TypeError, match="must be frozen=True"):

        class Thawed(FrozenSample):  # pragma: no cover - the class statement itself fails
            extra: str = ""


def test_a_subclass_adds_fields_after_its_bases_and_repr_shows_them_in_order() -> None:
    class Extended(FrozenSample, frozen=True):
        note: str | None = None

    extended = Extended(name="a", note="n")
    assert Extended.field_names() == ("name", "tags", "note")
    assert repr(extended) == "Extended(name='a', tags=[], note='n')"
    assert extended.replace(note=None) == Extended(name="a")
    assert extended != FrozenSample(name="a")  # another class is never equal
