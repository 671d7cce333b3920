"""Fakes for outside services that record what they were asked to send (prefer fakes over mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.adapters.messaging import PermanentSendError, SendError, TransientSendError


@dataclass(frozen=True)
class SentSms:
    message_id: str
    to: str
    text: str


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    to: str
    subject: str
    text: str
    html: str | None


@dataclass
class _Failing:
    """Fail the first `fail_times` calls (or every call with `fail_always`) with `error`."""

    fail_times: int = 0
    fail_always: bool = False
    error: type[SendError] = TransientSendError
    attempts: int = 0

    def _maybe_fail(self) -> None:
        self.attempts += 1
        if self.fail_always or self.attempts <= self.fail_times:
            raise self.error(f"fake failure {self.attempts}", provider_code="FakeFailure")


@dataclass
class RecordingSmsSender(_Failing):
    sent: list[SentSms] = field(default_factory=list)

    def send(self, phone_e164: str, text: str, *, message_id: str) -> str:
        self._maybe_fail()
        self.sent.append(SentSms(message_id, phone_e164, text))
        return f"fake-sms-{len(self.sent)}"

    def texts_to(self, phone_e164: str) -> list[str]:
        return [m.text for m in self.sent if m.to == phone_e164]


@dataclass
class RecordingEmailSender(_Failing):
    sent: list[SentEmail] = field(default_factory=list)

    def send(self, to: str, subject: str, text: str, html: str | None, *, message_id: str) -> str:
        self._maybe_fail()
        self.sent.append(SentEmail(message_id, to, subject, text, html))
        return f"fake-email-{len(self.sent)}"

    def subjects_to(self, to: str) -> list[str]:
        return [m.subject for m in self.sent if m.to == to]


__all__ = [
    "PermanentSendError",
    "RecordingEmailSender",
    "RecordingSmsSender",
    "SentEmail",
    "SentSms",
    "TransientSendError",
]
