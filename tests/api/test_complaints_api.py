"""Complaints over HTTP: filing (photos, idempotency, daily limit, bad input writing nothing), routing, the state
machine per role, re-routing, reopen window, rating, moderation keeping the original for staff, lists, categories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import utcnow
from tests.complaints_support import ROAD, act, body, file, filed, photo, read
from tests.conftest import KECAMATAN_SINJAI_TIMUR, PNG, PULAU_HARAPAN, SAMATARING, get, post, put, staff_token
from tests.helpers import PDF, SINJAI_BARAT_VILLAGE


def mine(client: Any, citizen: dict[str, Any]) -> list[dict[str, Any]]:
    response = get(client, "/v1/me/complaints", citizen["token"])
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


# ---- filing ---------------------------------------------------------------------------------------------------
def test_a_citizen_files_a_public_complaint_routed_to_the_village(client, citizen):
    # Given a logged-in citizen; When they file a complaint in a category the village handles
    response = file(client, citizen)
    # Then it is open, routed to the village, with an SLA due time and version 1
    assert response.status_code == 201, response.body
    c = response.json_body
    assert c["status"] == "open" and c["version"] == 1
    assert c["unit"] == {"type": "village", "code": SAMATARING, "name": "Samataring"}
    assert c["due_at"] > c["created_at"] and c["public"] is True
    assert "reporter" not in c  # the owner's view has no staff-only fields
    # And the village operator finds it in the open queue, with the reporter's name and a masked NIK
    op = staff_token(client, f"operator.{SAMATARING}")
    queue = get(client, f"/v1/villages/{SAMATARING}/complaints?status=open", op).json_body
    found = next(i for i in queue["items"] if i["id"] == c["id"])
    assert found["reporter"] == {"name": "Andi Baso Tenri", "nik": "*" * 12 + citizen["nik"][-4:]}


def test_a_road_complaint_goes_to_dinas_pupr_with_photos_and_location(client, citizen):
    # Given two uploaded photos
    photos = [photo(client, citizen), photo(client, citizen, data=PNG, content_type="image/png")]
    # When the citizen files a road complaint with them and a location
    c = filed(client, citizen, category=ROAD, title="Jalan poros berlubang", lat=-5.1236, lon=120.2531,
              photos=photos)
    # Then Dinas PUPR handles it, the photos are listed and the location kept
    assert c["unit"]["type"] == "opd" and c["unit"]["code"] == "dpupr" and "PUPR" in c["unit"]["name"]
    assert [p["id"] for p in c["photos"]] == sorted(photos) or {p["id"] for p in c["photos"]} == set(photos)
    assert (c["lat"], c["lon"]) == (-5.1236, 120.2531)
    # And PUPR's officer sees it in the OPD queue; the village's queue does not hold it
    pupr = staff_token(client, "opd.dpupr")
    queue = get(client, "/v1/kabupaten/73.07/opds/dpupr/complaints", pupr).json_body
    assert c["id"] in [i["id"] for i in queue["items"]]
    op = staff_token(client, f"operator.{SAMATARING}")
    assert c["id"] not in [i["id"] for i in get(client, f"/v1/villages/{SAMATARING}/complaints", op).json_body["items"]]
    # And anyone can open a public photo through a short-lived link
    link = get(client, f"/v1/complaints/{c['id']}/photos/{photos[0]}")
    assert link.status_code == 200 and link.json_body["url"]


def test_the_same_idempotency_key_returns_the_first_complaint(client, citizen):
    first = file(client, citizen, key="aduan-1")
    again = file(client, citizen, key="aduan-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body["id"] == first.json_body["id"]
    assert len(mine(client, citizen)) == 1
    # The same key for another complaint is refused
    other = file(client, citizen, key="aduan-1", title="Judul yang lain sama sekali")
    assert other.status_code == 422 and other.json_body["code"] == "idempotency_key_reused"


def test_the_daily_limit_answers_429_and_writes_nothing(client, citizen):
    for index in range(5):
        assert file(client, citizen, title=f"Pengaduan nomor {index}").status_code == 201
    refused = file(client, citizen, title="Pengaduan keenam")
    assert refused.status_code == 429, refused.body
    assert refused.json_body["code"] == "complaint_daily_limit" and "hari ini" in refused.json_body["message"]
    assert len(mine(client, citizen)) == 5


BAD_INPUT = [
    ({"text": "x" * 4001}, 400, "text_too_long"),
    ({"text": "Isi pengaduan dengan karakter \x07 kendali"}, 400, "invalid_character"),
    ({"title": "Judul\nbaris dua"}, 400, "invalid_title"),
    ({"lat": 51.5, "lon": -0.12}, 400, "location_outside_indonesia"),
    ({"lat": -5.1}, 400, "invalid_location"),
    ({"lat": "-5.1", "lon": "120.2"}, 400, "invalid_field_type"),
    ({"kind": "pujian"}, 400, "invalid_field"),
    ({"category": "tidak_ada"}, 422, "unknown_category"),
    ({"public": "ya"}, 400, "invalid_field_type"),
    ({"photos": ["A1", "A2", "A3", "A4"]}, 400, "too_many_photos"),
    ({"photos": ["０１２３"]}, 400, "invalid_photo"),
    ({"photos": ["01JD00000000000000000NOPE0"]}, 422, "invalid_photo"),
    ({"reporter": "saya"}, 400, "unknown_field"),
]


@pytest.mark.parametrize("overrides,status,code", BAD_INPUT)
def test_bad_filings_are_4xx_and_write_nothing(client, citizen, overrides, status, code):
    response = file(client, citizen, **overrides)
    assert response.status_code == status, response.body
    assert response.json_body["code"] == code
    assert mine(client, citizen) == []


def test_a_photo_that_is_not_an_image_is_refused(client, citizen):
    # A PDF cannot even be presigned as a photo; a file that is not what it claims is refused at filing
    refused = post(client, f"/v1/villages/{SAMATARING}/complaint-uploads",
                   {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}, citizen["token"])
    assert refused.status_code == 422 and refused.json_body["code"] == "unsupported_file_type"
    fake = photo(client, citizen, data=PDF, content_type="image/jpeg")
    response = file(client, citizen, photos=[fake])
    assert response.status_code == 422 and response.json_body["code"] == "invalid_photo"
    assert mine(client, citizen) == []


def test_another_citizens_photo_or_another_villages_cannot_be_used(client, citizen):
    from tests.conftest import citizen_login

    other = citizen_login(client)
    theirs = photo(client, other)
    elsewhere = photo(client, citizen, village=PULAU_HARAPAN)
    for upload in (theirs, elsewhere):
        response = file(client, citizen, photos=[upload])
        assert response.status_code == 422 and response.json_body["code"] == "invalid_photo"


def test_staff_inactive_villages_and_look_alike_codes_cannot_file(client, citizen):
    op = staff_token(client, f"operator.{SAMATARING}")
    assert post(client, f"/v1/villages/{SAMATARING}/complaints", body(), op).status_code == 403
    inactive = file(client, citizen, village=SINJAI_BARAT_VILLAGE)
    assert inactive.status_code == 422 and inactive.json_body["code"] == "village_inactive"
    look_alike = file(client, citizen, village="73.07.03.１001")
    assert look_alike.status_code == 404
    assert post(client, f"/v1/villages/{SAMATARING}/complaints", body()).status_code == 401
    assert mine(client, citizen) == []


# ---- handling ------------------------------------------------------------------------------------------------
def test_the_village_works_a_complaint_to_resolved_and_the_citizen_closes_and_rates(client, citizen):
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    for action, status in (("acknowledge", "acknowledged"), ("start", "in_progress")):
        response = act(client, op, c, action)
        assert response.status_code == 200 and response.json_body["status"] == status, response.body
    resolved = act(client, op, c, "resolve", note="Jam layanan sudah diumumkan ulang.")
    assert resolved.json_body["status"] == "resolved" and resolved.json_body["resolved_at"]
    # The citizen rates (once) and closes
    rated = act(client, citizen["token"], c, "rate", rating=4, note="Cukup cepat")
    assert rated.status_code == 200 and rated.json_body["rating"] == 4
    assert act(client, citizen["token"], c, "rate", rating=5).json_body["code"] == "already_rated"
    closed = act(client, citizen["token"], c, "close")
    assert closed.json_body["status"] == "closed"
    actions = [h["action"] for h in closed.json_body["history"]]
    assert actions == ["file", "acknowledge", "start", "resolve", "rate", "close"]


def test_a_stale_version_is_409_and_changes_nothing(client, citizen):
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, op, c, "acknowledge", version=1).status_code == 200
    stale = act(client, op, c, "start", version=1)
    assert stale.status_code == 409 and stale.json_body["code"] == "stale_version"
    assert read(client, c, op).json_body["status"] == "acknowledged"


def test_reject_and_resolve_need_a_note_and_wrong_states_are_409(client, citizen):
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, op, c, "reject").json_body["code"] == "note_required"
    assert act(client, op, c, "resolve", note="x").json_body["code"] == "invalid_transition"
    assert act(client, op, c, "close").status_code == 409
    assert act(client, op, c, "acknowledge", rating=3).json_body["code"] == "invalid_field"
    rejected = act(client, op, c, "reject", note="Bukan kewenangan desa.")
    assert rejected.json_body["status"] == "rejected"
    assert act(client, citizen["token"], c, "reopen", note="Kenapa?").status_code == 409


def test_reopen_within_the_window_and_not_after(client, citizen, monkeypatch):
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    act(client, op, c, "start")
    act(client, op, c, "resolve", note="Sudah diperbaiki.")
    reopened = act(client, citizen["token"], c, "reopen", note="Masih tutup jam 10.")
    assert reopened.json_body["status"] == "open" and reopened.json_body["reopen_count"] == 1
    act(client, op, c, "start")
    act(client, op, c, "resolve", note="Sudah diperbaiki lagi.")
    # Six days later the window has closed
    later = utcnow() + timedelta(days=6)
    monkeypatch.setattr("chalicelib.services.complaints.utcnow", lambda: later)
    late = act(client, citizen["token"], c, "reopen", note="Masih belum.")
    assert late.status_code == 409 and late.json_body["code"] == "reopen_window_closed"


def test_reroute_from_the_village_to_an_opd_and_back(client, citizen):
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    no_reason = act(client, op, c, "reroute", unit={"type": "opd", "code": "dinkes"})
    assert no_reason.json_body["code"] == "note_required"
    unknown = act(client, op, c, "reroute", unit={"type": "opd", "code": "dinas-x"}, note="Salah alamat")
    assert unknown.status_code == 422 and unknown.json_body["code"] == "unknown_opd"
    moved = act(client, op, c, "reroute", unit={"type": "opd", "code": "dinkes"}, note="Urusan puskesmas")
    assert moved.status_code == 200 and moved.json_body["unit"]["code"] == "dinkes"
    # Now the village cannot act on it, Dinkes can, and may send it back
    assert act(client, op, c, "acknowledge").status_code == 403
    dinkes = staff_token(client, "opd.dinkes")
    back = act(client, dinkes, c, "reroute", unit={"type": "village"}, note="Urusan kantor desa")
    assert back.json_body["unit"] == {"type": "village", "code": SAMATARING, "name": "Samataring"}
    # Dinkes no longer handles it: its answer is the public view; the village's staff read the audit details
    assert "details" not in str(back.json_body["history"])
    last = read(client, c, op).json_body["history"][-1]
    assert last["details"]["from_unit"]["code"] == "dinkes" and last["note"] == "Urusan kantor desa"


# ---- moderation and the public view ---------------------------------------------------------------------------
def test_the_public_view_has_no_name_nik_or_notes(client, citizen):
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    act(client, op, c, "acknowledge", note="Akan dicek oleh Pak Sekdes")
    public = read(client, c).json_body
    for personal in ("reporter", "nik_hash", "version", "public", "rating_comment"):
        assert personal not in public
    assert citizen["nik"] not in str(public) and "Andi Baso Tenri" not in str(public)
    assert all("note" not in h and "actor" not in h for h in public["history"])
    listed = get(client, f"/v1/villages/{SAMATARING}/complaints/public").json_body["items"]
    assert c["id"] in [i["id"] for i in listed] and "reporter" not in listed[0]


def test_a_private_complaint_is_404_for_the_public_and_absent_from_the_list(client, citizen):
    c = filed(client, citizen, public=False)
    assert read(client, c).status_code == 404
    assert c["id"] not in [i["id"] for i in get(client, f"/v1/villages/{SAMATARING}/complaints/public")
                           .json_body["items"]]
    assert read(client, c, citizen["token"]).status_code == 200


def test_hiding_and_redacting_keep_the_original_for_staff_only(client, citizen):
    upload = photo(client, citizen)
    c = filed(client, citizen, text="Petugas bernama Fulan berkata kasar kepada warga di kantor.", photos=[upload])
    op = staff_token(client, f"operator.{SAMATARING}")
    # Redact the text and the photo with reasons
    redacted = act(client, op, c, "redact", target="text", note="Menyebut nama orang")
    assert redacted.status_code == 200 and redacted.json_body["text"].startswith("[Isi disunting petugas")
    act(client, op, c, "redact", target=f"photo:{upload}", note="Wajah terlihat")
    # The public sees neither the original text nor the photo
    public = read(client, c).json_body
    assert "Fulan" not in str(public) and public["photos"] == []
    assert get(client, f"/v1/complaints/{c['id']}/photos/{upload}").status_code == 404
    # The owner sees the redacted text and that the photo is withheld, not the original in the history
    own = read(client, c, citizen["token"]).json_body
    assert "Fulan" not in str(own) and own["photos"][0]["hidden"] is True
    # Staff see the original in the audit trail
    staff_view = read(client, c, op).json_body
    redaction = next(h for h in staff_view["history"] if h["action"] == "redact")
    assert "Fulan" in redaction["details"]["original"]
    # Hide: gone from the public list and public reads; the owner still reads it
    hidden = act(client, op, c, "hide", note="Memuat tuduhan pribadi")
    assert hidden.json_body["hidden"] is True
    assert read(client, c).status_code == 404
    assert c["id"] not in [i["id"] for i in get(client, f"/v1/villages/{SAMATARING}/complaints/public")
                           .json_body["items"]]
    assert read(client, c, citizen["token"]).status_code == 200
    assert act(client, op, c, "hide", note="lagi").json_body["code"] == "not_public"


def test_the_camat_reads_but_does_not_moderate_or_work(client, citizen):
    c = filed(client, citizen, public=False)
    camat = staff_token(client, f"camat.{KECAMATAN_SINJAI_TIMUR}")
    assert read(client, c, camat).status_code == 200
    for action, extra in (("acknowledge", {}), ("hide", {"note": "x"}), ("redact", {"target": "text", "note": "x"})):
        assert act(client, camat, c, action, **extra).status_code == 403
    assert get(client, f"/v1/villages/{SAMATARING}/complaints", camat).status_code == 200


# ---- lists, paging --------------------------------------------------------------------------------------------
def test_public_list_pages_newest_first(client, citizen):
    ids = [filed(client, citizen, village=PULAU_HARAPAN, title=f"Aduan ke-{i}")["id"] for i in range(3)]
    first = get(client, f"/v1/villages/{PULAU_HARAPAN}/complaints/public?limit=2").json_body
    second = get(client, f"/v1/villages/{PULAU_HARAPAN}/complaints/public?limit=2&cursor={first['next']}").json_body
    seen = [i["id"] for i in first["items"] + second["items"]]
    assert seen[:3] == list(reversed(ids))
    bad = get(client, f"/v1/villages/{SAMATARING}/complaints/public?cursor={first['next']}")
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid_cursor"
    assert get(client, f"/v1/villages/{PULAU_HARAPAN}/complaints/public?limit=٣").status_code == 400


def test_queue_status_must_be_known(client):
    op = staff_token(client, f"operator.{SAMATARING}")
    response = get(client, f"/v1/villages/{SAMATARING}/complaints?status=opened", op)
    assert response.status_code == 400 and response.json_body["code"] == "invalid_status"


# ---- categories -----------------------------------------------------------------------------------------------
def test_categories_are_public_and_only_the_admin_changes_them(client):
    config = get(client, "/v1/kabupaten/73.07/complaint-categories").json_body
    assert any(c["routes_to"] == "opd:dpupr" for c in config["categories"])
    admin = staff_token(client, "admin")
    changed = {"opds": config["opds"], "version": config["version"],
               "categories": [*config["categories"], {"code": "pasar", "name": "Pasar dan perdagangan",
                                                      "routes_to": "village", "sla_hours": 24}]}
    op = staff_token(client, f"operator.{SAMATARING}")
    assert put(client, "/v1/kabupaten/73.07/complaint-categories", changed, op).status_code == 403
    bad = {**changed, "categories": [{"code": "pasar", "name": "Pasar", "routes_to": "opd:nope", "sla_hours": 24}]}
    refused = put(client, "/v1/kabupaten/73.07/complaint-categories", bad, admin)
    assert refused.status_code == 400 and refused.json_body["code"] == "invalid_config"
    saved = put(client, "/v1/kabupaten/73.07/complaint-categories", changed, admin)
    assert saved.status_code == 200 and saved.json_body["version"] == config["version"] + 1
    stale = put(client, "/v1/kabupaten/73.07/complaint-categories", changed, admin)
    assert stale.status_code == 409 and stale.json_body["code"] == "stale_version"
    assert get(client, "/v1/kabupaten/73.08/complaint-categories").status_code == 404


def test_the_admin_creates_an_opd_officer_for_a_configured_opd_only(client):
    admin = staff_token(client, "admin")
    account = {"username": "opd.dlh.kedua", "password": "rahasia-panjang-1", "role": "opd", "name": "Sitti Aminah",
               "position": "Staf Dinas Lingkungan Hidup", "opd": "dlh"}
    created = post(client, "/v1/regions/73.07/staff", account, admin)
    assert created.status_code == 201 and created.json_body["opd"] == "dlh"
    unknown = post(client, "/v1/regions/73.07/staff", {**account, "username": "opd.x", "opd": "dinas-x"}, admin)
    assert unknown.status_code == 400 and unknown.json_body["code"] == "invalid_opd"
    missing = post(client, "/v1/regions/73.07/staff", {**account, "username": "opd.y", "opd": None}, admin)
    assert missing.status_code == 400
    not_opd = post(client, f"/v1/regions/{SAMATARING}/staff",
                   {**account, "username": "op.z", "role": "operator", "opd": "dlh"}, admin)
    assert not_opd.status_code == 400 and not_opd.json_body["code"] == "invalid_opd"
    token = post(client, "/v1/auth/login", {"username": "opd.dlh.kedua", "password": "rahasia-panjang-1"})
    assert token.status_code == 200
    queue = get(client, "/v1/kabupaten/73.07/opds/dlh/complaints", token.json_body["token"])
    assert queue.status_code == 200


def test_a_webp_photo_is_filed_and_opened_as_webp(client, citizen):
    # Given a photo as the portal sends it from Chrome (WebP)
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (48, 32), (120, 110, 90)).save(picture, "WEBP", quality=80)
    upload_id = photo(client, citizen, data=picture.getvalue(), content_type="image/webp", filename="jalan.webp")
    # When a public complaint is filed with it
    c = filed(client, citizen, title="Saluran air tersumbat", photos=[upload_id])
    # Then it is kept as WebP and its link names a .webp file
    assert [p["content_type"] for p in c["photos"]] == ["image/webp"]
    link = get(client, f"/v1/complaints/{c['id']}/photos/{upload_id}")
    assert link.status_code == 200 and link.json_body["content_type"] == "image/webp"
    import base64
    import json

    token = link.json_body["url"].rsplit("/", 1)[1].split(".")[0]
    named = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert named["f"].endswith(".webp") and named["t"] == "image/webp"
