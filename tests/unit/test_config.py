"""Settings: read from BALAI_* variables once, validated at load with an error that names the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.config import ConfigurationError, Settings, env_name, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean slate: none of the suite's BALAI_* values leak into these cases."""
    import os

    for name in list(os.environ):
        if name.startswith(("BALAI_", "AWS_REGION", "AWS_DEFAULT_REGION", "POWERTOOLS_LOG_LEVEL")):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("variable", "value", "why"),
    [
        ("BALAI_SMS_CHANNEL", "pigeon", "Input should be 'local' or 'sns'"),
        ("BALAI_EMAIL_CHANNEL", "fax", "Input should be 'local' or 'ses'"),
        ("BALAI_PUSH_CHANNEL", "pager", "Input should be 'local' or 'webpush'"),
        ("BALAI_SMS_PRICE_USD", "-0.04", "greater than or equal to 0"),
        ("BALAI_REFRESH_TTL_DAYS", "0", "greater than 0"),
        ("BALAI_PUBLIC_BASE_URL", "ftp://balai.example", "not an http(s) URL"),
        ("BALAI_WEB_BASE_URL", "balai.example", "not an http(s) URL"),
        ("BALAI_CORS_ORIGINS", "https://ok.example,javascript:alert(1)", "not an http(s) URL"),
        ("BALAI_DYNAMODB_ENDPOINT", "localhost:8001", "not an http(s) URL"),
        ("BALAI_OTP_TTL_SECONDS", "-300", "greater than 0"),
        ("BALAI_MAX_UPLOAD_BYTES", "0", "greater than 0"),
        ("BALAI_LOGIN_MAX_DELAY_SECONDS", "-1", "greater than or equal to 0"),
        ("BALAI_OTP_PER_PHONE_DAY", "ten", "valid integer"),
        ("BALAI_OTP_PER_PHONE_DAY", "１０", "valid integer"),  # full-width digits are not a number here
        ("BALAI_KABUPATEN", "73.07,Sinjai", "not a kabupaten code"),
        ("BALAI_STAGE", "Prod Stage", "stage name"),
        ("BALAI_TABLE_STREAM_ARN", "balai-prod/stream", "not an ARN"),
        ("BALAI_ISSUE_QUEUE_ARN", "https://sqs.example/q", "not an ARN"),
        ("BALAI_LETTERS_BUCKET", "Letters_Bucket", "not an S3 bucket name"),
        ("BALAI_EMAIL_SENDER", "noreply", "not an e-mail address"),
        ("BALAI_WEB_PORT", "70000", "less than 65536"),
        ("AWS_REGION", "jakarta", "not an AWS region name"),
        ("POWERTOOLS_LOG_LEVEL", "LOUD", "Input should be"),
    ],
)
def test_an_invalid_setting_fails_at_load_naming_the_variable(
    env: pytest.MonkeyPatch, variable: str, value: str, why: str
) -> None:
    # Given one wrong value in the environment
    env.setenv(variable, value)
    # When the settings are loaded
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    # Then the error names the variable, the value and what is wrong with it
    message = str(raised.value)
    assert variable in message and repr(value) in message and why in message
    # and nothing else is blamed (derived defaults are not reported as errors of their own)
    assert message.count("=") == 1 + value.count("=")


def test_every_default_applies_when_nothing_is_set(env: pytest.MonkeyPatch) -> None:
    # Given an empty environment (and an empty variable, which counts as unset)
    env.setenv("BALAI_SMS_CHANNEL", "")
    # When loaded
    settings = load_settings()
    # Then the documented defaults apply, derived ones from the values they derive from
    assert settings.stage == "local" and settings.table_name == "balai-local"
    assert settings.sms_channel == "local" and settings.email_channel == "local"
    assert settings.aws_region == "ap-southeast-3"
    assert settings.web_base_url == "http://127.0.0.1:8080"
    assert settings.cors_origins == ("http://127.0.0.1:8080",)
    assert settings.kabupaten == () and settings.token_ttl_seconds == 1800 and settings.log_level == "INFO"


def test_derived_values_follow_what_they_derive_from(env: pytest.MonkeyPatch) -> None:
    # Given a stage, a web port, lists written with spaces and a lower-case log level
    env.setenv("BALAI_STAGE", "prod")
    env.setenv("BALAI_WEB_PORT", "9090")
    env.setenv("BALAI_KABUPATEN", " 73.07 , 35.09,")
    env.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    env.setenv("POWERTOOLS_LOG_LEVEL", "debug")
    env.setenv("BALAI_PUBLIC_BASE_URL", "https://api.balai.example/api/")
    # When loaded
    settings = load_settings()
    # Then
    assert settings.table_name == "balai-prod" and settings.is_cloud
    assert settings.web_base_url == "http://127.0.0.1:9090"
    assert settings.cors_origins == ("http://127.0.0.1:9090",)
    assert settings.kabupaten == ("73.07", "35.09")
    assert settings.aws_region == "ap-southeast-1" and settings.log_level == "DEBUG"
    assert settings.public_base_url == "https://api.balai.example/api"


def test_explicit_values_win_over_derived_ones(env: pytest.MonkeyPatch) -> None:
    env.setenv("BALAI_STAGE", "prod")
    env.setenv("BALAI_TABLE", "balai-sinjai")
    env.setenv("BALAI_WEB_BASE_URL", "https://balai.sinjaikab.example/")
    env.setenv("BALAI_CORS_ORIGINS", "https://balai.sinjaikab.example,HTTPS://Admin.Example:443")
    settings = load_settings()
    assert settings.table_name == "balai-sinjai"
    assert settings.web_base_url == "https://balai.sinjaikab.example"
    assert settings.cors_origins == ("https://balai.sinjaikab.example", "https://admin.example")


def test_settings_are_frozen_and_hashable(env: pytest.MonkeyPatch) -> None:
    # Adapters are cached per settings object, so settings must be immutable and hashable.
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.stage = "prod"  # type: ignore[misc]
    assert hash(settings) == hash(load_settings())


def test_env_names_of_fields() -> None:
    assert env_name("table_name") == "BALAI_TABLE"
    assert env_name("sms_channel") == "BALAI_SMS_CHANNEL"
    assert env_name("issue_queue_arn_value") == "BALAI_ISSUE_QUEUE_ARN"
    assert env_name("log_level") == "POWERTOOLS_LOG_LEVEL"
    assert Settings(table_name="t").table_name == "t"


def test_a_bad_setting_stops_the_app_at_cold_start() -> None:
    # Given a deployment whose SMS channel is misspelt, when the app is imported (a Lambda cold start),
    # then the import fails with the variable named, instead of a 500 at the first login code.
    result = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "BALAI_STAGE": "prod", "BALAI_SMS_CHANNEL": "sms",
             "AWS_REGION": "ap-southeast-3"},
    )
    assert result.returncode != 0
    assert "ConfigurationError" in result.stderr and "BALAI_SMS_CHANNEL='sms'" in result.stderr
