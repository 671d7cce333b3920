"""Settings parsed from the environment once; the only reader of os.environ."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read from BALAI_* environment variables.

    stage: "local" (embedded moto server, file adapters), "test" (moto in-process) or "prod".
    """

    stage: str = "local"
    table_name: str = "balai-local"
    aws_region: str = "ap-southeast-3"
    dynamodb_endpoint: str | None = None
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / ".balai")
    secrets_arn: str | None = None
    token_ttl_seconds: int = 1800
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    # Abuse limits (issue 8): wrong OTP guesses per NIK across codes, then a lock for the rest of the
    # window; codes sent per phone and per client address per hour and per day; staff password tries.
    otp_fail_limit: int = 10
    otp_fail_window_seconds: int = 24 * 3600
    otp_per_phone_hour: int = 5
    otp_per_phone_day: int = 10
    otp_per_client_hour: int = 30
    otp_per_client_day: int = 200
    login_free_attempts_user: int = 5
    login_free_attempts_client: int = 20
    login_max_delay_seconds: int = 900
    sms_channel: str = "local"
    # The region SNS sends SMS from (BALAI_SMS_REGION): SMS to Indonesia may not be offered in the
    # functions' region; unset, the functions' own region.
    sms_region: str | None = None
    email_channel: str = "local"
    public_base_url: str = "http://127.0.0.1:8000"
    letters_bucket: str | None = None
    # Secrets Manager secret holding the kabupaten's Ed25519 letter keyring (local: data_dir file).
    letter_keys_arn: str | None = None
    s3_endpoint: str | None = None
    email_sender: str = "noreply@balai.local"
    log_level: str = "INFO"
    # Notifications: the table's stream (set per cloud stage from the stack outputs), retry policy.
    # `kabupaten` (BALAI_KABUPATEN) only restricts the schedules; unset, they walk every kabupaten
    # imported into the table (services.regions.served_kabupaten).
    table_stream_arn: str | None = None
    kabupaten: tuple[str, ...] = ()
    outbox_max_attempts: int = 5
    outbox_backoff_seconds: int = 60
    # The issuing queue (SQS FIFO, one message group per village): its URL for sending, its ARN for the
    # handler's event source (set per cloud stage from the stack outputs), and an endpoint in local mode.
    issue_queue_url: str | None = None
    issue_queue_arn_value: str | None = None
    sqs_endpoint: str | None = None

    @property
    def issue_queue_arn(self) -> str:
        """The queue app.py's issuing handler reads; a placeholder locally, where a poller feeds it instead."""
        return self.issue_queue_arn_value or (
            f"arn:aws:sqs:{self.aws_region}:000000000000:{self.table_name}-issuing.fifo")
    # The web front end's public origin (QR codes of browsers land there; SMS texts point to it) and the
    # origins the API's CORS allows (default: the web base URL's origin only).
    web_base_url: str = "http://127.0.0.1:8080"
    cors_origins: tuple[str, ...] = ("http://127.0.0.1:8080",)
    # Attachments: the largest file a citizen may upload, and how long an unused upload is kept.
    max_upload_bytes: int = 5 * 1024 * 1024
    upload_ttl_seconds: int = 86400
    # Complaints (issue 12): filings per citizen per local day, and the days a resolved one can be reopened.
    complaint_daily_limit: int = 5
    complaint_reopen_days: int = 5

    @property
    def stream_arn(self) -> str:
        """The stream the outbox handler reads; a placeholder locally, where the poller feeds it instead."""
        return self.table_stream_arn or (
            f"arn:aws:dynamodb:{self.aws_region}:000000000000:table/{self.table_name}/stream/local")

    @property
    def is_cloud(self) -> bool:
        return self.stage not in ("local", "test")

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = _env("BALAI_STAGE", "local") or "local"
    data_dir = Path(_env("BALAI_DATA_DIR", str(PROJECT_ROOT / ".balai")) or ".balai")
    web_base_url = (_env("BALAI_WEB_BASE_URL")
                    or f"http://127.0.0.1:{_env('BALAI_WEB_PORT', '8080')}").rstrip("/")
    return Settings(
        stage=stage,
        table_name=_env("BALAI_TABLE", f"balai-{stage}") or f"balai-{stage}",
        aws_region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "ap-southeast-3")) or "ap-southeast-3",
        dynamodb_endpoint=_env("BALAI_DYNAMODB_ENDPOINT"),
        data_dir=data_dir,
        secrets_arn=_env("BALAI_SECRETS_ARN"),
        token_ttl_seconds=int(_env("BALAI_TOKEN_TTL_SECONDS", "1800") or 1800),
        otp_ttl_seconds=int(_env("BALAI_OTP_TTL_SECONDS", "300") or 300),
        otp_max_attempts=int(_env("BALAI_OTP_MAX_ATTEMPTS", "5") or 5),
        otp_fail_limit=int(_env("BALAI_OTP_FAIL_LIMIT", "10") or 10),
        otp_fail_window_seconds=int(_env("BALAI_OTP_FAIL_WINDOW_SECONDS", "86400") or 86400),
        otp_per_phone_hour=int(_env("BALAI_OTP_PER_PHONE_HOUR", "5") or 5),
        otp_per_phone_day=int(_env("BALAI_OTP_PER_PHONE_DAY", "10") or 10),
        otp_per_client_hour=int(_env("BALAI_OTP_PER_CLIENT_HOUR", "30") or 30),
        otp_per_client_day=int(_env("BALAI_OTP_PER_CLIENT_DAY", "200") or 200),
        login_free_attempts_user=int(_env("BALAI_LOGIN_FREE_ATTEMPTS_USER", "5") or 5),
        login_free_attempts_client=int(_env("BALAI_LOGIN_FREE_ATTEMPTS_CLIENT", "20") or 20),
        login_max_delay_seconds=int(_env("BALAI_LOGIN_MAX_DELAY_SECONDS", "900") or 900),
        sms_channel=_env("BALAI_SMS_CHANNEL", "local") or "local",
        sms_region=_env("BALAI_SMS_REGION"),
        email_channel=_env("BALAI_EMAIL_CHANNEL", "local") or "local",
        public_base_url=(_env("BALAI_PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
        letters_bucket=_env("BALAI_LETTERS_BUCKET"),
        letter_keys_arn=_env("BALAI_LETTER_KEYS_ARN"),
        s3_endpoint=_env("BALAI_S3_ENDPOINT"),
        email_sender=_env("BALAI_EMAIL_SENDER", "noreply@balai.local") or "noreply@balai.local",
        log_level=_env("POWERTOOLS_LOG_LEVEL", "INFO") or "INFO",
        table_stream_arn=_env("BALAI_TABLE_STREAM_ARN"),
        kabupaten=tuple(k.strip() for k in (_env("BALAI_KABUPATEN", "") or "").split(",") if k.strip()),
        outbox_max_attempts=int(_env("BALAI_OUTBOX_MAX_ATTEMPTS", "5") or 5),
        outbox_backoff_seconds=int(_env("BALAI_OUTBOX_BACKOFF_SECONDS", "60") or 60),
        issue_queue_url=_env("BALAI_ISSUE_QUEUE_URL"),
        issue_queue_arn_value=_env("BALAI_ISSUE_QUEUE_ARN"),
        sqs_endpoint=_env("BALAI_SQS_ENDPOINT"),
        web_base_url=web_base_url,
        cors_origins=tuple(origin_of(o) for o in (_env("BALAI_CORS_ORIGINS", "") or "").split(",") if o.strip())
        or (origin_of(web_base_url),),
        max_upload_bytes=int(_env("BALAI_MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)) or 5 * 1024 * 1024),
        upload_ttl_seconds=int(_env("BALAI_UPLOAD_TTL_SECONDS", "86400") or 86400),
        complaint_daily_limit=int(_env("BALAI_COMPLAINT_DAILY_LIMIT", "5") or 5),
        complaint_reopen_days=int(_env("BALAI_COMPLAINT_REOPEN_DAYS", "5") or 5),
    )


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
    letter_signing_key: str | None = None


def _local_secrets(path: Path) -> dict[str, Any]:
    """Generate the local secrets file once; later runs reuse it so tokens and hashes stay valid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return dict(json.loads(path.read_text()))
    data = {"jwt_key": secrets.token_urlsafe(48), "nik_hash_key": secrets.token_urlsafe(48)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return data


@lru_cache(maxsize=1)
def get_secrets() -> AppSecrets:
    """Secrets Manager in the cloud (cached by Powertools parameters), a generated file locally."""
    settings = get_settings()
    if settings.secrets_arn:
        from aws_lambda_powertools.utilities import parameters

        data = parameters.get_secret(settings.secrets_arn, transform="json", max_age=300)
    else:
        data = _local_secrets(settings.data_dir / "secrets.json")
    return AppSecrets(
        jwt_key=str(data["jwt_key"]),
        nik_hash_key=str(data["nik_hash_key"]),
        letter_signing_key=data.get("letter_signing_key"),
    )


def reset_caches() -> None:
    """Tests change the environment between cases; this forgets what was parsed."""
    get_settings.cache_clear()
    get_secrets.cache_clear()
