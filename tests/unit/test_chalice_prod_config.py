"""The prod stage sizes every Lambda function app.py defines, caps its concurrency and throttles the API."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
PROD: dict[str, Any] = CONFIG["stages"]["prod"]
MERGE = json.loads((ROOT / "infra" / "chalice-prod-merge.json").read_text())
MEASUREMENTS = json.loads((ROOT / "bench" / "measurements.json").read_text())
EVENT_DECORATORS = {"on_dynamodb_record", "schedule", "on_sqs_message", "on_s3_event", "on_sns_message",
                    "on_cw_event", "lambda_function"}


def app_functions() -> dict[str, str]:
    """Chalice function name -> decorator: `api_handler` for the routes, each event handler by its name."""
    tree = ast.parse((ROOT / "app.py").read_text())
    found = {"api_handler": "route"}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if isinstance(target, ast.Attribute) and target.attr in EVENT_DECORATORS:
                    found[node.name] = target.attr
    return found


def test_every_function_has_its_own_memory_timeout_and_concurrency_cap() -> None:
    functions = PROD["lambda_functions"]
    assert set(functions) == set(app_functions()), "add/remove entries in stages.prod.lambda_functions"
    for name, settings in functions.items():
        assert 128 <= settings["lambda_memory_size"] <= 3008, name
        assert 1 <= settings["lambda_timeout"] <= 900, name
        # A stuck loop or a flood cannot scale a function past its cap (and the bill with it).
        assert settings["reserved_concurrency"] >= 1, name


def test_api_fits_api_gateway_and_is_throttled_before_lambda() -> None:
    api = PROD["lambda_functions"]["api_handler"]
    assert api["lambda_timeout"] < 29  # API Gateway gives up after 29 s
    (setting,) = MERGE["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    # API Gateway answers 429 for bursts above its limit, so Lambda's own throttle (a 5xx) is never reached.
    assert setting["ThrottlingBurstLimit"] <= api["reserved_concurrency"]
    assert 0 < setting["ThrottlingRateLimit"] <= setting["ThrottlingBurstLimit"]


def test_schedules_do_not_overlap_themselves() -> None:
    for name, kind in app_functions().items():
        if kind == "schedule":
            assert PROD["lambda_functions"][name]["reserved_concurrency"] == 1, name
    # The every-minute retry finishes before the next minute's run starts.
    assert PROD["lambda_functions"]["outbox_retry"]["lambda_timeout"] < 60


def test_memory_leaves_room_over_the_measured_peak() -> None:
    functions = MEASUREMENTS["functions"]
    for role, name in (("api", "api_handler"), ("stream", "on_table_stream"), ("schedule", "sla_escalation"),
                       ("issue_letters", "issue_letters")):
        configured = PROD["lambda_functions"][name]["lambda_memory_size"]
        assert functions[role]["memory_mb"] == configured, role
        assert functions[role]["peak_rss_mb"] * 1.5 <= configured, role


def test_the_api_memory_fits_the_heaviest_route_within_its_timeout() -> None:
    # A register import (an OpenSID export, all rows in one request) is the API's heaviest route, and its CPU runs
    # at memory/1769 of a vCPU. The memory must let a village of a few thousand residents import on a cold
    # container (INIT on a full vCPU, then the route's imports) with a fifth of the timeout to spare, for a slower
    # core than the one measured (bench/memory_sizing.py; docs/operations.md 1.8). In the whole timeout: 512 MB
    # fits ~2,800 residents in 15 s, 1024 MB ~4,500; 768 MB ~5,100 in 20 s.
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from memory_sizing import residents_within_timeout

    api = PROD["lambda_functions"]["api_handler"]
    sizing = MEASUREMENTS["sizing"]["register_import_xlsx"]
    per_resident = (sizing["own_cpu_ms"] / sizing["residents"], sizing["dynamodb_wait_ms"] / sizing["residents"])
    fits = residents_within_timeout(api["lambda_timeout"] * 1000 * 0.8, MEASUREMENTS["functions"]["api"]["init_ms"],
                                    sizing["first_call_imports_ms"], *per_resident, api["lambda_memory_size"])
    assert fits >= sizing["residents"]


def test_tracing_sampled_at_the_api_and_dependencies_in_a_layer() -> None:
    # Issue 14: API Gateway traces what infra/balai.yaml's sampling rule picks; the functions pass that
    # decision through (tracing mode PassThrough) instead of Lambda tracing every invocation.
    assert PROD["xray"] is False
    assert MERGE["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True
    assert CONFIG["automatic_layer"] is True


def test_functions_run_on_arm64_and_keep_their_logs_a_month() -> None:
    # Chalice 1.34's stage key: Architectures [arm64] on every function and the automatic layer, whose
    # wheels Chalice then downloads for manylinux aarch64; a LogGroup with RetentionInDays per function.
    assert PROD["lambda_architecture"] == "arm64"
    assert 1 <= PROD["log_retention_in_days"] <= 90


def test_lambdas_own_per_invocation_lines_are_not_ingested() -> None:
    # Issue 14: START/END/REPORT (system level INFO) are ~350 B per invocation, about a third of the logs
    # ingested; Lambda's free Duration/Errors/Throttles metrics carry the same figures. JSON format is what
    # log-level filtering needs; the application's level stays INFO, Powertools' own default.
    config = MERGE["Globals"]["Function"]["LoggingConfig"]
    assert config == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import cost

    assert cost.read_deployment(ROOT).system_log_level == "WARN"


def test_api_gateways_own_errors_carry_the_web_origin() -> None:
    # A throttled (429) or refused request never reaches the Lambda, so the CORS middleware cannot label it;
    # API Gateway's gateway responses carry the one web origin instead (never "*").
    responses = {r["Properties"]["ResponseType"]: r["Properties"] for r in MERGE["Resources"].values()
                 if r.get("Type") == "AWS::ApiGateway::GatewayResponse"}
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for props in responses.values():
        origin = props["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert origin == {"Fn::Sub": "'${WebOrigin}'"}
    assert MERGE["Parameters"]["WebOrigin"]["AllowedPattern"].startswith("^https://")


def test_the_packaged_stream_mapping_carries_the_handlers_event_filter() -> None:
    # The one-stack path (chalice package + this merge template) gets the same filter `ops stream-filter` sets
    # after a `chalice deploy`: the patterns of chalicelib/workers/stream.py, nothing else
    from chalicelib.workers.stream import filter_criteria

    event = MERGE["Resources"]["OnTableStream"]["Properties"]["Events"]["OnTableStreamDynamodbEventSource"]
    assert event["Properties"]["FilterCriteria"] == filter_criteria()
    assert app_functions()["on_table_stream"] == "on_dynamodb_record"


# ---- the web's API calls go to the API function's URL (chalicelib/api/function_url.py) ------------------------
def _route_methods() -> set[str]:
    methods: set[str] = set()
    for path in (ROOT / "chalicelib" / "api").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "methods" and isinstance(node.value, ast.List):
                methods |= {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return methods


def test_the_function_urls_cors_allows_the_web_origin_the_headers_and_methods_the_api_reads() -> None:
    from chalicelib.api.cors import ALLOWED_HEADERS

    url = MERGE["Resources"]["ApiFunctionUrl"]
    assert url["Type"] == "AWS::Lambda::Url"
    props = url["Properties"]
    # The app does its own auth (bearer tokens), so the URL is public, like the REST API
    # (the function's name: TargetFunctionArn takes a name or an ARN)
    assert props["AuthType"] == "NONE" and props["TargetFunctionArn"] == {"Ref": "APIHandler"}
    cors = props["Cors"]
    assert cors["AllowOrigins"] == [{"Ref": "WebOrigin"}]
    assert cors["AllowHeaders"] == list(ALLOWED_HEADERS)
    # Every method a route declares (OPTIONS is the preflight, which Lambda answers itself); at most 6 (Lambda's cap)
    assert set(cors["AllowMethods"]) == _route_methods() - {"OPTIONS"} and len(cors["AllowMethods"]) <= 6
    assert cors["MaxAge"] == 86400  # Lambda's maximum: a browser asks once a day per URL
    assert cors.get("AllowCredentials") is not True  # no cookies: the bearer token is a header
    # The web reads no response header beyond the CORS-safelisted ones (web/assets: status and JSON body only),
    # so none is exposed (CloudFormation takes no empty list here)
    assert "ExposeHeaders" not in cors
    assert MERGE["Outputs"]["ApiFunctionUrl"]["Value"] == {"Fn::GetAtt": ["ApiFunctionUrl", "FunctionUrl"]}


def test_anyone_may_call_the_function_url_and_only_through_it() -> None:
    resources = MERGE["Resources"]
    url_access = resources["ApiFunctionUrlPublicAccess"]["Properties"]
    assert url_access == {"Action": "lambda:InvokeFunctionUrl", "FunctionName": {"Ref": "APIHandler"},
                          "Principal": "*", "FunctionUrlAuthType": "NONE"}
    # Function URLs created since October 2025 also need lambda:InvokeFunction, bound to the URL: without the
    # condition, anyone could invoke the function directly with any event
    invoke = resources["ApiFunctionUrlInvoke"]["Properties"]
    assert invoke == {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "APIHandler"}, "Principal": "*",
                      "InvokedViaFunctionUrl": True}


def test_the_function_url_is_capped_by_the_api_functions_reserved_concurrency() -> None:
    # No API Gateway throttle in front of the function URL: Lambda answers 429 above the reserved concurrency and
    # above 10 x that many requests a second. docs/operations.md 1.8 gives the flood cost this bounds.
    assert PROD["lambda_functions"]["api_handler"]["reserved_concurrency"] == 25


def test_the_rest_api_compresses_from_the_size_the_function_url_compresses_from() -> None:
    # The app gzip-codes the function URL's answers itself (chalicelib/api/compression.py); on the REST API (QR codes,
    # Open311) API Gateway does it, from the same size: a base64 body from the app would reach a browser as base64
    # text there (API Gateway decodes it only when the request's Accept names a binary media type).
    from chalicelib.api.compression import MIN_BYTES

    assert PROD["minimum_compression_size"] == MIN_BYTES
