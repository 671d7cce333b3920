"""Settings parsed from the environment once, validated at cold start; the only reader of os.environ."""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Positive = Annotated[int, Field(gt=0)]
NonNegative = Annotated[int, Field(ge=0)]
# A comma-separated list in the environment ("73.07,35.09"), not JSON: NoDecode hands the raw text to the
# field's own validator.
CommaList = Annotated[tuple[str, ...], NoDecode]

_STAGE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_KABUPATEN = re.compile(r"[0-9]{2}\.[0-9]{2}")
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class ConfigurationError(ValueError):
    """The environment holds a setting Balai cannot run with; raised at cold start, naming the variable."""


class Settings(BaseSettings):
    """Everything configurable, read from BALAI_* environment variables (a field `x` is BALAI_X unless its
    alias says otherwise) and validated when the settings are built, i.e. at cold start.

    stage: "local" (embedded moto server, file adapters), "test" (moto in-process) or a cloud stage ("prod").
    Each default is written once, here; an empty variable counts as unset.
    """

    model_config = SettingsConfigDict(
        env_prefix="BALAI_", env_ignore_empty=True, frozen=True, populate_by_name=True, extra="ignore")

    stage: str = "local"
    table_name: str = Field(default_factory=lambda data: f"balai-{data.get('stage', 'local')}",
                            validation_alias="BALAI_TABLE")
    aws_region: str = Field(default="ap-southeast-3", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    dynamodb_endpoint: str | None = None
    # Set by Lambda: which of the app's functions this container runs (Chalice names them {app}-{stage}-{handler})
    lambda_function_name: str | None = Field(default=None, validation_alias="AWS_LAMBDA_FUNCTION_NAME")
    data_dir: Path = PROJECT_ROOT / ".balai"
    # SSM SecureString parameter (ARN or name) with the JWT and NIK-hash keys; unset: a generated local file.
    secrets_arn: str | None = None
    token_ttl_seconds: Positive = 1800
    otp_ttl_seconds: Positive = 300
    otp_max_attempts: Positive = 5
    # Abuse limits (issue 8): wrong OTP guesses per NIK across codes, then a lock for the rest of the
    # window; codes sent per phone and per client address per hour and per day; staff password tries.
    otp_fail_limit: Positive = 10
    otp_fail_window_seconds: Positive = 24 * 3600
    otp_per_phone_hour: Positive = 5
    otp_per_phone_day: Positive = 10
    otp_per_client_hour: Positive = 30
    otp_per_client_day: Positive = 200
    login_free_attempts_user: Positive = 5
    login_free_attempts_client: Positive = 20
    login_max_delay_seconds: NonNegative = 900
    sms_channel: Literal["local", "sns"] = "local"
    # The region SNS sends SMS from (BALAI_SMS_REGION): SMS to Indonesia may not be offered in the
    # functions' region; unset, the functions' own region.
    sms_region: str | None = None
    email_channel: Literal["local", "ses"] = "local"
    public_base_url: str = "http://127.0.0.1:8000"
    letters_bucket: str | None = None
    # SSM SecureString parameter (ARN) holding the kabupaten's Ed25519 letter keyring (local: data_dir file).
    letter_keys_arn: str | None = None
    s3_endpoint: str | None = None
    email_sender: str = "noreply@balai.local"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias="POWERTOOLS_LOG_LEVEL")
    # Notifications: the table's stream (set per cloud stage from the stack outputs), retry policy.
    # `kabupaten` (BALAI_KABUPATEN) only restricts the schedules; unset, they walk every kabupaten
    # imported into the table (services.regions.served_kabupaten).
    table_stream_arn: str | None = None
    kabupaten: CommaList = ()
    outbox_max_attempts: Positive = 5
    outbox_backoff_seconds: Positive = 60
    # The issuing queue (SQS FIFO, one message group per village): its URL for sending, its ARN for the
    # handler's event source (set per cloud stage from the stack outputs), and an endpoint in local mode.
    issue_queue_url: str | None = None
    issue_queue_arn_value: str | None = Field(default=None, validation_alias="BALAI_ISSUE_QUEUE_ARN")
    sqs_endpoint: str | None = None
    # The web front end's public origin (QR codes of browsers land there; SMS texts point to it) and the
    # origins the API's CORS allows (default: the web base URL's origin only). Unset, the web base URL is
    # local mode's web server on BALAI_WEB_PORT.
    web_port: Annotated[int, Field(gt=0, lt=65536)] = 8080
    web_base_url: str = Field(default_factory=lambda data: f"http://127.0.0.1:{data.get('web_port', 8080)}")
    cors_origins: CommaList = Field(
        default_factory=lambda data: (origin_of(data["web_base_url"]),) if "web_base_url" in data else ())
    # Attachments: the largest file a citizen may upload, and how long an unused upload is kept.
    max_upload_bytes: Positive = 5 * 1024 * 1024
    upload_ttl_seconds: Positive = 86400
    # Days an attachment (KTP/KK photos: personal data) is kept, counted from its upload, once its request is
    # issued, rejected or cancelled (UU PDP 27/2022: no longer than needed). Must equal the bucket's lifecycle
    # rule (infra/balai.yaml AttachmentRetentionDays, passed here by infra/outputs_to_config.py).
    attachment_retention_days: Positive = 30
    # Messages (issue 14): price of one unit per channel (USD; an SMS part, an e-mail, a push), Web Push
    # ("local" file or "webpush"), the VAPID contact, and how long a citizen stays logged in.
    sms_price_usd: Annotated[float, Field(ge=0)] = 0.0416
    email_price_usd: Annotated[float, Field(ge=0)] = 0.0001
    push_price_usd: Annotated[float, Field(ge=0)] = 0.0
    push_channel: Literal["local", "webpush"] = "local"
    vapid_subject: str = "mailto:diskominfo@balai.local"
    refresh_ttl_days: Positive = 30
    # The one-time sign-in link in a status SMS (issued, needs revision): how long it works, and how many
    # unknown or spent links one client address may present per hour before it is refused (429).
    signin_link_ttl_hours: Positive = 72
    signin_link_fail_per_client_hour: Positive = 20
    # Days a finished outbox row (sent or failed) is kept before DynamoDB's TTL deletes it: the staff list of
    # a village's notifications and the resend of a failed one read rows; the village's message bill is kept
    # apart (BILL# items) and stays exact. A whole calendar month plus the days its bill is checked in.
    # Rows still pending (new, retrying, in quiet hours) or being sent never expire (docs/operations.md, 7).
    outbox_retention_days: Positive = 35
    # Days a message stays in a citizen's portal inbox (Kotak pesan) before DynamoDB's TTL deletes it: a status
    # message is news; the request itself, with its whole history, stays under "Permohonan saya".
    inbox_retention_days: Positive = 180
    # Complaints (issue 12): filings per citizen per local day, and the days a resolved one can be reopened.
    complaint_daily_limit: Positive = 5
    complaint_reopen_days: Positive = 5
    # Login by a WhatsApp message the citizen sends (reverse OTP, docs/security.md): the kabupaten's WhatsApp
    # Business numbers, "73.07=6281100000001" per kabupaten or a bare number for every kabupaten; unset (the
    # default), the feature is off. The webhook's app secret and verify token are secrets (AppSecrets). A
    # pending login lives `whatsapp_login_ttl_seconds`; a sender whose messages carry codes that prove nothing
    # is ignored past `whatsapp_unknown_per_sender_hour` such messages an hour.
    whatsapp_numbers: CommaList = ()
    whatsapp_login_ttl_seconds: Annotated[int, Field(ge=60, le=1800)] = 600
    whatsapp_unknown_per_sender_hour: Positive = 10

    # ---- validation: a wrong value fails here, at cold start, not at the first send ---------------------
    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if not _STAGE.fullmatch(value):
            raise ValueError("a stage name is lower-case letters, digits, '-' or '_' (e.g. local, test, prod)")
        return value

    @field_validator("aws_region", "sms_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not _AWS_REGION.fullmatch(value):
            raise ValueError(f"not an AWS region name: {value!r}")
        return value

    @field_validator("public_base_url", "web_base_url", "dynamodb_endpoint", "s3_endpoint", "sqs_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        origin_of(value)  # raises ValueError for anything but an http(s) URL with a host
        return value.strip().rstrip("/")

    @field_validator("table_stream_arn", "issue_queue_arn_value")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("arn:"):
            raise ValueError(f"not an ARN: {value!r}")
        return value

    @field_validator("letters_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and not _BUCKET.fullmatch(value):
            raise ValueError(f"not an S3 bucket name: {value!r}")
        return value

    @field_validator("email_sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("kabupaten", mode="before")
    @classmethod
    def _kabupaten(cls, value: Any) -> Any:
        codes = _split(value)
        for code in codes:
            if not _KABUPATEN.fullmatch(code):
                raise ValueError(f"not a kabupaten code (NN.NN): {code!r}")
        return codes

    @field_validator("whatsapp_numbers", mode="before")
    @classmethod
    def _whatsapp_numbers(cls, value: Any) -> Any:
        from chalicelib.domain.whatsapp_login import parse_numbers

        entries = _split(value)
        parse_numbers(entries)  # raises ValueError naming the bad entry
        return entries

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return tuple(origin_of(o) for o in _split(value))

    # ---- derived ------------------------------------------------------------------------------------------
    @property
    def issue_queue_arn(self) -> str:
        """The queue app.py's issuing handler reads; a placeholder locally, where a poller feeds it instead."""
        return self.issue_queue_arn_value or (
            f"arn:aws:sqs:{self.aws_region}:000000000000:{self.table_name}-issuing.fifo")

    @property
    def stream_arn(self) -> str:
        """The stream the outbox handler reads; a placeholder locally, where the poller feeds it instead."""
        return self.table_stream_arn or (
            f"arn:aws:dynamodb:{self.aws_region}:000000000000:table/{self.table_name}/stream/local")

    @property
    def is_stream_function(self) -> bool:
        """This container runs the table stream's handler (on_table_stream)."""
        return (self.lambda_function_name or "").endswith("-on_table_stream")

    @property
    def is_cloud(self) -> bool:
        return self.stage not in ("local", "test")

    @property
    def whatsapp_number_map(self) -> dict[str, str]:
        """{kabupaten or "*": WhatsApp Business number (E.164 digits)} from BALAI_WHATSAPP_NUMBERS."""
        from chalicelib.domain.whatsapp_login import parse_numbers

        return parse_numbers(self.whatsapp_numbers)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def _split(value: Any) -> tuple[str, ...]:
    """A comma-separated variable (or a list given in code) as a tuple of its non-empty, stripped parts."""
    parts = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(p).strip() for p in parts if str(p).strip())


def env_name(field: str) -> str:
    """The environment variable a settings field is read from (its alias, else BALAI_<FIELD>)."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        return " or ".join(str(c) for c in alias.choices)
    return f"BALAI_{field.upper()}"


def _env_of(loc: tuple[int | str, ...]) -> str:
    """Map a validation error's location (a field name or an alias, any case) to the variable's name."""
    key = str(loc[0]) if loc else ""
    for name in Settings.model_fields:
        names = {name.lower(), env_name(name).lower(), *(n.strip() for n in env_name(name).lower().split(" or "))}
        if key.lower() in names:
            return env_name(name)
    return key


def load_settings() -> Settings:
    """Build and validate the settings from the environment; a bad value raises ConfigurationError naming
    the variable (e.g. "BALAI_SMS_CHANNEL='pigeon': Input should be 'local' or 'sns'")."""
    try:
        return Settings()
    except ValidationError as exc:
        # A derived default (table name, web base URL, CORS origins) is not built once an earlier value is
        # wrong; report only the values that are wrong.
        problems = [f"{_env_of(err['loc'])}={err.get('input')!r}: {err['msg']}" for err in exc.errors()
                    if err["type"] != "default_factory_not_called"]
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, built once (at cold start: app.py reads them at import)."""
    return load_settings()


def origin_of(url: str) -> str:
    """The origin (scheme://host[:port], lower case, default ports dropped) of a URL, as browsers send it
    in the Origin header. Raises ValueError for anything that is not an http(s) URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class AppSecrets:
    """Keys the API signs and hashes with: JWT signing and the NIK lookup hash."""

    jwt_key: str
    nik_hash_key: str
    vapid_private_key: str | None = None  # Web Push (issue 14): written by `python -m chalicelib.ops vapid-keys`
    # WhatsApp login's webhook (docs/operations.md): the Meta app's secret (X-Hub-Signature-256) and the verify
    # token of the subscription handshake. Generated for local and test stages; set by the operator in the cloud.
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None


def _local_secrets(path: Path) -> dict[str, Any]:
    """Generate the local secrets file once; later runs reuse it so tokens and hashes stay valid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = dict(json.loads(path.read_text())) if path.exists() else {
        "jwt_key": secrets.token_urlsafe(48), "nik_hash_key": secrets.token_urlsafe(48)}
    # WhatsApp login's webhook secrets, added to an older file once, so local mode can sign sample deliveries.
    missing = {k: secrets.token_urlsafe(32) for k in ("whatsapp_app_secret", "whatsapp_verify_token")
               if k not in data}
    if path.exists() and not missing:
        return data
    data.update(missing)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return data


@lru_cache(maxsize=1)
def get_secrets() -> AppSecrets:
    """An SSM Parameter Store SecureString (JSON; its ARN in BALAI_SECRETS_ARN) in the cloud, a generated file
    locally. Read once per container and kept for its life (lru_cache: one KMS decrypt per cold start); a
    rotated jwt_key reaches warm functions when they are replaced (docs/operations.md, 4)."""
    settings = get_settings()
    if settings.secrets_arn:
        from aws_lambda_powertools.utilities import parameters

        data = parameters.get_parameter(settings.secrets_arn, decrypt=True, transform="json", max_age=300)
    else:
        data = _local_secrets(settings.data_dir / "secrets.json")
    return AppSecrets(
        jwt_key=str(data["jwt_key"]),
        nik_hash_key=str(data["nik_hash_key"]),
        vapid_private_key=data.get("vapid_private_key"),
        whatsapp_app_secret=data.get("whatsapp_app_secret") or None,
        whatsapp_verify_token=data.get("whatsapp_verify_token") or None,
    )


def reset_caches() -> None:
    """Tests change the environment between cases; this forgets what was parsed."""
    get_settings.cache_clear()
    get_secrets.cache_clear()
