"""Local mode's issuing queue: an SQS FIFO queue on the local moto server and a poller feeding app.py's
`issue_letters` logic, the way Lambda's SQS event source would (batches of up to 10, one village in order).

Kept apart from the stream poller on purpose: it has its own queue, its own thread and its own failure rules.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any]], Any]
MAX_RECEIVES = 5  # as infra/balai.yaml's RedrivePolicy: then the dead-letter queue
RETRY_AFTER_S = 2  # a failed batch is visible again after this (the cloud waits its visibility timeout)


def sqs_client(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client("sqs", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="local", aws_secret_access_key="local")


def create_queues(sqs: Any, table: str) -> tuple[str, str]:
    """The FIFO queue and its dead-letter queue, as the cloud stack defines them; (queue URL, DLQ URL)."""
    dlq_url = sqs.create_queue(QueueName=f"{table}-issuing-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=f"{table}-issuing.fifo", Attributes={
        "FifoQueue": "true", "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
    })["QueueUrl"]
    return url, dlq_url


def _lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": {}, "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn, "md5OfBody": message.get("MD5OfBody", "")}


@dataclass
class IssuingQueuePoller:
    """Long-polls the queue (1 s) and hands each batch to `handler`; deletes it when the handler returns,
    makes it visible again after RETRY_AFTER_S when it raises (SQS moves it to the DLQ after MAX_RECEIVES)."""

    sqs: Any
    queue_url: str
    handler: Handler
    batches: int = 0
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> IssuingQueuePoller:
        self._arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                  AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._thread = threading.Thread(target=self._run, name="balai-issuing-queue", daemon=True)
        self._thread.start()
        return self

    def poll_once(self, wait_seconds: int = 1) -> int:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=wait_seconds, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        try:
            self.handler({"Records": [_lambda_record(m, self._arn) for m in messages]})
        except Exception:
            from chalicelib.observability import logger

            self.failures += 1
            logger.exception("local issuing batch failed; retried shortly", extra={"messages": len(messages)})
            for m in messages:
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"],
                                                   VisibilityTimeout=RETRY_AFTER_S)
            return 0
        for m in messages:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        self.batches += 1
        return len(messages)

    def _run(self) -> None:
        from chalicelib.observability import logger

        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the server stopping or restarting: look again shortly
                logger.exception("local issuing queue poll failed")
                self._stop.wait(2)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def requeue_issuing() -> int:
    """Queue again every request left `issuing` (local mode keeps its table across restarts, not its queue).
    One Query per active village of the imported kabupaten: a start-up step, never on a request path."""
    from chalicelib.services import issuing
    from chalicelib.services.regions import served_kabupaten
    from chalicelib.storage import requests as requests_repo
    from chalicelib.workers.digest import active_villages

    count = 0
    for kabupaten in served_kabupaten():
        for village in active_villages(kabupaten):
            cursor = None
            while True:
                items, cursor = requests_repo.list_village(village.code, "issuing", 100, cursor)
                for request in items:
                    issuing.enqueue(request)
                    count += 1
                if not cursor:
                    break
    return count


def start_issuing_queue(endpoint: str, region: str, table: str) -> tuple[IssuingQueuePoller, dict[str, str]]:
    """Create the queues on the local server, start the poller; returns it and the environment the API needs."""
    from chalicelib.workers import issuing

    sqs = sqs_client(endpoint, region)
    url, _ = create_queues(sqs, table)
    env = {"BALAI_ISSUE_QUEUE_URL": url, "BALAI_SQS_ENDPOINT": endpoint}
    return IssuingQueuePoller(sqs, url, lambda event: issuing.handle_sqs_event(event)).start(), env
