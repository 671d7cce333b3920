"""The one Logger, Metrics and Tracer, and the middleware that gives every handler its Lambda context and
flushes its metrics once per invocation; logs never carry a full NIK or phone number."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "balai"
# A NIK or phone is a run of ASCII digits standing alone: not the fraction or integer part of a
# number ("store_ms": 4.0000000000005535 is a float, not a NIK), not part of a longer digit run.
_NIK = re.compile(r"(?<![0-9.])[0-9]{12}([0-9]{4})(?![0-9]|\.[0-9])")
_PHONE = re.compile(r"(?<![0-9.])(\+?62|0)(8[0-9]{2,})([0-9]{4})(?![0-9]|\.[0-9])")


def redact(text: str) -> str:
    """Mask anything that looks like a NIK (16 digits) or an Indonesian mobile number."""
    text = _NIK.sub(lambda m: "************" + m.group(1), text)
    return _PHONE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Redacts the final JSON line, so extra keys and exception text are covered too."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())


@lru_cache(maxsize=1)
def metrics() -> Any:
    """Powertools Metrics (EMF); built on first use to keep it off the cold-start path."""
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Balai", service=SERVICE)


def count_metric(name: str, value: int = 1) -> None:
    """Add one count (EMF, namespace Balai, dimension service); alarms watch these. The handler's middleware
    (`install`) flushes what an invocation added when it ends, as one EMF line."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Write the metrics added since the last flush as one EMF line; nothing (and no warning) when there are
    none. Called at the end of every invocation (see `install`) and by local mode after each job it runs."""
    if metrics.cache_info().currsize and metrics().metric_set:
        metrics().flush_metrics()


@lru_cache(maxsize=1)
def tracer() -> Any:
    """Powertools Tracer. Building it loads the X-Ray SDK and patches botocore, so every AWS call made after it
    (SNS, SES, S3, SQS, DynamoDB) is a subsegment of the invocation's trace; `aws_client` builds it before the
    first outbound client, which keeps the SDK off the import path. Tracing off (POWERTOOLS_TRACE_DISABLED, as
    in tests and local mode): nothing is patched."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def aws_client(service: str, **kwargs: Any) -> Any:
    """A boto3 client for an outbound call (SNS, SES, S3, SQS) whose calls are traced (see `tracer`)."""
    tracer()
    import boto3

    return boto3.client(service, **kwargs)


def install(app: Any) -> None:
    """Give every handler of the Chalice app (API, stream, SQS, schedules) Powertools' Lambda context in its log
    lines (function name, request id, cold start; the API's correlation id too) and flush its metrics once per
    invocation, whether it returns or raises."""
    from functools import partial

    from aws_lambda_powertools.logging import correlation_paths
    from chalice import ConvertToMiddleware

    app.register_middleware(ConvertToMiddleware(partial(
        logger.inject_lambda_context, clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)),
        "http")
    for event_type in ("dynamodb", "sqs", "scheduled", "s3", "sns", "cloudwatch", "pure_lambda"):
        app.register_middleware(ConvertToMiddleware(partial(logger.inject_lambda_context, clear_state=True)),
                                event_type)
    app.register_middleware(_flush_metrics_after, "all")


def _flush_metrics_after(event: Any, get_response: Any) -> Any:
    try:
        return get_response(event)
    finally:
        flush_metrics()
