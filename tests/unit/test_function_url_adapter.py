"""The function URL adapter on its own: AWS's documented payload-2.0 example, routing, query strings, answers."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from chalice import Response

from chalicelib.api.function_url import (
    BalaiApp,
    RouteTable,
    function_url_response,
    is_function_url_event,
    query_parameters,
    rest_event,
)

# AWS Lambda Developer Guide, "Invoking Lambda function URLs" > "Request payload format": the example event.
AWS_EXAMPLE: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1", "cookie2"],
    "headers": {"header1": "value1", "header2": "value1,value2"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "<urlid>",
        "authentication": None,
        "authorizer": {"iam": {"accessKey": "AKIA...", "accountId": "111122223333", "callerId": "AIDA...",
                               "cognitoIdentity": None, "principalOrgId": None,
                               "userArn": "arn:aws:iam::111122223333:user/example-user", "userId": "AIDA..."}},
        "domainName": "<url-id>.lambda-url.us-west-2.on.aws",
        "domainPrefix": "<url-id>",
        "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "123.123.123.123",
                 "userAgent": "agent"},
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "body": "Hello from client!",
    "pathParameters": None,
    "isBase64Encoded": False,
    "stageVariables": None,
}

ROUTES = RouteTable(["/v1/me/requests", "/v1/me/{thing}", "/v1/requests/{request_id}", "/v1/requests/{id}/letter",
                     "/v1/villages/{desa}/requests", "/v1/villages/{desa}/letter-types", "/openapi.json", "/",
                     "/v1/letters/verify/{token}"])


def toy_app() -> BalaiApp:
    app = BalaiApp(app_name="toy", configure_logs=False)

    @app.route("/my/path", methods=["POST"], content_types=["application/json", "text/plain"])
    def my_path() -> Response:
        r = app.current_request
        assert r is not None
        return Response(json.dumps({
            "path": r.path, "method": r.method, "query": r.query_params and {k: r.query_params.getlist(k)
                                                                              for k in r.query_params},
            "cookie": r.headers.get("cookie"), "header2": r.headers.get("Header2"),
            "body": r.raw_body.decode(), "ip": r.context["identity"]["sourceIp"],
            "request_id": r.context["requestId"]}),
            headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": "https://web.example",
                     "Set-Cookie": "a=1", "X-Many": ["1", "2"]})  # type: ignore[dict-item]

    @app.route("/my/{thing}", methods=["GET"])
    def my_thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    return app


def test_the_documented_example_event_is_dispatched_like_api_gateway_would():
    # Given AWS's example function URL event for POST /my/path
    app = toy_app()
    # When the app answers it
    answer = app(copy.deepcopy(AWS_EXAMPLE), None)
    # Then the view saw the REST request Chalice knows: resource path, method, every query value, the cookies
    # folded into one Cookie header, the body, the caller's address and the request id
    assert answer["statusCode"] == 200, answer
    seen = json.loads(answer["body"])
    assert seen == {"path": "/my/path", "method": "POST",
                    "query": {"parameter1": ["value1", "value2"], "parameter2": ["value"]},
                    "cookie": "cookie1; cookie2", "header2": "value1,value2", "body": "Hello from client!",
                    "ip": "123.123.123.123", "request_id": "id"}
    # And the answer is in the function URL's shape: Set-Cookie as cookies, multi-value headers joined, and no
    # CORS header of the app's own (the function URL's CORS configuration adds them)
    assert answer["cookies"] == ["a=1"]
    assert answer["headers"]["X-Many"] == "1, 2"
    assert not any(k.lower().startswith("access-control-") for k in answer["headers"])
    assert answer["isBase64Encoded"] is False


def test_a_literal_segment_wins_over_a_parameter_and_a_parameter_is_decoded():
    app = toy_app()
    event = copy.deepcopy(AWS_EXAMPLE)
    event.update(rawPath="/my/caf%C3%A9%20x", rawQueryString="", body=None)
    event["requestContext"]["http"]["method"] = "GET"
    answer = app(event, None)
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"thing": "café x"}


def test_rest_events_pass_through_unchanged():
    # A REST event (API Gateway, local mode) is not a function URL event, and is answered as before
    assert not is_function_url_event({"resource": "/my/path", "requestContext": {"resourcePath": "/my/path"}})
    assert not is_function_url_event({"version": "2.0"})  # no requestContext.http: not an HTTP event
    assert is_function_url_event(AWS_EXAMPLE)


@pytest.mark.parametrize("raw,expected", [
    ("/v1/me/requests", ("/v1/me/requests", {})),
    ("/v1/me/requests/", ("/v1/me/requests", {})),  # one trailing slash, as API Gateway
    ("/v1/me/profile", ("/v1/me/{thing}", {"thing": "profile"})),
    ("/v1/requests/01HX%2F..", ("/v1/requests/{request_id}", {"request_id": "01HX/.."})),  # %2F stays in its segment
    ("/v1/villages/73.07.03.1001/requests", ("/v1/villages/{desa}/requests", {"desa": "73.07.03.1001"})),
    ("/v1/letters/verify/a%26b%3Dc", ("/v1/letters/verify/{token}", {"token": "a&b=c"})),
    ("/v1/requests/%E0%A5%A7%E0%A5%A8", ("/v1/requests/{request_id}", {"request_id": "१२"})),  # Devanagari digits
    ("/", ("/", {})),
    ("/openapi.json", ("/openapi.json", {})),
])
def test_routes_match_like_api_gateway(raw, expected):
    assert ROUTES.match(raw) == expected


@pytest.mark.parametrize("raw", ["/v1//requests", "/v1/requests//letter", "/v1/me/requests//", "/v1/requests",
                                 "/v1/requests/x/letter/extra", "v1/me/requests", "/V1/me/requests", "",
                                 "/v1/villages//requests"])
def test_look_alike_paths_match_nothing(raw):
    assert ROUTES.match(raw) is None


def test_query_strings_are_decoded_as_api_gateway_does():
    multi, single = query_parameters("status=submitted&status=approved&q=a+b%20c&flag&empty=&x=%E2%82%AC%26")
    assert multi == {"status": ["submitted", "approved"], "q": ["a b c"], "flag": [""], "empty": [""],
                     "x": ["€&"]}
    assert single == {"status": "approved", "q": "a b c", "flag": "", "empty": "", "x": "€&"}
    assert query_parameters("") == (None, None)


def test_the_rest_event_carries_what_chalice_and_the_throttles_read():
    event = rest_event(AWS_EXAMPLE, "/my/path", {})
    assert event["requestContext"]["resourcePath"] == "/my/path"
    assert event["requestContext"]["httpMethod"] == "POST"
    assert event["requestContext"]["identity"]["sourceIp"] == "123.123.123.123"
    assert event["requestContext"]["requestId"] == "id"  # the logs' correlation id (Powertools API_GATEWAY_REST)
    assert event["pathParameters"] is None and event["stageVariables"] is None
    assert event["headers"]["cookie"] == "cookie1; cookie2"


def test_a_binary_answer_stays_base64_and_headers_are_joined():
    pdf = base64.b64encode(b"%PDF-1.4 ...").decode()
    answer = function_url_response({"statusCode": 200, "headers": {"Content-Type": "application/pdf"},
                                    "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "Vary": ["Origin", "Accept"]},
                                    "body": pdf, "isBase64Encoded": True})
    assert answer == {"statusCode": 200, "headers": {"Content-Type": "application/pdf", "Vary": "Origin, Accept"},
                      "body": pdf, "isBase64Encoded": True, "cookies": ["a=1", "b=2"]}


def test_an_unknown_path_is_the_gateway_responses_404_without_running_a_view():
    app = toy_app()
    event = copy.deepcopy(AWS_EXAMPLE)
    event["rawPath"] = "/nowhere"
    answer = app(event, None)
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["code"] == "route_not_found"
