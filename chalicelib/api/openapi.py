"""OpenAPI 3 description built from the same Pydantic models that validate the input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    body: str | None = None
    response: str | None = None
    status: int = 200
    auth: str | None = None  # None = public, else the roles that may call it
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    errors: tuple[int, ...] = field(default_factory=tuple)
    content_type: str = "application/json"
    body_types: tuple[str, ...] = ()  # a raw (binary) request body of these media types
    # Further success statuses answering the same body, with what they mean (e.g. 202 for `issue`).
    also: tuple[tuple[int, str], ...] = ()


ROUTES: list[RouteDoc] = []


def doc(method: str, path: str, summary: str, **kwargs: Any) -> Callable[[F], F]:
    """Record a route's description next to its view (strings only: nothing heavy at import)."""
    ROUTES.append(RouteDoc(method.upper(), path, summary, **kwargs))

    def decorate(view: F) -> F:
        return view

    return decorate


def _schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@lru_cache(maxsize=1)
def build_spec(server_url: str = "/") -> dict[str, Any]:
    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode, models_json_schema

    from chalicelib.api import schemas

    names = sorted({n for r in ROUTES for n in (r.body, r.response) if n} | {"Error"})
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (getattr(schemas, n), "validation" if any(r.body == n for r in ROUTES) else "serialization") for n in names]
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    components = defs.get("$defs", {})
    paths: dict[str, Any] = {}
    for r in sorted(ROUTES, key=lambda r: (r.path, r.method)):
        op: dict[str, Any] = {"summary": r.summary, "operationId": _operation_id(r), "responses": {}}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in re.findall(r"{(\w+)}", r.path)]
        params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"},
                    "description": d} for n, d in r.query]
        params += [{"name": n, "in": "header", "required": False, "schema": {"type": "string"},
                    "description": d} for n, d in r.headers]
        if params:
            op["parameters"] = params
        if r.body:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": _schema_ref(r.body)}}}
        elif r.body_types:
            op["requestBody"] = {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                                for t in r.body_types}}
        if r.auth:
            op["security"] = [{"bearer": []}]
            op["description"] = f"Roles: {r.auth}."
        ok: dict[str, Any] = {"description": "OK"}
        if r.response:
            ok["content"] = {r.content_type: {"schema": _schema_ref(r.response)}}
        elif r.content_type != "application/json":
            ok["content"] = {r.content_type: {"schema": {"type": "string"}}}
        op["responses"][str(r.status)] = ok
        for status, description in r.also:
            op["responses"][str(status)] = {**ok, "description": description}
        error_codes = set(r.errors) | {400} | ({401, 403} if r.auth else set())
        for code in sorted(error_codes):
            op["responses"][str(code)] = {"description": "Error",
                                          "content": {"application/json": {"schema": _schema_ref("Error")}}}
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Balai API", "version": "1.0.0",
                 "description": "Public services for Indonesian villages: letters, tracking, logins."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


def _operation_id(r: RouteDoc) -> str:
    words = re.sub(r"[{}]", "", r.path).replace(".", "_").split("/")
    return r.method.lower() + "_" + "_".join(w.replace("-", "_") for w in words if w)
