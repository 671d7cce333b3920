"""Open311 GeoReport v2 over HTTP, field by field against the specification (wiki.open311.org/GeoReport_v2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from chalicelib.domain.open311 import ApiKey
from chalicelib.storage import open311 as keys_repo
from tests.complaints_support import ROAD, VILLAGE_SERVICE, act, filed, photo
from tests.conftest import (
    PULAU_HARAPAN,
    SAMATARING,
    SINJAI_BARAT_VILLAGE,
    get,
    post,
    staff_token,
)

BASE = "/open311/v2"
FORM_TYPE = "application/x-www-form-urlencoded"
SPEC_REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code",
                       "description", "agency_responsible", "service_notice", "requested_datetime",
                       "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
                       "media_url"]


def o311(client, path, **params):
    return client.http.get(f"{BASE}/{path}" + (f"?{urlencode(params)}" if params else ""))


def requests_json(client, **params):
    response = o311(client, "requests.json", jurisdiction_id=SAMATARING, **params)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def form_post(client, fields, path="requests.json", headers=None):
    return client.http.post(f"{BASE}/{path}", body=urlencode(fields),
                            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                     **(headers or {})})


def issue_key(client, partner="Aplikasi Lapor Sinjai"):
    response = post(client, "/v1/kabupaten/73.07/open311-keys", {"partner": partner}, staff_token(client, "admin"))
    assert response.status_code == 201, response.body
    return response.json_body


def errors_of(response):
    body = json.loads(response.body)
    assert isinstance(body, list) and set(body[0]) == {"code", "description"}
    return body


# ---- discovery and services ------------------------------------------------------------------------------------
def test_discovery_in_json_and_xml(client):
    # When a client reads the discovery document
    as_json = o311(client, "discovery.json")
    as_xml = o311(client, "discovery.xml")
    # Then both formats carry every required field, and the endpoint names GeoReport v2 with both formats
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    doc = json.loads(as_json.body)
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    assert doc["endpoints"][0]["url"].endswith("/open311/v2")
    assert as_xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = ElementTree.fromstring(as_xml.body)
    assert root.tag == "discovery" and root.findtext("endpoints/endpoint/specification") == doc["endpoints"][0][
        "specification"]
    assert {f.text for f in root.findall("endpoints/endpoint/formats/format")} == {"text/xml", "application/json"}


def test_services_are_the_kabupaten_categories_with_their_handling_unit(client):
    # When a client lists the services of Samataring
    response = o311(client, "services.json", jurisdiction_id=SAMATARING)
    # Then each complaint category is a realtime service with metadata, grouped by who handles it
    assert response.status_code == 200
    services = json.loads(response.body)
    by_code = {s["service_code"]: s for s in services}
    assert list(by_code[ROAD]) == ["service_code", "service_name", "description", "metadata", "type", "keywords",
                                   "group"]
    assert by_code[ROAD]["type"] == "realtime" and by_code[ROAD]["metadata"] is True
    assert "PUPR" in by_code[ROAD]["group"]
    assert by_code[VILLAGE_SERVICE]["group"] == "Samataring"
    # And the XML list says the same
    root = ElementTree.fromstring(o311(client, "services.xml", jurisdiction_id=SAMATARING).body)
    assert {s.findtext("service_code") for s in root.findall("service")} == set(by_code)


@pytest.mark.parametrize("params,status,words", [
    ({}, 400, "jurisdiction_id wajib"),
    ({"jurisdiction_id": "sinjaikab.go.id"}, 404, "tidak ditemukan"),
    ({"jurisdiction_id": "73.07.03.1001\n"}, 404, "tidak ditemukan"),
    ({"jurisdiction_id": "73.07.03.1999"}, 404, "tidak ditemukan"),
    ({"jurisdiction_id": SINJAI_BARAT_VILLAGE}, 404, "belum aktif"),
    ({"jurisdiction_id": "73.07"}, 404, "tidak ditemukan"),
])
def test_jurisdiction_is_required_and_must_be_an_active_village(client, params, status, words):
    response = o311(client, "services.json", **params)
    assert response.status_code == status
    assert errors_of(response)[0]["code"] == status and words in errors_of(response)[0]["description"]


def test_service_definition_lists_the_attributes_in_json_and_xml(client):
    response = o311(client, f"services/{ROAD}.json", jurisdiction_id=SAMATARING)
    assert response.status_code == 200
    definition = json.loads(response.body)
    assert definition["service_code"] == ROAD
    assert {a["code"] for a in definition["attributes"]} == {"title", "kind", "public"}
    xml = ElementTree.fromstring(o311(client, f"services/{ROAD}.xml", jurisdiction_id=SAMATARING).body)
    assert xml.tag == "service_definition" and xml.findtext("service_code") == ROAD
    # An unknown code, or a path without .json/.xml, names nothing
    assert o311(client, "services/tidak_ada.json", jurisdiction_id=SAMATARING).status_code == 404
    assert o311(client, f"services/{ROAD}.html", jurisdiction_id=SAMATARING).status_code == 404
    unknown_xml = o311(client, "services/tidak_ada.xml", jurisdiction_id=SAMATARING)
    assert unknown_xml.status_code == 404 and ElementTree.fromstring(unknown_xml.body).tag == "errors"


# ---- requests -------------------------------------------------------------------------------------------------
def test_a_public_complaint_is_a_service_request_with_every_field(client, citizen):
    # Given a public complaint about a road, with a location, started by Dinas PUPR
    complaint = filed(client, citizen, category=ROAD, title="Jalan poros berlubang besar",
                      text="Lubang besar di depan SD Negeri 12, berbahaya bagi pengendara motor.",
                      lat=-5.1236, lon=120.2531)
    assert act(client, staff_token(client, "opd.dpupr"), complaint, "start").status_code == 200
    # When a client reads the village's requests
    found = [r for r in requests_json(client) if r["service_request_id"] == complaint["id"]]
    # Then it is there, with every field of the spec in order
    assert len(found) == 1
    request = found[0]
    assert list(request) == SPEC_REQUEST_FIELDS
    assert request["status"] == "open" and request["status_notes"] == "Sedang ditangani"
    assert request["service_code"] == ROAD and request["service_name"] == complaint["category_name"]
    assert request["description"].startswith("Jalan poros berlubang besar\n\nLubang besar")
    assert "PUPR" in request["agency_responsible"] and "jam kerja" in request["service_notice"]
    assert request["address"].startswith("Kelurahan Samataring, Kecamatan Sinjai Timur")
    assert (request["lat"], request["long"]) == (-5.1236, 120.2531)
    assert request["media_url"] is None
    # Times are W3C with the kabupaten's offset (WITA)
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert request[name].endswith("+08:00"), request[name]
    # And nothing personal is in it
    text = json.dumps(request)
    assert citizen["nik"] not in text and citizen["nik"][-4:] not in text and "reporter" not in text
    # And the single-request resource answers a list of one, the same
    one = o311(client, f"requests/{complaint['id']}.json", jurisdiction_id=SAMATARING)
    assert one.status_code == 200 and json.loads(one.body) == [request]


def test_private_hidden_and_other_villages_complaints_never_appear(client, citizen):
    # Given a private complaint, a hidden public one, and a public one in another village
    private = filed(client, citizen, public=False, title="Masalah pribadi dengan tetangga")
    hidden = filed(client, citizen, title="Laporan yang akan disembunyikan")
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, operator, hidden, "hide", note="Memuat data pribadi").status_code == 200
    elsewhere = filed(client, citizen, village=PULAU_HARAPAN, title="Dermaga desa rusak parah")
    # When a client lists Samataring's requests, or asks for them by id
    listed = {r["service_request_id"] for r in requests_json(client)}
    by_id = requests_json(client, service_request_id=",".join(c["id"] for c in (private, hidden, elsewhere)))
    # Then none of them is there
    assert not listed & {private["id"], hidden["id"], elsewhere["id"]}
    assert by_id == []
    for c in (private, hidden, elsewhere):
        response = o311(client, f"requests/{c['id']}.json", jurisdiction_id=SAMATARING)
        assert response.status_code == 404 and errors_of(response)[0]["code"] == 404
    # (the other village's complaint is public in its own jurisdiction)
    own = o311(client, f"requests/{elsewhere['id']}.json", jurisdiction_id=PULAU_HARAPAN)
    assert own.status_code == 200


def test_filters_status_service_code_ids_and_dates(client, citizen):
    # Given one open village complaint and one resolved road complaint
    open_one = filed(client, citizen, title="Lampu jalan padam di RT 03")
    road = filed(client, citizen, category=ROAD, title="Jembatan kayu hampir runtuh")
    pupr = staff_token(client, "opd.dpupr")
    act(client, pupr, road, "start")
    assert act(client, pupr, road, "resolve", note="Jembatan sudah diperbaiki").status_code == 200
    ids = {open_one["id"], road["id"]}
    # Then status and service_code filter them
    closed = {r["service_request_id"]: r for r in requests_json(client, status="closed")}
    assert road["id"] in closed and open_one["id"] not in closed
    assert closed[road["id"]]["expected_datetime"] is None and closed[road["id"]]["service_notice"] is None
    assert open_one["id"] in {r["service_request_id"] for r in requests_json(client, status="open")}
    both = {r["service_request_id"] for r in requests_json(client, status="open,closed")}
    assert ids <= both
    only_road = {r["service_request_id"] for r in requests_json(client, service_code=ROAD)}
    assert road["id"] in only_road and open_one["id"] not in only_road
    # And ids override every other argument
    chosen = requests_json(client, service_request_id=f"{road['id']},{open_one['id']}", status="open",
                           service_code="tidak_ada")
    assert [r["service_request_id"] for r in chosen] == [road["id"], open_one["id"]]
    # And a window in the past holds none of today's, one around now holds both, newest first
    past = requests_json(client, start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00+08:00")
    assert past == []
    now = datetime.now(UTC)
    window = requests_json(client, start_date=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           end_date=(now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    listed = [r["service_request_id"] for r in window]
    assert ids <= set(listed) and listed.index(road["id"]) < listed.index(open_one["id"])
    times = [r["requested_datetime"] for r in window]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("params,words", [
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 hari"),
    ({"start_date": "2026-01-01"}, "start_date"),
    ({"end_date": "kemarin"}, "end_date"),
    ({"status": "pending"}, "status"),
    ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "lebih awal"),
])
def test_bad_filters_are_400_with_the_spec_error_array(client, params, words):
    response = o311(client, "requests.json", jurisdiction_id=SAMATARING, **params)
    assert response.status_code == 400
    assert words in errors_of(response)[0]["description"]
    xml = o311(client, "requests.xml", jurisdiction_id=SAMATARING, **params)
    root = ElementTree.fromstring(xml.body)
    assert xml.status_code == 400 and root.tag == "errors" and root.findtext("error/code") == "400"


def test_requests_in_xml_escape_what_citizens_write(client, citizen):
    # Given a complaint whose text looks like markup
    complaint = filed(client, citizen, title="Tanda <b> & </description> di papan",
                      text='Papan pengumuman bertuliskan "<script>alert(1)</script>" & \'lainnya\' sejak kemarin.')
    # When it is read as XML
    response = o311(client, f"requests/{complaint['id']}.xml", jurisdiction_id=SAMATARING)
    # Then the document is well-formed and the text comes back exactly
    assert response.status_code == 200 and response.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    request = ElementTree.fromstring(response.body).find("request")
    assert [child.tag for child in request] == SPEC_REQUEST_FIELDS
    assert request.findtext("description") == (
        'Tanda <b> & </description> di papan\n\nPapan pengumuman bertuliskan "<script>alert(1)</script>" & '
        "'lainnya' sejak kemarin.")


def test_media_url_is_a_public_photo_until_moderation_withholds_it(client, citizen):
    # Given a public complaint with a photo
    upload = photo(client, citizen)
    complaint = filed(client, citizen, title="Sampah menumpuk di pasar", photos=[upload])
    [request] = requests_json(client, service_request_id=complaint["id"])
    # Then media_url leads (by redirect) to the photo
    assert request["media_url"] and request["media_url"].endswith(f"/open311/v2/media/{complaint['id']}/"
                                                                  f"{complaint['photos'][0]['id']}")
    path = request["media_url"].split("://", 1)[1].split("/", 1)[1]
    redirect = client.http.get(f"/{path}")
    assert redirect.status_code == 302 and redirect.headers["Location"]
    # When staff withhold the photo
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, operator, complaint, "redact", target=f"photo:{complaint['photos'][0]['id']}",
               note="Wajah warga terlihat").status_code == 200
    # Then it is no longer published
    [request] = requests_json(client, service_request_id=complaint["id"])
    assert request["media_url"] is None
    assert client.http.get(f"/{path}").status_code == 404


# ---- POST and partner keys ---------------------------------------------------------------------------------------
def spec_post(key, **overrides):
    fields = {"api_key": key, "jurisdiction_id": SAMATARING, "service_code": ROAD, "lat": "-5.1241",
              "long": "120.2510", "address_string": "Jl. Persatuan Raya, depan masjid", "email": "warga@contoh.id",
              "device_id": "tt222111", "account_id": "123456", "first_name": "Andi", "last_name": "Baso",
              "phone": "081234567890", "description": "Jalan berlubang besar di depan masjid, sudah dua minggu.",
              "media_url": "http://contoh.id/foto.jpg", "attribute[kind]": "complaint"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def test_a_partner_posts_a_request_and_it_is_a_complaint_in_the_village(client):
    # Given a partner key issued by the admin
    issued = issue_key(client)
    assert issued["api_key"].startswith("b311_") and issued["active"] is True
    # When the partner posts the spec's example request (form-encoded)
    response = form_post(client, spec_post(issued["api_key"]))
    # Then it answers the new id with its service notice, account_id null
    assert response.status_code == 200, response.body
    [created] = json.loads(response.body)
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    assert created["account_id"] is None and "PUPR" in created["service_notice"]
    # And the complaint is in the village's queue for Dinas PUPR and public in GeoReport
    from chalicelib.storage import complaints as repo

    complaint = repo.get(created["service_request_id"])
    assert complaint is not None and complaint.village == SAMATARING and complaint.unit["code"] == "dpupr"
    assert "Lokasi: Jl. Persatuan Raya" in complaint.text
    stored = json.dumps(complaint.__dict__, default=str)
    assert "081234567890" not in stored and "warga@contoh.id" not in stored and "Andi" not in stored
    [listed] = requests_json(client, service_request_id=complaint.id)
    assert listed["status"] == "open" and (listed["lat"], listed["long"]) == (-5.1241, 120.251)
    # And the XML variant answers the same shape
    xml = form_post(client, spec_post(issued["api_key"], phone="081234567891"), path="requests.xml")
    assert xml.status_code == 200 and ElementTree.fromstring(xml.body).find("request/service_request_id") is not None


def test_post_needs_a_valid_active_key_of_the_kabupaten(client):
    issued = issue_key(client, "Mitra yang dicabut")
    # Missing, forged and look-alike keys are 403 and write nothing
    from chalicelib.storage import complaints as repo

    before = len(repo.list_public(SAMATARING, 100, None)[0])
    for key in (None, "", "xyz", issued["api_key"][:-1] + "x", issued["api_key"] + "\n"):
        response = form_post(client, spec_post(key))
        assert response.status_code == 403, (key, response.body)
        assert errors_of(response)[0]["code"] == 403
    # A revoked key is 403 at once
    admin = staff_token(client, "admin")
    revoked = client.http.delete(f"/v1/kabupaten/73.07/open311-keys/{issued['id']}",
                                 headers={"Authorization": f"Bearer {admin}"})
    assert revoked.status_code == 200 and revoked.json_body["active"] is False
    assert form_post(client, spec_post(issued["api_key"])).status_code == 403
    assert len(repo.list_public(SAMATARING, 100, None)[0]) == before


def test_a_key_is_bound_to_its_kabupaten(client):
    from chalicelib.domain.open311 import key_hash

    key = "b311_00112233aabbccee_" + "A" * 43
    keys_repo.put(ApiKey("00112233aabbccee", "73.06", "Mitra Bulukumba", key_hash(key), True,
                         "2026-12-01T00:00:00.000+00:00", "admin"))
    response = form_post(client, spec_post(key))
    assert response.status_code == 403 and "tidak berlaku" in errors_of(response)[0]["description"]


@pytest.mark.parametrize("overrides,status,words", [
    ({"jurisdiction_id": None}, 400, "jurisdiction_id"),
    ({"jurisdiction_id": SINJAI_BARAT_VILLAGE}, 404, "jurisdiction_id"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "tidak_ada"}, 404, "service_code"),
    ({"lat": None, "long": None, "address_string": None}, 400, "Lokasi"),
    ({"lat": "48.85", "long": "2.35"}, 400, "luar wilayah"),
    ({"description": "pendek", "address_string": None}, 400, "10 karakter"),
    ({"description": "Jalan rusak\u202e parah sekali di sini"}, 400, "kontrol"),
    ({"phone": None, "email": None, "account_id": None, "device_id": None}, 400, "pelapor"),
    ({"attribute[warna]": "merah"}, 400, "tidak dikenal"),
])
def test_bad_posts_are_clear_errors_that_write_nothing(client, overrides, status, words):
    issued = issue_key(client)
    from chalicelib.storage import complaints as repo

    before = len(repo.list_public(SAMATARING, 100, None)[0])
    response = form_post(client, spec_post(issued["api_key"], **overrides))
    assert response.status_code == status, response.body
    assert words in errors_of(response)[0]["description"]
    assert len(repo.list_public(SAMATARING, 100, None)[0]) == before


def test_a_json_body_or_an_oversized_form_is_refused(client):
    issued = issue_key(client)
    as_json = client.http.post(f"{BASE}/requests.json", body=json.dumps(spec_post(issued["api_key"])),
                               headers={"Content-Type": "application/json"})
    assert as_json.status_code == 400 and "x-www-form-urlencoded" in errors_of(as_json)[0]["description"]
    many = form_post(client, {f"f{i}": "1" for i in range(100)})
    assert many.status_code == 400 and "terlalu banyak" in errors_of(many)[0]["description"]
    huge = form_post(client, spec_post(issued["api_key"], description="a" * 40_000))
    assert huge.status_code == 400


def test_the_daily_limit_counts_per_reporter_and_idempotency_replays(client):
    issued = issue_key(client)
    # Given a reporter who already sent five reports today through the partner
    for i in range(5):
        response = form_post(client, spec_post(issued["api_key"], phone="081300000001", email=None,
                                               description=f"Laporan nomor {i} tentang jalan rusak"))
        assert response.status_code == 200, response.body
    # When they send a sixth, it is a 429
    sixth = form_post(client, spec_post(issued["api_key"], phone="081300000001", email=None))
    assert sixth.status_code == 429 and "batas harian" in errors_of(sixth)[0]["description"]
    # But another reporter of the same partner is not limited by them
    assert form_post(client, spec_post(issued["api_key"], phone="081300000002")).status_code == 200
    # And a retried POST with the same Idempotency-Key returns the first report
    first = form_post(client, spec_post(issued["api_key"], phone="081300000003"), headers={"Idempotency-Key": "k-1"})
    again = form_post(client, spec_post(issued["api_key"], phone="081300000003"), headers={"Idempotency-Key": "k-1"})
    assert json.loads(first.body)[0]["service_request_id"] == json.loads(again.body)[0]["service_request_id"]


def test_only_the_kabupaten_admin_manages_keys_and_never_sees_them_again(client):
    admin = staff_token(client, "admin")
    issued = issue_key(client, "Portal Warga")
    listed = get(client, "/v1/kabupaten/73.07/open311-keys", admin)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    entry = next(k for k in listed.json_body["items"] if k["id"] == issued["id"])
    assert "api_key" not in entry and "key_hash" not in entry and issued["api_key"] not in listed.body.decode()
    # Other roles are 403; another kabupaten is 404; a bad name is 400
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert get(client, "/v1/kabupaten/73.07/open311-keys", operator).status_code == 403
    assert post(client, "/v1/kabupaten/73.07/open311-keys", {"partner": "X Y"}, operator).status_code == 403
    assert get(client, "/v1/kabupaten/73.06/open311-keys", admin).status_code == 404
    assert post(client, "/v1/kabupaten/73.07/open311-keys", {"partner": "a\u202eb"}, admin).status_code == 400
    assert post(client, "/v1/kabupaten/73.07/open311-keys", {"partner": "Ok", "extra": 1}, admin).status_code == 400
    assert client.http.delete("/v1/kabupaten/73.07/open311-keys/ffffffffffffffff",
                              headers={"Authorization": f"Bearer {admin}"}).status_code == 404


def test_chalice_own_answers_on_open311_paths_are_the_spec_error_array(client):
    # A method the resource does not have is 405, still as the spec's error array, in the path's format
    response = client.http.put(f"{BASE}/requests.json", body="x", headers={"Content-Type": FORM_TYPE})
    assert response.status_code == 405 and errors_of(response)[0]["code"] == 405
    xml = client.http.delete(f"{BASE}/services.xml")
    assert xml.status_code == 405 and ElementTree.fromstring(xml.body).findtext("error/code") == "405"


def test_the_list_stops_at_the_cap_newest_first(client, monkeypatch):
    # Given four public complaints in the window, and the cap lowered from 1 000 to 3 for the test
    from chalicelib.domain import open311 as rules
    from tests.helpers import citizen_login, complete_profile

    owner = citizen_login(client)
    complete_profile(client, owner)
    made = [filed(client, owner, title=f"Laporan urutan nomor {i}") for i in range(4)]
    monkeypatch.setattr(rules, "MAX_REQUESTS", 3)
    # When the list is read
    listed = [r["service_request_id"] for r in requests_json(client)]
    # Then it holds the first three matches, newest first
    assert len(listed) == 3 and listed[0] == made[-1]["id"]
    assert made[0]["id"] not in listed


def test_filters_read_the_index_a_page_of_keys_at_a_time(client, citizen, monkeypatch):
    # Given five public complaints, two of them road complaints, and index pages of two keys for the test
    from chalicelib.storage import open311 as repo

    made = [filed(client, citizen, title=f"Laporan halaman nomor {i}", **({"category": ROAD} if i in (0, 3) else {}))
            for i in range(5)]
    monkeypatch.setattr(repo, "WINDOW_PAGE", 2)
    # When the list is filtered to road complaints (the index holds keys only: the filter reads the items)
    roads = [r["service_request_id"] for r in requests_json(client, service_code=ROAD)]
    # Then both are found across the pages, newest first, and nothing else
    mine = {m["id"] for m in made}
    assert sorted(i for i in roads if i in mine) == sorted([made[3]["id"], made[0]["id"]])
    # And unfiltered, every one of them is there, newest first
    window = [r for r in requests_json(client) if r["service_request_id"] in mine]
    assert {r["service_request_id"] for r in window} == mine
    times = [r["requested_datetime"] for r in window]
    assert times == sorted(times, reverse=True)
