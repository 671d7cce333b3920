"""SNS SMS and SES email adapters against moto: what the providers recorded, and errors they raise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from chalicelib.adapters.email import SesEmailSender, get_email_sender, reset_email_sender
from chalicelib.adapters.messaging import PermanentSendError
from chalicelib.adapters.sms import SnsSmsSender, get_sms_sender, reset_sms_sender
from chalicelib.config import Settings
from chalicelib.templates.messages import render_message

REGION = "ap-southeast-3"
SENDER = "noreply@balai.example.id"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Dummy credentials so nothing can ever reach a real account.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    reset_sms_sender()
    reset_email_sender()
    # The suite's conftest may already run a session-wide mock, and a nested mock_aws keeps its data:
    # tests therefore look only at what was recorded after this point.
    with mock_aws():
        _BASELINE["sns"] = set(_sns_backend().sms_messages)
        _BASELINE["ses"] = len(_ses_backend().sent_messages)
        yield
    reset_sms_sender()
    reset_email_sender()


@pytest.fixture
def cloud_settings(tmp_path: Path) -> Settings:
    return Settings(
        stage="prod", aws_region=REGION, data_dir=tmp_path, sms_channel="sns", email_channel="ses", email_sender=SENDER
    )


_BASELINE: dict[str, Any] = {}


def _sns_backend() -> Any:
    from moto.sns.models import sns_backends

    return sns_backends[DEFAULT_ACCOUNT_ID][REGION]


def _ses_backend() -> Any:
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION]


def sns_sms_messages() -> dict[str, tuple[str, str]]:
    """SMS that moto's SNS recorded during this test: {message id: (phone number, text)}."""
    return {k: v for k, v in _sns_backend().sms_messages.items() if k not in _BASELINE["sns"]}


def ses_sent_messages() -> list[Any]:
    """Emails that moto's SES recorded during this test."""
    return list(_ses_backend().sent_messages[_BASELINE["ses"] :])


def test_sms_through_sns_is_recorded_by_the_provider(aws: None, cloud_settings: Settings) -> None:
    # Given the SNS channel chosen by the stage's settings
    sender = get_sms_sender(cloud_settings)
    assert isinstance(sender, SnsSmsSender)
    text = render_message("otp", "sms", {"code": "483920", "minutes": 5}).text
    # When an OTP is sent
    provider_id = sender.send("+6281234567890", text, message_id="ob-1")
    # Then SNS recorded exactly that SMS under the returned id
    assert sns_sms_messages() == {provider_id: ("+6281234567890", text)}


def test_sns_publish_is_transactional(aws: None) -> None:
    import boto3

    client = boto3.client("sns", region_name=REGION)
    calls: list[dict[str, object]] = []
    client.meta.events.register("provide-client-params.sns.Publish", lambda params, **_: calls.append(params))
    SnsSmsSender(client, sender_id="BALAI").send("+6281234567890", "halo", message_id="ob-1")
    attributes = calls[0]["MessageAttributes"]
    assert attributes == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "BALAI"},
    }


def test_email_through_ses_is_recorded_by_the_provider(aws: None, cloud_settings: Settings) -> None:
    import boto3

    # Given a verified sender identity and the SES channel
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
    sender = get_email_sender(cloud_settings)
    assert isinstance(sender, SesEmailSender)
    message = render_message(
        "issued",
        "email",
        {"tracking_code": "SJ7-K2P9", "letter_name": "Surat Keterangan Domisili", "download_url": "https://x.id/d/1"},
    )
    assert message.subject is not None
    # When the email is sent
    provider_id = sender.send("warga@example.id", message.subject, message.text, message.html, message_id="ob-7")
    # Then SES recorded it from the sender to the citizen (moto keeps the HTML body when there is one)
    (sent,) = ses_sent_messages()
    assert sent.id == provider_id
    assert sent.source == SENDER
    assert sent.destinations == {"ToAddresses": ["warga@example.id"]}
    assert sent.subject == "Surat terbit: Surat Keterangan Domisili (SJ7-K2P9)"
    assert '<a href="https://x.id/d/1">' in sent.body


def test_text_only_email_is_sent_as_text(aws: None) -> None:
    import boto3

    client = boto3.client("ses", region_name=REGION)
    client.verify_email_identity(EmailAddress=SENDER)
    SesEmailSender(client, SENDER).send("kades@desa.id", "Tes", "Halo, Pak Kades.", None, message_id="ob-8")
    (sent,) = ses_sent_messages()
    assert sent.body == "Halo, Pak Kades."


def test_unverified_sender_is_a_permanent_error(aws: None) -> None:
    import boto3

    # Given a sender identity SES has not verified
    sender = SesEmailSender(boto3.client("ses", region_name=REGION), "tidak-terverifikasi@balai.example.id")
    # When an email is sent
    with pytest.raises(PermanentSendError) as info:
        sender.send("warga@example.id", "Tes", "Halo", None, message_id="ob-1")
    # Then SES's rejection is permanent: retrying cannot help until someone verifies the identity
    assert info.value.provider_code == "MessageRejected"
    assert ses_sent_messages() == []
