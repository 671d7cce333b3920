"""Every handler logs with its Lambda context and flushes its metrics once per invocation; outbound AWS clients
are traced when tracing is on."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.observability import count_metric, install, logger
from tests.helpers import captured_logs, log_records

ROOT = Path(__file__).resolve().parents[2]


def build_app() -> Chalice:
    """A small app wired like app.py: a route, a schedule, a stream and a queue handler, then `install`."""
    app = Chalice(app_name="balai-observed")

    @app.route("/count/{n}")
    def count(n: str) -> dict[str, Any]:
        for _ in range(int(n)):
            count_metric("Counted")
        logger.info("counted", extra={"n": int(n)})
        return {"n": int(n)}

    @app.route("/fail")
    def fail() -> None:
        count_metric("BeforeFailure")
        raise RuntimeError("boom")

    @app.schedule("rate(1 minute)", name="tick")
    def tick(event: Any) -> None:
        count_metric("Ticked")
        logger.info("tick ran")

    @app.on_sqs_message(queue_arn="arn:aws:sqs:ap-southeast-3:000000000000:q.fifo", name="drain")
    def drain(event: Any) -> None:
        logger.info("queue drained")

    install(app)
    return app


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    with captured_logs() as stream:
        yield stream


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF lines (one JSON object per flush) printed to stdout."""
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def test_an_api_request_flushes_its_metrics_once_when_it_ends(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the app, when two requests each add metrics, and a third adds none
    with Client(build_app()) as client:
        assert client.http.get("/count/3").status_code == 200
        assert client.http.get("/count/1").status_code == 200
        assert client.http.get("/count/0").status_code == 200
    # Then each invocation that added metrics wrote exactly one EMF line with all of them, the empty one none
    lines = emf(capsys.readouterr().out)
    assert [line["Counted"] for line in lines] == [[1.0, 1.0, 1.0], [1.0]]
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Balai" for line in lines)


def test_metrics_of_a_failing_invocation_are_flushed_too(capsys: pytest.CaptureFixture[str]) -> None:
    with Client(build_app()) as client:
        assert client.http.get("/fail").status_code == 500
    assert [line["BeforeFailure"] for line in emf(capsys.readouterr().out)] == [[1.0]]


def scheduled_event(client: Client) -> dict[str, Any]:
    return client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                           resources=[])


def test_a_scheduled_invocation_flushes_its_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    with Client(build_app()) as client:
        client.lambda_.invoke("tick", scheduled_event(client))
        client.lambda_.invoke("tick", scheduled_event(client))
    assert [line["Ticked"] for line in emf(capsys.readouterr().out)] == [[1.0], [1.0]]


def test_log_lines_carry_the_lambda_context(log_lines: io.StringIO) -> None:
    # Given the app, when the API, a schedule and a queue handler run
    with Client(build_app()) as client:
        client.http.get("/count/2")
        client.lambda_.invoke("tick", scheduled_event(client))
        client.lambda_.invoke("drain", client.events.generate_sqs_event(message_bodies=["x"], queue_name="q.fifo"))
    # Then each log line names its function and invocation (Powertools' Lambda context keys)
    (api,) = log_records(log_lines, "counted")
    (tick,) = log_records(log_lines, "tick ran")
    (drain,) = log_records(log_lines, "queue drained")
    assert api["function_name"] == "api_handler" and tick["function_name"] == "tick"
    assert drain["function_name"] == "drain"
    for line in (api, tick, drain):
        assert line["function_request_id"] and "cold_start" in line
    assert len({api["function_request_id"], tick["function_request_id"], drain["function_request_id"]}) == 3


def test_outbound_clients_are_traced_when_tracing_is_on() -> None:
    # Given a Lambda function with tracing on (as in the cloud), when an outbound client is built, then the X-Ray
    # SDK has patched botocore, so the client's calls are subsegments of the trace; with tracing off (tests,
    # local mode) nothing is patched. Importing the app patches nothing either way (cold start).
    code = ("import botocore.client as c, app; before = hasattr(c, '_xray_enabled'); "
            "from chalicelib.observability import aws_client; aws_client('sns', region_name='ap-southeast-3'); "
            "print(before, hasattr(c, '_xray_enabled'))")
    base = {"PATH": "/usr/bin:/bin", "AWS_REGION": "ap-southeast-3", "BALAI_STAGE": "test",
            "LAMBDA_TASK_ROOT": str(ROOT), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
    on = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                        env={**base, "POWERTOOLS_TRACE_DISABLED": "false"})
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**base, "POWERTOOLS_TRACE_DISABLED": "true"})
    assert on.stdout.split() == ["False", "True"], on.stderr
    assert off.stdout.split() == ["False", "False"], off.stderr
