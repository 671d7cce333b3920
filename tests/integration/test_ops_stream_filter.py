"""`python -m chalicelib.ops stream-filter`: the stream function's event source mapping gets the filter of
chalicelib/workers/stream.py (on moto's Lambda, with the table's real stream as the source)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.ops.__main__ import main
from chalicelib.ops.stream_filter import apply, function_name
from chalicelib.workers.stream import FILTER_PATTERNS


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture()
def deployed() -> tuple[Any, str]:
    """A stream function as `chalice deploy` leaves it: the function and its mapping on the table's stream."""
    region = get_settings().aws_region
    iam = boto3.client("iam", region_name=region)
    role = iam.create_role(RoleName="balai-test-stream", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    client = boto3.client("lambda", region_name=region)
    name = function_name("test")
    client.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                           Code={"ZipFile": _zip()})
    stream = boto3.client("dynamodb", region_name=region).describe_table(
        TableName=get_settings().table_name)["Table"]["LatestStreamArn"]
    client.create_event_source_mapping(FunctionName=name, EventSourceArn=stream, StartingPosition="LATEST",
                                       BatchSize=100)
    yield client, stream
    for m in client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]:
        client.delete_event_source_mapping(UUID=m["UUID"])
    client.delete_function(FunctionName=name)
    iam.delete_role(RoleName="balai-test-stream")


def test_the_filter_is_set_on_the_stream_mapping_once(deployed: tuple[Any, str], capsys: Any) -> None:
    client, stream = deployed
    # When the operator runs the command after a deploy
    assert main(["stream-filter", "--stage", "test"]) == 0
    # Then the mapping carries exactly the handler's patterns
    mapping = client.list_event_source_mappings(FunctionName=function_name("test"))["EventSourceMappings"][0]
    assert [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]] == FILTER_PATTERNS
    assert "stream filter set on" in capsys.readouterr().out
    # And running it again changes nothing and still succeeds
    assert apply(client, function_name("test"), stream) == [mapping["UUID"]]


def test_a_stage_without_the_function_is_an_error(capsys: Any) -> None:
    assert main(["stream-filter", "--stage", "nostage"]) == 1
    assert "deploy the app first" in capsys.readouterr().err
