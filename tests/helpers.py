"""Helpers to drive the API in tests and benchmarks (no side effects at import)."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from chalice.test import Client

SAMATARING = "73.07.03.1001"  # kelurahan in Sinjai Timur (active)
KECAMATAN_SINJAI_TIMUR = "73.07.03"
PULAU_HARAPAN = "73.07.09.2001"  # desa in Pulau Sembilan (active)
SINJAI_BARAT_VILLAGE = "73.07.01.1001"  # Tassililu, inactive (not in the first roll-out stage)
PASSWORD = "balai-demo"


def other_village_same_kecamatan() -> str:
    from chalicelib.storage import regions

    return next(c.code for c in regions.children(KECAMATAN_SINJAI_TIMUR) if c.code != SAMATARING)


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def post(client: Client, path: str, body: Any, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
    h = auth_header(token) if token else {"Content-Type": "application/json"}
    return client.http.post(path, headers={**h, **(headers or {})}, body=json.dumps(body))


def put(client: Client, path: str, body: Any, token: str | None = None) -> Any:
    h = auth_header(token) if token else {"Content-Type": "application/json"}
    return client.http.put(path, headers=h, body=json.dumps(body))


def get(client: Client, path: str, token: str | None = None) -> Any:
    return client.http.get(path, headers=auth_header(token) if token else {})


def staff_token(client: Client, username: str) -> str:
    response = post(client, "/v1/auth/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.body
    return str(response.json_body["token"])


def random_nik(kecamatan: str = "730703", female: bool = False) -> str:
    day = random.randint(1, 28) + (40 if female else 0)
    month = random.randint(1, 12)
    year = random.randint(60, 99)
    # Serials from 5000 up: the demo registers use lower ones, so a random citizen is never a seeded resident.
    return f"{kecamatan}{day:02d}{month:02d}{year:02d}{random.randint(5000, 9999):04d}"


def random_phone() -> str:
    return f"0812{random.randint(10_000_000, 99_999_999)}"


def last_sms(to: str) -> dict[str, Any]:
    from chalicelib.config import get_settings

    path = get_settings().outbox_dir / "sms.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [m for m in lines if m.get("to") == to][-1]


def otp_code(phone: str) -> str:
    match = re.search(r"\b(\d{6})\b", last_sms(e164(phone))["text"])
    assert match, "no code in the SMS"
    return match.group(1)


def e164(phone: str) -> str:
    return "+62" + phone[1:]


def citizen_login(client: Client, nik: str | None = None, phone: str | None = None) -> dict[str, Any]:
    nik = nik or random_nik()
    phone = phone or random_phone()
    response = post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    assert response.status_code == 202, response.body
    code = otp_code(phone)
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
    assert response.status_code == 200, response.body
    return {"nik": nik, "phone": phone, "token": response.json_body["token"]}


def complete_profile(client: Client, citizen: dict[str, Any]) -> None:
    nik = citizen["nik"]
    day = int(nik[6:8])
    sex = "P" if day > 40 else "L"
    born = date(1900 + int(nik[10:12]), int(nik[8:10]), day - 40 if day > 40 else day)
    body = {"version": 1, "name": "Andi Baso Tenri", "birth_place": "Sinjai", "birth_date": born.isoformat(),
            "sex": sex, "religion": "Islam", "marital_status": "Kawin", "occupation": "Petani",
            "address": "Jl. Persatuan Raya No. 5", "rt": "001", "rw": "002", "kk_number": "7307030101200001"}
    response = put(client, "/v1/me/profile", body, citizen["token"])
    assert response.status_code == 200, response.body


def register_resident(citizen: dict[str, Any], village: str = SAMATARING, phone: str | None = None) -> dict[str, Any]:
    """Put the citizen in the village's register (as its operator would), with the data complete_profile uses."""
    from chalicelib.domain.requests import Principal
    from chalicelib.services import residents

    nik = citizen["nik"]
    day = int(nik[6:8])
    born = date(1900 + int(nik[10:12]), int(nik[8:10]), day - 40 if day > 40 else day)
    data = {"nik": nik, "kk_number": "7307030101200001", "name": "Andi Baso Tenri", "birth_place": "Sinjai",
            "birth_date": born.isoformat(), "sex": "P" if day > 40 else "L", "religion": "Islam",
            "marital_status": "Kawin", "occupation": "Petani/Pekebun", "address": "Jl. Persatuan Raya No. 5",
            "rt": "001", "rw": "002", "phone": phone}
    operator = Principal("operator", village, f"operator.{village}", "Operator")
    return residents.add_resident(operator, village, {k: v for k, v in data.items() if v})


SKD_FIELDS = {"lama_tinggal_tahun": 5, "keperluan": "Melamar pekerjaan"}


# Smallest files whose first bytes are those of their type (the API checks magic bytes, not contents).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
PDF = b"%PDF-1.4\n" + b"%%EOF\n"


def send_form(client: Client, form: dict[str, Any], data: bytes, filename: str = "berkas.jpg",
              content_type: str = "image/jpeg") -> Any:
    """POST a presigned upload form as a browser does: every field, then the file (local upload endpoint)."""
    from urllib.parse import urlsplit

    from urllib3 import encode_multipart_formdata

    body, ctype = encode_multipart_formdata([*form["fields"].items(), ("file", (filename, data, content_type))])
    return client.http.post(urlsplit(form["url"]).path, headers={"Content-Type": ctype}, body=body)


def upload(client: Client, citizen: dict[str, Any], attachment: str = "ktp", village: str = SAMATARING,
           letter_type: str = "SKD", data: bytes = JPEG, content_type: str = "image/jpeg",
           filename: str = "berkas.jpg") -> str:
    """Presign and upload one attachment; returns its upload_id."""
    response = post(client, f"/v1/villages/{village}/uploads",
                    {"letter_type": letter_type, "attachment": attachment, "filename": filename,
                     "content_type": content_type, "size": len(data)}, citizen["token"])
    assert response.status_code == 201, response.body
    form = response.json_body
    sent = send_form(client, form, data, filename, content_type)
    assert sent.status_code == 204, sent.body
    return str(form["upload_id"])


def required_attachments(client: Client, citizen: dict[str, Any], village: str = SAMATARING,
                         letter_type: str = "SKD") -> dict[str, str]:
    """Uploads for every attachment the letter type requires (kept per citizen, village and type until a submission
    uses them: an upload is used by one request only, so `submit` forgets them once it created a request)."""
    from chalicelib.domain import catalog

    cache = citizen.setdefault("_uploads", {})
    if (village, letter_type) not in cache:
        spec = catalog.DEFAULT_CATALOG[letter_type]
        cache[(village, letter_type)] = {a.name: upload(client, citizen, a.name, village, letter_type)
                                         for a in spec.attachments if a.required}
    return dict(cache[(village, letter_type)])


_AUTO: Any = object()


def submit(client: Client, citizen: dict[str, Any], village: str = SAMATARING, letter_type: str = "SKD",
           fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
           attachments: Any = _AUTO) -> Any:
    body: dict[str, Any] = {"letter_type": letter_type, "fields": fields if fields is not None else SKD_FIELDS}
    cached = False
    key = next((v for k, v in (headers or {}).items() if k.lower() == "idempotency-key"), None)
    keyed = citizen.setdefault("_uploads_by_key", {})
    if attachments is _AUTO and key is not None and (village, letter_type, key) in keyed:
        attachments = keyed[(village, letter_type, key)]  # a retry sends the same body, the same uploads
    if attachments is _AUTO:
        from chalicelib.domain import catalog

        attachments = None
        if letter_type in catalog.DEFAULT_CATALOG and _village_accepts(client, village):
            try:
                attachments = required_attachments(client, citizen, village, letter_type)
                cached = True
            except AssertionError:
                attachments = None  # uploads refused (disabled type, no profile…): the submit says why
    if attachments is not None:
        body["attachments"] = attachments
    response = post(client, f"/v1/villages/{village}/requests", body, citizen["token"], headers)
    if cached and response.status_code == 201:
        citizen.get("_uploads", {}).pop((village, letter_type), None)  # used: the next request uploads its own
        if key is not None:
            keyed[(village, letter_type, key)] = attachments
    return response


def _village_accepts(client: Client, village: str) -> bool:
    """Whether uploads can be made for the village (tests of inactive or unknown villages submit bare)."""
    from chalicelib.domain.regions import is_village
    from chalicelib.storage import regions

    if not is_village(village):
        return False
    region = regions.get(village)
    return region is not None and region.active


def submitted(client: Client, citizen: dict[str, Any], village: str = SAMATARING) -> dict[str, Any]:
    response = submit(client, citizen, village)
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def act(client: Client, token: str, request: dict[str, Any], action: str, note: str | None = None) -> Any:
    body: dict[str, Any] = {"action": action, "version": request["version"]}
    if note is not None:
        body["note"] = note
    return post(client, f"/v1/requests/{request['id']}/transitions", body, token)


def drain_issuing_queue(client: Client | None = None) -> int:
    """Deliver every message waiting on the issuing queue (moto) to the issuing handler, as Lambda's SQS
    event source would, and delete them; returns how many messages were handled. With a `client`, through
    the Chalice app's `issue_letters` function; otherwise straight to the worker."""
    import boto3

    from chalicelib.config import get_settings
    from chalicelib.workers import issuing

    settings = get_settings()
    sqs = boto3.client("sqs", region_name=settings.aws_region)
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=settings.issue_queue_url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=30).get("Messages", [])
        if not messages:
            return handled
        bodies = [m["Body"] for m in messages]
        try:
            if client is not None:
                event = client.events.generate_sqs_event(message_bodies=bodies,
                                                         queue_name="balai-test-issuing.fifo")
                client.lambda_.invoke("issue_letters", event)
            else:
                issuing.handle(bodies)
        except Exception:
            # As SQS after a failed batch: the messages come back (here at once) for the next delivery.
            for m in messages:
                sqs.change_message_visibility(QueueUrl=settings.issue_queue_url, ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=0)
            raise
        for m in messages:
            sqs.delete_message(QueueUrl=settings.issue_queue_url, ReceiptHandle=m["ReceiptHandle"])
        handled += len(messages)


def issue_over_api(client: Client, token: str, request: dict[str, Any]) -> dict[str, Any]:
    """The signer's `issue` (202, `issuing`), then the queue's work; the request as it reads afterwards."""
    response = act(client, token, request, "issue")
    assert response.status_code == 202, response.body
    assert response.json_body["status"] == "issuing"
    drain_issuing_queue(client)
    issued = get(client, f"/v1/requests/{request['id']}", token)
    assert issued.status_code == 200 and issued.json_body["status"] == "issued", issued.body
    return dict(issued.json_body)


def service_attachments(principal: Any, village: str, letter_type: str = "SKD") -> dict[str, str]:
    """Uploads for every required attachment, made through the service layer and the local store's
    upload policy (no HTTP), fresh for each call: an upload serves one request."""
    from chalicelib.domain import catalog
    from chalicelib.services import attachments, wiring

    refs = {}
    for spec in catalog.DEFAULT_CATALOG[letter_type].attachments:
        if spec.required:
            form = attachments.create_upload(principal, village, letter_type, spec.name, "berkas.jpg",
                                             "image/jpeg", len(JPEG))
            wiring.file_store().accept_post(form["fields"], JPEG)  # type: ignore[attr-defined]
            refs[spec.name] = form["upload_id"]
    return refs


def checked(client: Client, token: str, request: dict[str, Any]) -> dict[str, Any]:
    """The request after the operator's in-person identity check, when its NIK is in no register (issue 8.2)."""
    if request.get("identity_verified", True):
        return request
    response = post(client, f"/v1/requests/{request['id']}/transitions",
                    {"action": "verify_identity", "version": request["version"], "document": "KTP-el"}, token)
    assert response.status_code == 200, response.body
    return dict(response.json_body)


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """The JSON lines Balai's logger writes while inside the block (its handler's stream, swapped back after)."""
    from chalicelib.observability import logger

    handler = logger.registered_handler
    original, handler.stream = handler.stream, io.StringIO()
    try:
        yield handler.stream
    finally:
        handler.stream = original


def log_records(stream: io.StringIO, message: str) -> list[dict[str, Any]]:
    """The captured log records with this message, parsed."""
    return [r for r in map(json.loads, stream.getvalue().splitlines()) if r.get("message") == message]


def unsent_rows(village: str) -> list[Any]:
    """The village's outbox rows not yet tried: only in their kabupaten's retry index (keys only) until their
    first outcome puts them in the village's status list. Needs the table (tests/api, tests/integration)."""
    from datetime import timedelta

    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.regions import kabupaten_of
    from chalicelib.storage import outbox as outbox_repo

    rows = (outbox_repo.get(i) for i in outbox_repo.due_for_retry(kabupaten_of(village), utcnow() + timedelta(days=1)))
    return [r for r in rows if r is not None and r.village == village and r.status == "pending" and r.attempts == 0]
