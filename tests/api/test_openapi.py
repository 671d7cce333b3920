"""/openapi.json describes every route, from the same Pydantic models that validate input."""

from openapi_spec_validator import validate


def test_spec_is_valid_openapi(client):
    spec = client.http.get("/openapi.json").json_body
    validate(spec)


def test_every_chalice_route_is_described(client, app):
    spec = client.http.get("/openapi.json").json_body
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    # OPTIONS views are the CORS preflights chalicelib/api/cors.py adds to every path, not API operations.
    routes = {(path, method) for path, methods in app.routes.items() for method in methods if method != "OPTIONS"}
    assert routes == described
    assert all("OPTIONS" in methods for methods in app.routes.values())


def test_request_bodies_use_the_validating_models(client):
    spec = client.http.get("/openapi.json").json_body
    submit = spec["paths"]["/v1/villages/{desa}/requests"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SubmitRequest")
    schema = spec["components"]["schemas"]["TransitionRequest"]
    assert set(schema["properties"]["action"]["enum"]) == {"review", "request_revision", "resubmit", "approve",
                                                          "reject", "issue", "cancel",
                                                          "verify_identity"}
    assert "Idempotency-Key" in {p["name"] for p in submit["parameters"]}
