"""Deployment configuration, read from cdk.json context and validated before anything is built.

Every key has a default except none: ``cdk synth`` works from a fresh clone. A bad value stops
synth with :class:`ConfigError`, whose message names the context key and what it accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

from ads_connect.models.brand import (
    DEFAULT_ACCENT_COLOR,
    DEFAULT_DISPLAY_NAME,
    LOGO_FILE_SUFFIXES,
    LOGO_MAX_BYTES,
    AccentColor,
    LogoDataUri,
    SupportContact,
    logo_data_uri,
)
from ads_connect.models.settings import (
    ACCESS_TOKEN_LIFETIME_SECONDS,
    APP_NAME_MAX_LENGTH,
    BREAKER_MIN_CONNECTIONS_MAX,
    BREAKER_WINDOW_MINUTES_MAX,
    DEFAULT_BREAKER_MIN_CONNECTIONS,
    DEFAULT_BREAKER_PERCENT,
    DEFAULT_BREAKER_WINDOW_MINUTES,
    MIN_WORKER_SECRET_WRITES_PER_SECOND,
    REFRESH_LEAD_SECONDS_DEFAULT,
    REFRESH_LEAD_SECONDS_MAX,
    REFRESH_LEAD_SECONDS_MIN,
    SECRET_PREFIX_PATTERN,
)
from ads_connect.models.strict import WrongTypeError, checker
from aws_cdk import aws_logs as logs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

CONTEXT_KEY: Final = "ads-connect"
# Stages: `cdk deploy -c stage=NAME` (a top-level context key, not inside "ads-connect") gives a
# distinct stack name, secret prefix and resource names, so stages coexist in one account/region.
STAGE_CONTEXT_KEY: Final = "stage"
DEFAULT_STAGE: Final = "prod"
STAGE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
STACK_NAME_PREFIX: Final = "AmazonAdsConnect"
SECRET_PREFIX_ROOT: Final = "ads-connect"  # noqa: S105 (a name prefix, not a secret)
# A check-only synth (make synth, the tests, local mode) has no operator's support contact: it
# passes a demo one under this top-level context key, which must sit in the reserved .invalid
# domain (RFC 2606) so it can never pass for a real contact. cdk.json itself leaves
# support_contact unset: a real `cdk deploy` stops until the operator sets it.
DEMO_SUPPORT_CONTACT_KEY: Final = "ads-connect:demo-support-contact"

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS: Final[dict[int, logs.RetentionDays]] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

# The scheduler runs every N minutes; a connection is refreshed when less than
# refresh_lead_seconds of its token's life remains, so the period must fit inside the lead.
SCHEDULE_RATES_MINUTES: Final = (1, 2, 5, 10)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[a-f0-9-]{36}$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(?P<name>.+)-[A-Za-z0-9]{6}$"
)
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class ConfigError(ValueError):
    """A cdk.json context value is invalid; the message names the key and what it accepts."""


def validate_stage(value: object) -> str:
    """The ``stage`` context value (``-c stage=NAME``), or ConfigError naming what it accepts."""
    if value is None:
        return DEFAULT_STAGE
    if not isinstance(value, str) or not STAGE_PATTERN.match(value):
        raise ConfigError(
            f"context key {STAGE_CONTEXT_KEY!r}: must match {STAGE_PATTERN.pattern} "
            f"(a lower-case letter, then up to 15 lower-case letters, digits or -; got {value!r})"
        )
    return value


def stack_name_for(stage: str) -> str:
    return f"{STACK_NAME_PREFIX}-{stage}"


def _brand_rule(field_type: Any) -> BeforeValidator:
    """A brand field's rules (models/brand.py, checked records) as a pydantic validator. A value
    of the wrong kind is reported as pydantic's own ``string_type``, so ``from_context`` adds
    what the setting accepts, as for every other setting."""
    check = checker(field_type)

    def validate(value: object) -> object:
        try:
            return check(value)
        except WrongTypeError:
            raise PydanticCustomError("string_type", "Input should be a valid string") from None

    return BeforeValidator(validate)


class CustomDomain(BaseModel):
    """Optional: serve the public pages (and the LWA redirect URI) from your own host name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain_name: str = Field(description="for example connect.example.com")
    certificate_arn: str = Field(description="ACM certificate for domain_name in the stack's region")

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.match(value):
            raise ValueError("must be a lower-case DNS host name such as connect.example.com")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str) -> str:
        if not _ARN.match(value):
            raise ValueError(
                "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"
            )
        return value


class AdsConnectConfig(BaseModel):
    """The ``ads-connect`` object in cdk.json ``context`` (keys in snake_case)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Set from the top-level ``stage`` context key by from_context (never inside "ads-connect").
    stage: str = DEFAULT_STAGE
    app_name: str = Field(default=DEFAULT_DISPLAY_NAME, min_length=1, max_length=APP_NAME_MAX_LENGTH)
    allowed_return_urls: tuple[str, ...] = ()
    # Default and bounds shared with the functions (models/settings.py), which get the value from
    # the environment the stack sets.
    refresh_lead_seconds: int = Field(
        default=REFRESH_LEAD_SECONDS_DEFAULT, ge=REFRESH_LEAD_SECONDS_MIN, le=REFRESH_LEAD_SECONDS_MAX
    )
    # The mass-revocation breaker: invalid_grant from this many distinct connections, or this
    # share of the active ones (whichever is larger), within the window holds further revocations.
    # Defaults and bounds shared with the functions (models/settings.py).
    revocation_breaker_min_connections: int = Field(
        default=DEFAULT_BREAKER_MIN_CONNECTIONS, ge=1, le=BREAKER_MIN_CONNECTIONS_MAX
    )
    revocation_breaker_percent: float = Field(default=DEFAULT_BREAKER_PERCENT, gt=0, le=100)
    revocation_breaker_window_minutes: int = Field(
        default=DEFAULT_BREAKER_WINDOW_MINUTES, ge=1, le=BREAKER_WINDOW_MINUTES_MAX
    )
    schedule_rate_minutes: Literal[1, 2, 5, 10] = 5
    alarm_email: str | None = None
    # Unset (null) means ads-connect/<stage> (_default_secret_prefix).
    secret_prefix: str = f"{SECRET_PREFIX_ROOT}/{DEFAULT_STAGE}"
    custom_domain: CustomDomain | None = None
    log_retention_days: int = 90
    include_profile_scope: bool = False
    # Lambda SnapStart on the consent and callback functions (docs/decisions.md, "Cold starts").
    # Off only where Lambda offers no SnapStart (Asia Pacific New Zealand and Taipei).
    snap_start: bool = True
    # Public routes: steady requests per second and burst for the whole stage.
    api_throttle_rate: int = Field(default=50, ge=1, le=10000)
    api_throttle_burst: int = Field(default=100, ge=1, le=5000)
    # Refresh workers running at once: the SQS event source's maximum concurrency.
    worker_concurrency: int = Field(default=5, ge=2, le=20)
    # Opt-in: also reserve that concurrency for the worker (and 1 for the scheduler). A new account
    # (concurrency limit 10) cannot give it: preflight checks what the account can reserve.
    reserve_concurrency: bool = False
    # Adoption: deploy onto what a destroyed deployment of this stage retained, instead of
    # creating new ones (docs/deploy.md, "Destroy and redeploy"; preflight prints the values).
    existing_table_name: str | None = None
    existing_private_key_arn: str | None = None
    existing_lwa_secret_arn: str | None = None
    # Secrets Manager writes per second all refresh workers together may make. The account and
    # region allow 50 (PutSecretValue, CreateSecret, ... combined, not adjustable), shared with
    # the callback, the admin API and everything else in the account: the default leaves 10.
    # Each worker paces itself at this divided by worker_concurrency (docs/refresh.md).
    secret_write_budget_per_second: float = Field(default=40, ge=1, le=50)
    # Refreshes one worker completes per second (each takes ~0.3 s against real AWS and LWA;
    # bench/bench_refresh.py measures it). Sizes how much one schedule run enqueues.
    worker_refreshes_per_second: float = Field(default=3, ge=0.1, le=20)
    # Alarm when the most overdue connection's token is this old (seconds since it was issued;
    # access tokens live 3600 s): the default fires with five minutes of life left.
    stale_token_age_seconds: int = Field(default=3300, ge=600, le=3599)
    # The operator's brand on the public pages (models/brand.py has the rules). app_name is the
    # display name. brand_logo: a data:image/...;base64,... URI or the path of a PNG, JPEG, GIF or
    # WebP file (relative to the directory cdk runs in, where cdk.json is), embedded at synth.
    brand_accent_color: Annotated[str, _brand_rule(AccentColor)] = DEFAULT_ACCENT_COLOR
    brand_logo: Annotated[str | None, _brand_rule(LogoDataUri)] = None
    # Required (checked last, after every other setting): an https:// URL or an e-mail address
    # that every error page shows beside its reference.
    support_contact: Annotated[str | None, _brand_rule(SupportContact)] = None

    @field_validator("allowed_return_urls")
    @classmethod
    def _return_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith("https://") or any(c.isspace() for c in url) or len(url) > 2000:
                raise ValueError(f"each entry must be an https:// URL without spaces (got {url!r})")
        return value

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("must be an e-mail address such as ops@example.com, or null for no subscription")
        return value

    @field_validator("secret_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # The functions validate the same pattern at cold start (CoreSettings.secret_prefix).
        if not re.fullmatch(SECRET_PREFIX_PATTERN, value) or value.endswith("/") or "*" in value:
            raise ValueError(
                "must be 1-64 characters of letters, digits and / _ + = . @ - without a trailing /"
            )
        return value

    @field_validator("brand_logo", mode="before")
    @classmethod
    def _logo(cls, value: object) -> object:
        # A file is read here and becomes the data: URI the shared LogoDataUri type checks.
        if isinstance(value, str) and value and not value.startswith("data:"):
            return _logo_file(Path(value))
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_secret_prefix(cls, data: Any) -> Any:
        """The stage's prefix unless one is set: two stages never share secrets by default."""
        if isinstance(data, Mapping) and data.get("secret_prefix") is None:
            data = {**data, "secret_prefix": f"{SECRET_PREFIX_ROOT}/{data.get('stage', DEFAULT_STAGE)}"}
        return data

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if not STAGE_PATTERN.match(value):
            raise ValueError(f"must match {STAGE_PATTERN.pattern}")
        return value

    @field_validator("existing_table_name")
    @classmethod
    def _table_name(cls, value: str | None) -> str | None:
        if value is not None and not _TABLE_NAME.match(value):
            raise ValueError("must be a DynamoDB table name (3-255 letters, digits, _ . -), or null")
        return value

    @field_validator("existing_private_key_arn")
    @classmethod
    def _key_arn(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_ARN.match(value):
            raise ValueError("must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), or null")
        return value

    @field_validator("existing_lwa_secret_arn")
    @classmethod
    def _secret_arn(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_ARN.match(value):
            raise ValueError(
                "must be the complete secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:"
                "<name>-<6 characters>), or null"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {sorted(LOG_RETENTION_DAYS)}")
        return value

    @model_validator(mode="after")
    def _schedule_fits_lead(self) -> AdsConnectConfig:
        # Two missed runs must still leave time to refresh before expiry.
        if self.schedule_rate_minutes * 60 * 2 > self.refresh_lead_seconds:
            raise ValueError(
                "schedule_rate_minutes: two schedule periods must fit inside refresh_lead_seconds "
                f"({self.schedule_rate_minutes} min x 2 > {self.refresh_lead_seconds} s)"
            )
        normal_max_age = (
            ACCESS_TOKEN_LIFETIME_SECONDS - self.refresh_lead_seconds + self.schedule_rate_minutes * 60
        )
        if self.stale_token_age_seconds <= normal_max_age:
            raise ValueError(
                "stale_token_age_seconds: must exceed the age a token reaches in normal operation "
                f"({ACCESS_TOKEN_LIFETIME_SECONDS} - refresh_lead_seconds + one schedule period = "
                f"{normal_max_age} s), below {ACCESS_TOKEN_LIFETIME_SECONDS}"
            )
        share = self.worker_secret_writes_per_second
        if share < MIN_WORKER_SECRET_WRITES_PER_SECOND:
            raise ValueError(
                "worker_concurrency: each worker's share of secret_write_budget_per_second must be at "
                f"least {MIN_WORKER_SECRET_WRITES_PER_SECOND:g} write/s "
                f"({self.secret_write_budget_per_second:g} / {self.worker_concurrency} = {share:.2f}): "
                "lower worker_concurrency or raise the budget"
            )
        if self.api_throttle_burst < self.api_throttle_rate // 10:
            raise ValueError("api_throttle_burst: must be at least a tenth of api_throttle_rate")
        if self.existing_lwa_secret_arn is not None:
            match = _SECRET_ARN.match(self.existing_lwa_secret_arn)
            if match is None or match.group("name") != self.lwa_secret_name:
                raise ValueError(
                    f"existing_lwa_secret_arn: must name this stage's secret {self.lwa_secret_name!r}"
                )
        return self

    @model_validator(mode="after")
    def _support_contact_is_set(self) -> AdsConnectConfig:
        if self.support_contact is None:
            raise ValueError(
                "support_contact: required: an https:// URL or an e-mail address where advertisers "
                "get help; every error page shows it beside its reference (README, Brand and help)"
            )
        return self

    @property
    def stack_name(self) -> str:
        return stack_name_for(self.stage)

    @property
    def reserved_concurrency_total(self) -> int:
        """What the deployment reserves of the account's Lambda concurrency (0 unless opted in)."""
        return self.worker_concurrency + 1 if self.reserve_concurrency else 0

    @property
    def worker_secret_writes_per_second(self) -> float:
        """Each worker's pace: together they never exceed the account budget."""
        return self.secret_write_budget_per_second / self.worker_concurrency

    @property
    def refreshes_per_schedule_run(self) -> int:
        """What the workers drain in one schedule interval, the most one run enqueues: each
        worker is bound by its own speed and by its write pace (one write per refresh; two when
        Amazon rotates, which halves the real drain)."""
        per_worker = min(self.worker_refreshes_per_second, self.worker_secret_writes_per_second)
        return int(self.worker_concurrency * self.schedule_rate_minutes * 60 * per_worker)

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTION_DAYS[self.log_retention_days]

    @property
    def lwa_secret_name(self) -> str:
        return f"{self.secret_prefix}/lwa-client"

    @classmethod
    def from_context(
        cls, raw: Mapping[str, Any] | None, stage: object = None, *, demo_support_contact: str | None = None
    ) -> AdsConnectConfig:
        """Validate the context object (and the top-level ``stage``); raise ConfigError naming
        the offending key. ``demo_support_contact`` (context DEMO_SUPPORT_CONTACT_KEY) stands in
        for a support_contact the settings leave unset, and only a contact in the .invalid domain."""
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"context key {CONTEXT_KEY!r}: must be an object of settings")
        if "stage" in raw:
            raise ConfigError(
                f"context key '{CONTEXT_KEY}.stage': the stage is a top-level context key: "
                "cdk deploy -c stage=NAME"
            )
        settings = {**raw, "stage": validate_stage(stage)}
        if demo_support_contact is not None and not settings.get("support_contact"):
            if not _in_invalid_domain(demo_support_contact):
                raise ConfigError(
                    f"context key {DEMO_SUPPORT_CONTACT_KEY!r}: must be a URL or e-mail address in "
                    "the reserved .invalid domain (it is for check-only synths); set the real one "
                    f"as {CONTEXT_KEY}.support_contact"
                )
            settings["support_contact"] = demo_support_contact
        try:
            return cls.model_validate(settings)
        except ValidationError as exc:
            error = exc.errors()[0]
            location = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"unknown setting; allowed keys: {', '.join(sorted(cls.model_fields))}"
            elif error["type"] in (
                "greater_than_equal",
                "less_than_equal",
                "string_too_short",
                "string_too_long",
            ):
                message = f"{message} (allowed values: {_bounds(cls, location)})"
            elif error["type"] == "missing" and len(error["loc"]) > 1:
                parent = [str(p) for p in error["loc"][:-1] if not isinstance(p, int)]
                allowed = _allowed_values(cls, parent)
                if allowed:
                    message = f"{message} ({'.'.join(parent)}: {allowed})"
            elif error["type"] in _TYPE_ERRORS:
                # "Input should be a valid boolean" alone does not say what to write instead.
                allowed = _allowed_values(cls, [str(p) for p in error["loc"] if not isinstance(p, int)])
                if allowed:
                    message = f"{message} (allowed values: {allowed})"
            key = f"{CONTEXT_KEY}.{location}" if location else CONTEXT_KEY
            if not location and ":" in message:
                # Cross-field errors name their key themselves.
                field, _, rest = message.partition(":")
                key, message = f"{CONTEXT_KEY}.{field}", rest.strip()
            raise ConfigError(f"context key {key!r}: {message}") from None


def _logo_file(path: Path) -> str:
    """A logo file read at synth, checked and turned into the data: URI the pages embed."""
    media_type = LOGO_FILE_SUFFIXES.get(path.suffix.lower())
    if media_type is None:
        raise ValueError(
            f"{path.name}: the logo file must end in {', '.join(LOGO_FILE_SUFFIXES)} "
            "(or give a data:image/...;base64,... URI)"
        )
    try:
        size = path.stat().st_size
        if size > LOGO_MAX_BYTES:
            raise ValueError(f"{path.name} is {size} bytes; a logo may have at most {LOGO_MAX_BYTES} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read the logo file {str(path)!r}: {error.strerror}") from None
    return logo_data_uri(data, declared_type=media_type)


def _in_invalid_domain(contact: str) -> bool:
    host = (
        contact.rpartition("@")[2] if "@" in contact and "://" not in contact else urlsplit(contact).hostname
    )
    return bool(host) and str(host).lower().endswith(".invalid")


# Pydantic error types that mean "wrong kind of value": their message names the expected type
# only, so from_context adds what the setting accepts.
_TYPE_ERRORS: Final = frozenset(
    {
        "bool_type",
        "bool_parsing",
        "int_type",
        "int_parsing",
        "int_from_float",
        "string_type",
        "tuple_type",
        "list_type",
        "literal_error",
        "dict_type",
        "model_type",
        "model_attributes_type",
    }
)
# Settings whose accepted values a type cannot say.
_ALLOWED_VALUES: Final = {
    "allowed_return_urls": "a list of https URLs",
    "alarm_email": "an e-mail address such as ops@example.com, or null",
    "log_retention_days": ", ".join(map(str, sorted(LOG_RETENTION_DAYS))),
    "brand_accent_color": "a colour #rrggbb with at least 4.5:1 contrast against white",
    "brand_logo": "a data:image/...;base64,... URI or a PNG, JPEG, GIF or WebP file path, or null",
    "support_contact": "an https:// URL or an e-mail address",
}


def _allowed_values(model: type[BaseModel], location: list[str]) -> str | None:
    """What a setting (``location``: the path of field names) accepts, in cdk.json terms."""
    if location and location[0] in _ALLOWED_VALUES:
        return _ALLOWED_VALUES[location[0]]
    annotation: Any = None
    nullable = False
    owner = model
    for depth, name in enumerate(location):
        info = owner.model_fields.get(name)
        if info is None:
            return None
        annotation, nullable = info.annotation, False
        arguments = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) in (Union, UnionType) and len(arguments) < len(get_args(annotation)):
            annotation, nullable = arguments[0], True
        if depth < len(location) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            owner = annotation
    if annotation is None:
        return None
    field = location[-1]
    if annotation is bool:
        allowed = "true/false"
    elif annotation is int:
        bounds = _bounds(owner, field)
        allowed = f"an integer {bounds}" if "?" not in bounds else "an integer"
    elif get_origin(annotation) is Literal:
        allowed = ", ".join(map(str, get_args(annotation)))
    elif annotation is str:
        bounds = _bounds(owner, field)
        allowed = f"a string of {bounds} characters" if "?" not in bounds else "a string"
    elif get_origin(annotation) is tuple:
        allowed = "a list"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        allowed = f"an object with {' and '.join(annotation.model_fields)}"
    else:
        return None
    return f"{allowed}, or null" if nullable else allowed


def _bounds(model: type[BaseModel], field: str) -> str:
    """``low..high`` from a field's Field(ge=, le=, min_length=, max_length=) constraints."""
    info = model.model_fields.get(field)
    low: object = "?"
    high: object = "?"
    for constraint in info.metadata if info else []:
        low = getattr(constraint, "ge", None) or getattr(constraint, "min_length", None) or low
        high = getattr(constraint, "le", None) or getattr(constraint, "max_length", None) or high
    return f"{low}..{high}"
