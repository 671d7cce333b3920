"""Helpers for the complaint tests: file one, act on one, upload a photo (no side effects at import)."""

from __future__ import annotations

from typing import Any

from chalice.test import Client

from tests.helpers import JPEG, SAMATARING, get, post, send_form

ROAD = "jalan_jembatan"  # routed to Dinas PUPR (opd:dpupr) in the demo configuration
VILLAGE_SERVICE = "pelayanan_desa"  # routed to the village


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "complaint", "category": VILLAGE_SERVICE, "title": "Kantor desa tutup jam 10",
                            "text": "Kantor kelurahan sudah tutup pukul 10 pagi padahal jam layanan sampai 16.00.",
                            "public": True}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def file(client: Client, citizen: dict[str, Any], village: str = SAMATARING, key: str | None = None,
         **overrides: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    return post(client, f"/v1/villages/{village}/complaints", body(**overrides), citizen["token"], headers)


def filed(client: Client, citizen: dict[str, Any], village: str = SAMATARING, **overrides: Any) -> dict[str, Any]:
    response = file(client, citizen, village, **overrides)
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def act(client: Client, token: str, complaint: dict[str, Any], action: str, **extra: Any) -> Any:
    """One transition at the complaint's current version (read first, as a client would)."""
    version = extra.pop("version", None)
    if version is None:
        from chalicelib.storage import complaints as repo

        current = repo.get(complaint["id"])
        assert current is not None
        version = current.version
    return post(client, f"/v1/complaints/{complaint['id']}/transitions", {"action": action, "version": version,
                                                                           **extra}, token)


def photo(client: Client, citizen: dict[str, Any], village: str = SAMATARING, data: bytes = JPEG,
          content_type: str = "image/jpeg", filename: str = "jalan.jpg") -> str:
    response = post(client, f"/v1/villages/{village}/complaint-uploads",
                    {"filename": filename, "content_type": content_type, "size": len(data)}, citizen["token"])
    assert response.status_code == 201, response.body
    sent = send_form(client, response.json_body, data, filename, content_type)
    assert sent.status_code == 204, sent.body
    return str(response.json_body["upload_id"])


def read(client: Client, complaint: dict[str, Any], token: str | None = None) -> Any:
    return get(client, f"/v1/complaints/{complaint['id']}", token)
