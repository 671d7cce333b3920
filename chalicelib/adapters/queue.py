"""The issuing queue behind one Protocol: an Amazon SQS FIFO queue (moto's server in local mode)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from chalicelib.errors import ExternalServiceError


class IssueQueue(Protocol):
    def send(self, *, group: str, dedup_id: str, body: dict[str, Any]) -> None:
        """Queue one message; messages of one `group` are delivered one after another, in order, and a
        message with a `dedup_id` already sent in the last 5 minutes is dropped. Raises ExternalServiceError."""
        ...


class SqsIssueQueue:
    """SQS FIFO: MessageGroupId = the village (one village's letters in order, villages in parallel)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, *, group: str, dedup_id: str, body: dict[str, Any]) -> None:
        try:
            self._client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body, separators=(",", ":")),
                                      MessageGroupId=group, MessageDeduplicationId=dedup_id)
        except Exception as exc:  # botocore's ClientError and BotoCoreError subclasses
            raise ExternalServiceError(
                "Keputusan penerbitan tercatat, tetapi antrean penerbitan surat tidak dapat dihubungi. "
                "Silakan tekan terbitkan sekali lagi.", code="issue_queue_unavailable") from exc
