"""Local file SMS/email adapters, the settings-driven factories, botocore error translation and the fakes."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from chalicelib.adapters.email import LocalFileEmailSender, get_email_sender, reset_email_sender
from chalicelib.adapters.messaging import (
    PermanentSendError,
    SendError,
    TransientSendError,
    translate_boto_error,
)
from chalicelib.adapters.sms import LocalFileSmsSender, SnsSmsSender, get_sms_sender, reset_sms_sender
from chalicelib.config import Settings
from tests.fakes import RecordingEmailSender, RecordingSmsSender


def client_error(code: str, status: int = 400, operation: str = "Publish") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "boom"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class TestLocalFileSenders:
    def test_sms_is_appended_as_one_json_line(self, tmp_path: Path) -> None:
        # Given a local SMS sender writing into a directory that does not exist yet
        path = tmp_path / "outbox" / "sms.jsonl"
        sender = LocalFileSmsSender(path)
        # When two messages are sent
        first = sender.send("+6281234567890", "Kode verifikasi Balai: 123456.", message_id="ob-1")
        sender.send("+6285298765432", "Balai: Permohonan baru.", message_id="ob-2")
        # Then the file holds both, in order, with the outbox id and a UTC timestamp
        records = read_jsonl(path)
        assert [r["message_id"] for r in records] == ["ob-1", "ob-2"]
        assert records[0]["to"] == "+6281234567890"
        assert records[0]["text"] == "Kode verifikasi Balai: 123456."
        assert records[0]["sent_at"].startswith("20") and records[0]["sent_at"].endswith("+00:00")
        assert first == "local-ob-1"

    def test_email_keeps_subject_text_and_html_unicode_intact(self, tmp_path: Path) -> None:
        path = tmp_path / "email.jsonl"
        LocalFileEmailSender(path).send(
            "kades@desa.id", "Surat menunggu", "Teks “asli”…", "<p>Teks</p>", message_id="ob-9"
        )
        (record,) = read_jsonl(path)
        assert record == record | {
            "message_id": "ob-9",
            "to": "kades@desa.id",
            "subject": "Surat menunggu",
            "text": "Teks “asli”…",
            "html": "<p>Teks</p>",
        }

    def test_concurrent_sends_never_interleave_lines(self, tmp_path: Path) -> None:
        # Given many threads sending at once (the stream worker may send in parallel)
        path = tmp_path / "sms.jsonl"
        sender = LocalFileSmsSender(path)
        long_text = "x" * 5000

        def send_many(worker: int) -> None:
            for i in range(50):
                sender.send("+6281234567890", long_text, message_id=f"{worker}-{i}")

        threads = [threading.Thread(target=send_many, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then every line is a whole JSON object
        records = read_jsonl(path)
        assert len(records) == 400
        assert len({r["message_id"] for r in records}) == 400

    def test_an_unwritable_outbox_is_a_transient_error(self, tmp_path: Path) -> None:
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("")
        with pytest.raises(TransientSendError):
            LocalFileSmsSender(blocker / "sms.jsonl").send("+6281234567890", "x", message_id="ob-1")


class TestFactories:
    def setup_method(self) -> None:
        reset_sms_sender()
        reset_email_sender()

    def teardown_method(self) -> None:
        reset_sms_sender()
        reset_email_sender()

    def test_local_channels_write_under_the_data_dir(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path, sms_channel="local", email_channel="local")
        sms = get_sms_sender(settings)
        email = get_email_sender(settings)
        assert isinstance(sms, LocalFileSmsSender) and sms.path == tmp_path / "outbox" / "sms.jsonl"
        assert isinstance(email, LocalFileEmailSender) and email.path == tmp_path / "outbox" / "email.jsonl"

    def test_senders_are_built_once_per_settings(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        assert get_sms_sender(settings) is get_sms_sender(settings)
        assert get_email_sender(settings) is get_email_sender(settings)

    def test_the_sms_region_is_configuration(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from chalicelib.config import get_settings

        monkeypatch.setenv("AWS_REGION", "ap-southeast-3")
        monkeypatch.setenv("BALAI_SMS_CHANNEL", "sns")
        monkeypatch.setenv("BALAI_SMS_REGION", "ap-southeast-1")
        get_settings.cache_clear()
        try:
            settings = get_settings()
            assert settings.sms_region == "ap-southeast-1"
            sms = get_sms_sender(settings)
            assert isinstance(sms, SnsSmsSender)
            assert sms._client.meta.region_name == "ap-southeast-1"
            # Unset: the functions' own region
            unset = get_sms_sender(settings.model_copy(update={"sms_region": None}))
            assert unset._client.meta.region_name == "ap-southeast-3"  # type: ignore[attr-defined]
        finally:
            get_settings.cache_clear()

    def test_unknown_channel_is_a_configuration_error(self, tmp_path: Path) -> None:
        # The settings refuse it when they are built (cold start) ...
        with pytest.raises(ValueError):
            Settings(data_dir=tmp_path, sms_channel="pigeon")
        with pytest.raises(ValueError):
            Settings(data_dir=tmp_path, email_channel="fax")
        # ... and a factory handed unvalidated settings still refuses to guess.
        settings = Settings(data_dir=tmp_path)
        with pytest.raises(ValueError):
            get_sms_sender(settings.model_copy(update={"sms_channel": "pigeon"}))
        with pytest.raises(ValueError):
            get_email_sender(settings.model_copy(update={"email_channel": "fax"}))

    def test_importing_the_adapters_does_not_import_boto3(self) -> None:
        import subprocess
        import sys

        code = (
            "import sys, chalicelib.adapters.sms, chalicelib.adapters.email;"
            "print('boto3' in sys.modules, 'botocore' in sys.modules)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["False", "False"]


class TestErrorTranslation:
    @pytest.mark.parametrize(
        ("code", "status"),
        [
            ("Throttling", 400),
            ("ThrottlingException", 400),
            ("TooManyRequestsException", 429),
            ("InternalError", 500),
            ("ServiceUnavailable", 503),
            ("SomethingNew", 502),
        ],
    )
    def test_throttling_and_server_errors_are_transient(self, code: str, status: int) -> None:
        error = translate_boto_error(client_error(code, status), "SNS Publish")
        assert isinstance(error, TransientSendError) and error.retryable
        assert error.provider_code == code

    @pytest.mark.parametrize(
        "code", ["InvalidParameter", "InvalidParameterValue", "OptedOut", "MessageRejected", "AuthorizationError"]
    )
    def test_request_errors_are_permanent(self, code: str) -> None:
        error = translate_boto_error(client_error(code, 400), "SES SendEmail")
        assert isinstance(error, PermanentSendError) and not error.retryable
        assert isinstance(error, SendError)

    @pytest.mark.parametrize(
        "exc",
        [
            EndpointConnectionError(endpoint_url="https://sns.example"),
            ConnectTimeoutError(endpoint_url="https://sns.example"),
            ReadTimeoutError(endpoint_url="https://sns.example"),
            NoCredentialsError(),
        ],
    )
    def test_network_failures_are_transient(self, exc: Exception) -> None:
        assert isinstance(translate_boto_error(exc, "SNS Publish"), TransientSendError)

    def test_invalid_parameters_caught_client_side_are_permanent(self) -> None:
        error = translate_boto_error(ParamValidationError(report="bad"), "SNS Publish")
        assert isinstance(error, PermanentSendError)

    def test_the_sender_raises_the_translation_from_the_original(self) -> None:
        # Given an SNS client that is being throttled
        class ThrottledClient:
            def publish(self, **kwargs: Any) -> dict[str, Any]:
                raise client_error("Throttling", 400)

        # When an SMS is sent
        with pytest.raises(TransientSendError) as info:
            SnsSmsSender(ThrottledClient()).send("+6281234567890", "x", message_id="ob-1")
        # Then the original error is kept as the cause and the phone number is not in the message
        assert isinstance(info.value.__cause__, ClientError)
        assert "81234567890" not in str(info.value)

    def test_the_sender_is_stubbable_with_botocore_stubber(self) -> None:
        import boto3
        from botocore.stub import Stubber

        client = boto3.client("sns", region_name="ap-southeast-3", aws_access_key_id="x", aws_secret_access_key="x")
        with Stubber(client) as stub:
            stub.add_client_error("publish", service_error_code="InvalidParameter", http_status_code=400)
            stub.add_client_error("publish", service_error_code="InternalError", http_status_code=500)
            stub.add_response("publish", {"MessageId": "sns-123"})
            sender = SnsSmsSender(client)
            with pytest.raises(PermanentSendError):
                sender.send("+6281234567890", "x", message_id="ob-1")
            with pytest.raises(TransientSendError):
                sender.send("+6281234567890", "x", message_id="ob-1")
            assert sender.send("+6281234567890", "x", message_id="ob-1") == "sns-123"


class TestRecordingFakes:
    def test_sms_fake_fails_n_times_then_records(self) -> None:
        fake = RecordingSmsSender(fail_times=2)
        for _ in range(2):
            with pytest.raises(TransientSendError):
                fake.send("+6281234567890", "halo", message_id="ob-1")
        assert fake.send("+6281234567890", "halo", message_id="ob-1") == "fake-sms-1"
        assert fake.attempts == 3
        assert fake.texts_to("+6281234567890") == ["halo"]

    def test_email_fake_can_fail_always_and_permanently(self) -> None:
        fake = RecordingEmailSender(fail_always=True, error=PermanentSendError)
        with pytest.raises(PermanentSendError):
            fake.send("a@b.id", "s", "t", None, message_id="ob-1")
        assert fake.sent == []
