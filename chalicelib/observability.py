"""The one Logger, Metrics and Tracer; logs never carry a full NIK or phone number."""

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
    """Emit one count (EMF, namespace Balai, dimension service) right away; alarms watch these."""
    from aws_lambda_powertools.metrics import MetricUnit

    m = metrics()
    m.add_metric(name=name, unit=MetricUnit.Count, value=value)
    m.flush_metrics()


@lru_cache(maxsize=1)
def tracer() -> Any:
    """Powertools Tracer; it loads the X-Ray SDK, so only the functions that trace build it."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)
