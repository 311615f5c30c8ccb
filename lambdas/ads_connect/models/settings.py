"""Environment settings, one checked record per function (models/strict.py), validated at cold start.

Every environment variable the functions read is named here (``ENV_*``); the stack imports these
names to set them (stacks/ads_connect.py). Local mode takes the functions' environment from the
synthesized template and spells only the three it overrides (local/runner.py); the test
fixtures spell what they set (tests/fixtures/aws.py). Defaults and bounds shared with the stack's
cdk.json validation are the constants below.
"""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, ClassVar, Self

from ads_connect.models.brand import DEFAULT_ACCENT_COLOR, AccentColor, Brand, LogoDataUri, SupportContact
from ads_connect.models.strict import Bounds, Length, Record, RecordError, pattern
from ads_connect.regions import (
    AMAZON_ENDPOINTS,
    ENDPOINTS_ENV_VAR,
    EndpointsConfigError,
    Region,
    RegionEndpoints,
    parse_endpoints,
)

ENV_TABLE_NAME = "ADS_CONNECT_TABLE_NAME"
ENV_SECRET_PREFIX = "ADS_CONNECT_SECRET_PREFIX"
ENV_LWA_SECRET_ID = "ADS_CONNECT_LWA_SECRET_ID"
ENV_EVENT_BUS_NAME = "ADS_CONNECT_EVENT_BUS_NAME"
ENV_APP_NAME = "ADS_CONNECT_APP_NAME"
ENV_BRAND_ACCENT_COLOR = "ADS_CONNECT_BRAND_ACCENT_COLOR"
ENV_BRAND_LOGO = "ADS_CONNECT_BRAND_LOGO"
ENV_SUPPORT_CONTACT = "ADS_CONNECT_SUPPORT_CONTACT"
ENV_ALLOWED_RETURN_URLS = "ADS_CONNECT_ALLOWED_RETURN_URLS"
ENV_PUBLIC_BASE_URL = "ADS_CONNECT_PUBLIC_BASE_URL"
ENV_REFRESH_LEAD_SECONDS = "ADS_CONNECT_REFRESH_LEAD_SECONDS"
ENV_WORK_QUEUE_URL = "ADS_CONNECT_WORK_QUEUE_URL"
ENV_PRIVATE_SECRET_KMS_KEY_ID = "ADS_CONNECT_PRIVATE_SECRET_KMS_KEY_ID"
ENV_PRIVATE_SECRET_READER_ARNS = "ADS_CONNECT_PRIVATE_SECRET_READER_ARNS"
ENV_INCLUDE_PROFILE_SCOPE = "ADS_CONNECT_INCLUDE_PROFILE_SCOPE"
ENV_MAX_REFRESHES_PER_RUN = "ADS_CONNECT_MAX_REFRESHES_PER_RUN"
ENV_SECRET_WRITES_PER_SECOND = "ADS_CONNECT_SECRET_WRITES_PER_SECOND"
ENV_BREAKER_MIN_CONNECTIONS = "ADS_CONNECT_REVOCATION_BREAKER_MIN_CONNECTIONS"
ENV_BREAKER_PERCENT = "ADS_CONNECT_REVOCATION_BREAKER_PERCENT"
ENV_BREAKER_WINDOW_MINUTES = "ADS_CONNECT_REVOCATION_BREAKER_WINDOW_MINUTES"

# The mass-revocation breaker's defaults (logic/breaker.py; cdk.json overrides via stacks/config.py):
# 3 connections or 5 % of the active ones, whichever is larger, within 15 minutes.
DEFAULT_BREAKER_MIN_CONNECTIONS = 3
DEFAULT_BREAKER_PERCENT = 5.0
DEFAULT_BREAKER_WINDOW_MINUTES = 15
BREAKER_MIN_CONNECTIONS_MAX = 100_000
BREAKER_WINDOW_MINUTES_MAX = 1440


@dataclass(frozen=True)
class BreakerSettings:
    min_connections: int = DEFAULT_BREAKER_MIN_CONNECTIONS
    percent: float = DEFAULT_BREAKER_PERCENT
    window: timedelta = timedelta(minutes=DEFAULT_BREAKER_WINDOW_MINUTES)


# Defaults and bounds the stack's cdk.json validation (stacks/config.py) shares with the functions:
# each written here once. Amazon's access tokens live one hour; the refresh lead, the due times
# (logic/grants.py, logic/scheduler.py) and the stale-token alarm are measured against it.
ACCESS_TOKEN_LIFETIME_SECONDS = 3600
# Refresh when less than the lead of access-token life remains. 900 s (15 min) keeps a
# consumer's 5-minute cache from ever holding an expired token; the seed's 55-minute mark
# (300 s) is the latest acceptable; above 3000 s a token would be refreshed within 10 minutes.
REFRESH_LEAD_SECONDS_DEFAULT = 900
REFRESH_LEAD_SECONDS_MIN = 300
REFRESH_LEAD_SECONDS_MAX = 3000
APP_NAME_MAX_LENGTH = 80
# Secrets Manager's name characters, at most 64 of them left for the prefix.
SECRET_PREFIX_PATTERN = r"[A-Za-z0-9/_+=.@-]{1,64}"

# Below this a worker's batch of 10 refreshes (up to 20 secret writes with rotation) would spend
# more than 20 s of its 120 s waiting for its own pacing; stacks/config.py enforces it at synth.
MIN_WORKER_SECRET_WRITES_PER_SECOND = 1.0


class SettingsError(ValueError):
    """A function's environment is incomplete or malformed (names the variable, never a value)."""


# Environment text -> the field's type. Booleans take the words pydantic took before, in any case
# and with surrounding spaces (the stack writes "true"/"false"); numbers are decimal text; tuples
# are JSON arrays of strings; the endpoint map is its JSON object (regions.py parses it).
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _env_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ValueError("must be true or false")


def _env_number(kind: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text.strip())
        except ValueError:
            raise ValueError(f"must be {what}") from None

    return parse


def _env_strings(text: str) -> tuple[str, ...]:
    try:
        parsed = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        raise ValueError("must be a JSON array of strings") from None
    if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
        raise ValueError("must be a JSON array of strings")
    return tuple(parsed)


def _env_parser(annotation: Any) -> Callable[[str], Any]:
    """How one field's environment text becomes the value its record checks."""
    if typing.get_origin(annotation) is Annotated:
        return _env_parser(typing.get_args(annotation)[0])
    if type(None) in typing.get_args(annotation):  # X | None: the text is never None
        return _env_parser(next(a for a in typing.get_args(annotation) if a is not type(None)))
    kind = annotation
    if kind is bool:
        return _env_bool
    if kind is int:
        return _env_number(int, "a whole number")
    if kind is float:
        return _env_number(float, "a number")
    if typing.get_origin(kind) is tuple:
        return _env_strings
    return str


class _Settings(Record, frozen=True):
    # Maps record field -> environment variable; subclasses extend it.
    ENV_NAMES: ClassVar[dict[str, str]] = {}

    @classmethod
    def env_names(cls) -> dict[str, str]:
        names: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            names.update(getattr(klass, "ENV_NAMES", {}))
        return names

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        names = cls.env_names()
        hints = cls.annotations()
        values: dict[str, Any] = {}
        for name, variable in names.items():
            if variable in env:
                try:
                    values[name] = _env_parser(hints[name])(env[variable])
                except ValueError as exc:
                    raise SettingsError(f"environment variable {variable}: {exc}") from None
        try:
            values["amazon_endpoints"] = parse_endpoints(env.get(ENDPOINTS_ENV_VAR))
            return cls.from_mapping(values)
        except EndpointsConfigError as exc:
            raise SettingsError(str(exc)) from None
        except RecordError as exc:
            raise SettingsError(
                f"environment variable {names.get(exc.field, exc.field)}: {exc.problem}"
            ) from None


class CoreSettings(_Settings, frozen=True):
    """What every function needs."""

    ENV_NAMES: ClassVar[dict[str, str]] = {
        "table_name": ENV_TABLE_NAME,
        "secret_prefix": ENV_SECRET_PREFIX,
        "lwa_secret_id": ENV_LWA_SECRET_ID,
        "event_bus_name": ENV_EVENT_BUS_NAME,
        "private_secret_kms_key_id": ENV_PRIVATE_SECRET_KMS_KEY_ID,
        "private_secret_reader_arns": ENV_PRIVATE_SECRET_READER_ARNS,
        "refresh_lead_seconds": ENV_REFRESH_LEAD_SECONDS,
        "revocation_breaker_min_connections": ENV_BREAKER_MIN_CONNECTIONS,
        "revocation_breaker_percent": ENV_BREAKER_PERCENT,
        "revocation_breaker_window_minutes": ENV_BREAKER_WINDOW_MINUTES,
    }

    table_name: Annotated[str, Length(3)]
    secret_prefix: Annotated[str, pattern(SECRET_PREFIX_PATTERN, "1 to 64 of A-Z a-z 0-9 / _ + = . @ -")]
    lwa_secret_id: Annotated[str, Length(1)]
    event_bus_name: Annotated[str, Length(1)]
    # Amazon's hosts unless ADS_CONNECT_AMAZON_ENDPOINTS points elsewhere (regions.py).
    amazon_endpoints: dict[Region, RegionEndpoints] = field(default_factory=lambda: dict(AMAZON_ENDPOINTS))
    # Every function that may create a connection's private refresh-token secret (callback,
    # worker, admin) encrypts it with this key and attaches a resource policy naming these roles.
    private_secret_kms_key_id: str | None = None
    private_secret_reader_arns: tuple[str, ...] = ()
    # The stack always sets it (stacks/config.py); the default serves tests and direct calls.
    refresh_lead_seconds: Annotated[int, Bounds(ge=REFRESH_LEAD_SECONDS_MIN, le=REFRESH_LEAD_SECONDS_MAX)] = (
        REFRESH_LEAD_SECONDS_DEFAULT
    )
    # The mass-revocation breaker (logic/breaker.py; set from cdk.json by stacks/config.py).
    revocation_breaker_min_connections: Annotated[int, Bounds(ge=1, le=BREAKER_MIN_CONNECTIONS_MAX)] = (
        DEFAULT_BREAKER_MIN_CONNECTIONS
    )
    revocation_breaker_percent: Annotated[float, Bounds(gt=0, le=100)] = DEFAULT_BREAKER_PERCENT
    revocation_breaker_window_minutes: Annotated[int, Bounds(ge=1, le=BREAKER_WINDOW_MINUTES_MAX)] = (
        DEFAULT_BREAKER_WINDOW_MINUTES
    )

    @property
    def revocation_breaker(self) -> BreakerSettings:
        return BreakerSettings(
            self.revocation_breaker_min_connections,
            self.revocation_breaker_percent,
            timedelta(minutes=self.revocation_breaker_window_minutes),
        )


class PagesSettings(CoreSettings, frozen=True):
    """Consent and callback functions: they render pages and build redirect URIs."""

    ENV_NAMES: ClassVar[dict[str, str]] = {
        "app_name": ENV_APP_NAME,
        "allowed_return_urls": ENV_ALLOWED_RETURN_URLS,
        "public_base_url": ENV_PUBLIC_BASE_URL,
        "include_profile_scope": ENV_INCLUDE_PROFILE_SCOPE,
        "brand_accent_color": ENV_BRAND_ACCENT_COLOR,
        "brand_logo": ENV_BRAND_LOGO,
        "support_contact": ENV_SUPPORT_CONTACT,
    }

    # The operator's brand (models/brand.py has the rules; the stack sets these for the
    # consent and callback functions only). app_name is the brand's display name.
    app_name: Annotated[str, Length(1, APP_NAME_MAX_LENGTH)]
    brand_accent_color: AccentColor = DEFAULT_ACCENT_COLOR
    brand_logo: LogoDataUri = None
    support_contact: SupportContact = None
    allowed_return_urls: tuple[str, ...] = ()
    # Unset when deployed: the base URL is derived from the request (API Gateway domain name).
    # Local mode sets it (http://localhost:PORT).
    public_base_url: str | None = None
    include_profile_scope: bool = False

    @cached_property
    def brand(self) -> Brand:
        return Brand(
            display_name=self.app_name,
            accent_color=self.brand_accent_color,
            logo=self.brand_logo,
            support_contact=self.support_contact,
        )


class RefreshSettings(CoreSettings, frozen=True):
    """Scheduler and worker functions."""

    ENV_NAMES: ClassVar[dict[str, str]] = {
        "work_queue_url": ENV_WORK_QUEUE_URL,
        "max_refreshes_per_run": ENV_MAX_REFRESHES_PER_RUN,
        "secret_writes_per_second": ENV_SECRET_WRITES_PER_SECOND,
    }

    work_queue_url: str | None = None
    # Scheduler: refreshes one run enqueues at most (oldest due first): what the workers drain
    # before the next run (stacks/config.py refreshes_per_schedule_run). None: no cap (only
    # where no stack sets it, e.g. a test calling the scheduler directly).
    max_refreshes_per_run: Annotated[int, Bounds(ge=1)] | None = None
    # Worker: Secrets Manager writes per second this one worker may make (the account budget
    # divided by worker concurrency). None: not paced (same caveat).
    secret_writes_per_second: Annotated[float, Bounds(ge=MIN_WORKER_SECRET_WRITES_PER_SECOND)] | None = None


class AdminSettings(PagesSettings, RefreshSettings, frozen=True):
    """The admin function creates sessions (pages settings) and forces refreshes (refresh settings)."""
