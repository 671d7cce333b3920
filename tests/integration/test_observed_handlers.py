"""app.py's own handlers run with Powertools' Lambda context in their log lines and flush their metrics per
invocation (the middleware `observability.install` adds)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from tests.helpers import captured_logs, log_records, post


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    with captured_logs() as stream:
        yield stream


def test_each_refused_login_is_one_invocation_with_one_metric_line(
        client: Client, log_lines: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two logins with a wrong password
    for _ in range(2):
        response = post(client, "/v1/auth/login", {"username": "operator.73.07.03.1001", "password": "salah-salah"})
        assert response.status_code == 401
    # Then each invocation flushed its own metric line, as it ended
    emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    assert [line.get("StaffLoginFailed") for line in emf] == [[1.0], [1.0]]
    # and the log lines name the API function and two different invocations
    refused = log_records(log_lines, "staff login refused")
    assert [r["function_name"] for r in refused] == ["api_handler", "api_handler"]
    assert refused[0]["function_request_id"] != refused[1]["function_request_id"]


def test_schedules_and_the_queue_handler_log_with_their_function(client: Client, log_lines: io.StringIO) -> None:
    # When two schedules and the issuing queue's handler run as Lambda runs them
    scheduled = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
    client.lambda_.invoke("sla_escalation", scheduled)
    client.lambda_.invoke("daily_digest", scheduled)
    client.lambda_.invoke("issue_letters", client.events.generate_sqs_event(
        message_bodies=["not json"], queue_name="balai-test-issuing.fifo"))
    # Then each log line carries its own function's name and invocation id
    (sweep,) = log_records(log_lines, "sla sweep")
    (digest,) = log_records(log_lines, "daily digest")
    (skipped,) = log_records(log_lines, "issuing queue: malformed message skipped")
    assert [sweep["function_name"], digest["function_name"], skipped["function_name"]] == [
        "sla_escalation", "daily_digest", "issue_letters"]
    assert len({sweep["function_request_id"], digest["function_request_id"], skipped["function_request_id"]}) == 3
