"""Open311 GeoReport v2 rules, field by field against the specification (wiki.open311.org/GeoReport_v2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest

from chalicelib.domain import open311 as o

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
WITA = timezone(timedelta(hours=8))


# ---- dates -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("2010-01-01T00:00:00Z", datetime(2010, 1, 1, tzinfo=UTC)),
    ("1994-11-05T08:15:30-05:00", datetime(1994, 11, 5, 13, 15, 30, tzinfo=UTC)),
    ("2026-12-01T08:00:00+08:00", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    ("2026-12-01T08:00:00 08:00", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),  # an unencoded "+" in a query
    ("2026-12-01T08:00Z", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ("2026-12-01T08:00:00.123Z", datetime(2026, 12, 1, 8, 0, 0, 123000, tzinfo=UTC)),
])
def test_w3c_datetimes_with_a_zone_are_read(text, expected):
    assert o.parse_w3c("start_date", text) == expected


@pytest.mark.parametrize("text", [
    "2010-01-01", "2010-01-01T00:00:00", "2010-01-01T00:00:00Z\n", "２０１０-01-01T00:00:00Z",
    "2010-13-01T00:00:00Z", "2010-02-30T00:00:00Z", "2010-01-01T00:00:00+15:00", "2010-01-01 00:00:00Z",
    "1262304000", "",
])
def test_anything_else_is_a_400_naming_the_parameter(text):
    with pytest.raises(o.Open311Error) as err:
        o.parse_w3c("end_date", text)
    assert err.value.status == 400 and "end_date" in err.value.description


def test_times_are_shown_in_the_kabupaten_zone_with_offset():
    assert o.w3c(datetime(2026, 12, 1, 1, 30, 5, 999, tzinfo=UTC), WITA) == "2026-12-01T09:30:05+08:00"
    assert o.w3c(None, WITA) is None


# ---- request list query ------------------------------------------------------------------------------------
def test_default_window_is_the_last_90_days():
    q = o.parse_request_query({}, NOW)
    assert (q.start, q.end, q.limit) == (NOW - timedelta(days=90), NOW, 1000)


def test_one_end_of_the_window_extends_90_days_from_it():
    start = o.parse_request_query({"start_date": "2026-01-01T00:00:00Z"}, NOW)
    assert start.end == datetime(2026, 4, 1, tzinfo=UTC)
    end = o.parse_request_query({"end_date": "2026-04-01T00:00:00Z"}, NOW)
    assert end.start == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_window_longer_than_90_days_or_reversed_is_refused():
    with pytest.raises(o.Open311Error, match="90 hari"):
        o.parse_request_query({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, NOW)
    with pytest.raises(o.Open311Error, match="lebih awal"):
        o.parse_request_query({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, NOW)


def test_ids_override_every_other_argument():
    q = o.parse_request_query({"service_request_id": "01ABC,01DEF,01ABC", "status": "bogus",
                               "start_date": "not a date"}, NOW)
    assert q.ids == ("01ABC", "01DEF") and q.start is None


def test_filters_are_comma_lists_and_empty_means_absent():
    q = o.parse_request_query({"status": "open,closed", "service_code": "jalan,air", "start_date": ""}, NOW)
    assert q.statuses == {"open", "closed"} and q.service_codes == {"jalan", "air"}
    assert q.matches("in_progress", "jalan") and not q.matches("in_progress", "lampu")
    only_closed = o.parse_request_query({"status": "closed"}, NOW)
    assert only_closed.matches("rejected", "x") and only_closed.matches("resolved", "x")
    assert not only_closed.matches("acknowledged", "x")


@pytest.mark.parametrize("params", [
    {"status": "pending"}, {"status": "open\n"}, {"service_code": "jalan;drop"},
    {"service_request_id": ",".join(f"ID{i}" for i in range(101))}, {"service_request_id": "01ÄBC"},
])
def test_bad_filters_are_400(params):
    with pytest.raises(o.Open311Error) as err:
        o.parse_request_query(params, NOW)
    assert err.value.status == 400


# ---- shapes ------------------------------------------------------------------------------------------------
REPORT = o.Report(
    id="01JDX", status="in_progress", service_code="jalan", service_name="Jalan rusak",
    description="Jalan berlubang di depan pasar", requested=datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
    updated=datetime(2026, 11, 30, 2, 0, tzinfo=UTC), status_notes="Tim sudah ke lokasi",
    agency_responsible="Dinas PUPR", service_notice="Ditangani dalam 72 jam kerja",
    expected=datetime(2026, 12, 4, 1, 0, tzinfo=UTC), address="Kelurahan Samataring, Kabupaten Sinjai",
    zipcode="92615", lat=-5.12, lon=120.25, media_url="https://api.example/open311/v2/media/01JDX/p1")

SPEC_REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code",
                       "description", "agency_responsible", "service_notice", "requested_datetime",
                       "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
                       "media_url"]


def test_a_request_has_every_field_of_the_spec_in_its_order():
    view = o.request_view(REPORT, WITA)
    assert list(view) == SPEC_REQUEST_FIELDS
    assert view["status"] == "open"
    assert view["requested_datetime"] == "2026-11-30T09:00:00+08:00"
    assert view["expected_datetime"] == "2026-12-04T09:00:00+08:00"
    assert (view["lat"], view["long"]) == (-5.12, 120.25)


@pytest.mark.parametrize("status,expected", [("open", "open"), ("acknowledged", "open"), ("in_progress", "open"),
                                             ("resolved", "closed"), ("closed", "closed"), ("rejected", "closed")])
def test_status_maps_to_open_or_closed(status, expected):
    assert o.open311_status(status) == expected


def test_service_list_entry_and_definition_follow_the_spec():
    entry = o.service_view(o.Service("jalan", "Jalan rusak", "Jalan desa rusak", "Dinas PUPR"))
    assert list(entry) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert (entry["metadata"], entry["type"]) == (True, "realtime")
    definition = o.service_definition("jalan")
    assert definition["service_code"] == "jalan"
    for attr in definition["attributes"]:
        assert set(attr) == {"variable", "code", "datatype", "required", "datatype_description", "order",
                             "description", "values"}
        assert attr["datatype"] in {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    orders = [a["order"] for a in definition["attributes"]]
    assert len(set(orders)) == len(orders) and min(orders) == 1


def test_discovery_has_every_required_field():
    doc = o.discovery("https://api.example/open311/v2", "kontak", "kunci")
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = doc["endpoints"][0]
    assert set(endpoint) == {"specification", "url", "changeset", "type", "formats"}
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


# ---- XML ---------------------------------------------------------------------------------------------------
def test_xml_follows_the_spark_convention_with_declaration():
    text = o.to_xml("service_requests", [o.request_view(REPORT, WITA)])
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(text.encode())
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [child.tag for child in request] == SPEC_REQUEST_FIELDS
    assert request.findtext("address_id") == "" and request.findtext("long") == "120.25"


def test_xml_escapes_markup_and_drops_what_xml_cannot_carry():
    nasty = o.Report(**{**REPORT.__dict__, "description": "</description><x>&amp; \"q\" 'a' <b>\x07\x00 ok\ufffe"})
    text = o.to_xml("service_requests", [o.request_view(nasty, WITA)])
    root = ElementTree.fromstring(text.encode())  # well-formed whatever the text held
    assert root.find("request").findtext("description") == "</description><x>&amp; \"q\" 'a' <b> ok"
    assert len(root.find("request")) == len(SPEC_REQUEST_FIELDS)


def test_xml_nested_lists_and_errors():
    definition = ElementTree.fromstring(o.to_xml("service_definition", o.service_definition("air")).encode())
    values = definition.findall("attributes/attribute/values/value")
    assert {v.findtext("key") for v in values} >= {"complaint", "aspiration", "true", "false"}
    errors = ElementTree.fromstring(o.to_xml("errors", o.forbidden("api_key tidak valid").body()).encode())
    assert errors.findtext("error/code") == "403" and errors.findtext("error/description") == "api_key tidak valid"


# ---- POST ---------------------------------------------------------------------------------------------------
def form(text: str) -> dict[str, list[str]]:
    return parse_qs(text, keep_blank_values=True)


def test_a_spec_style_post_is_read():
    # The spec's own example request, with a location in Sinjai
    new = o.parse_new_report(form(
        "api_key=xyz&jurisdiction_id=73.07.03.1001&service_code=jalan&lat=-5.1234&long=120.2456"
        "&address_string=Jl.+Persatuan+Raya&email=warga%40contoh.id&device_id=tt222111&account_id=123456"
        "&first_name=Andi&last_name=Baso&phone=081234567890&description=Jalan+berlubang+besar"
        "&media_url=http%3A%2F%2Fcontoh.id%2Ffoto.jpg&attribute[kind]=complaint&attribute[public]=true"))
    assert (new.service_code, new.kind, new.public, new.lat, new.lon) == ("jalan", "complaint", True, -5.1234,
                                                                           120.2456)
    assert new.title == "Jalan berlubang besar" and new.reporter == "phone:081234567890"


@pytest.mark.parametrize("body,status,words", [
    ("description=x&lat=-5&long=120", 400, "service_code"),
    ("service_code=jalan&lat=-5&long=120", 400, "description"),
    ("service_code=jalan&description=x", 400, "Lokasi"),
    ("service_code=jalan&description=x&lat=-5", 400, "bersama"),
    ("service_code=jalan&description=x&lat=52.5&long=13.4", 400, "luar wilayah"),
    ("service_code=jalan&description=x&lat=%EF%BC%95&long=120", 400, "desimal"),
    ("service_code=jalan&description=x%00&lat=-5&long=120", 400, "kontrol"),
    ("service_code=jalan&description=x&lat=-5&long=120&attribute[color]=red", 400, "tidak dikenal"),
    ("service_code=jalan&description=x&lat=-5&long=120&attribute[kind]=gossip", 400, "aspiration"),
    ("service_code=jalan&service_code=air&description=x&lat=-5&long=120", 400, "lebih dari sekali"),
    ("service_code=jalan&description=x&lat=-5&long=120&debug=1", 400, "tidak dikenal"),
    ("service_code=..%2F..&description=x&lat=-5&long=120", 404, "service_code"),
    ("service_code=jalan&description=" + "a" * 4001 + "&lat=-5&long=120", 400, "terlalu panjang"),
])
def test_bad_posts_are_refused_with_the_spec_status(body, status, words):
    with pytest.raises(o.Open311Error) as err:
        o.parse_new_report(form(body))
    assert err.value.status == status and words in err.value.description


def test_an_address_alone_is_a_location():
    new = o.parse_new_report(form("service_code=jalan&description=Lampu+mati%0Adi+lorong&address_string=RT+02"
                                  "&email=Warga%40Contoh.ID"))
    assert (new.lat, new.address_string, new.title, new.public) == (None, "RT 02", "Lampu mati", True)
    assert new.reporter == "email:warga@contoh.id"


# ---- api keys ------------------------------------------------------------------------------------------------
def test_api_keys_are_stored_as_hashes_and_named_by_their_id():
    key_id, key, stored = o.new_api_key()
    assert key_id in key and stored != key and len(stored) == 64
    assert o.key_id_of(key) == key_id and o.key_matches(key, stored)
    assert not o.key_matches(key[:-1] + ("A" if key[-1] != "A" else "B"), stored)
    for bad in (None, "", "xyz", key + "\n", key.replace("b311", "B311"), "b311_" + "g" * 16 + "_" + "a" * 43):
        assert o.key_id_of(bad) is None
