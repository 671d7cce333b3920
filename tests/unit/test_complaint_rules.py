"""The complaint domain without I/O: the state machine and who may take each action (citizen, village staff, opd,
camat, admin), routing by category, configuration checks, input checks, the reopen window and rating."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import complaints as rules
from chalicelib.domain.complaints import Complaint, validate_config
from chalicelib.domain.requests import Principal
from chalicelib.errors import AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError

VILLAGE = "73.07.03.1001"
OTHER_VILLAGE = "73.07.03.1002"
OWNER = Principal("citizen", "73.07.03", "hash-owner")
STRANGER = Principal("citizen", "73.07.03", "hash-other")
OPERATOR = Principal("operator", VILLAGE, "operator.a", name="Op", session_version=1)
KADES = Principal("kades", VILLAGE, "kades.a", name="Kades", session_version=1)
OTHER_OPERATOR = Principal("operator", OTHER_VILLAGE, "operator.b", session_version=1)
CAMAT = Principal("camat", "73.07.03", "camat.a", session_version=1)
OTHER_CAMAT = Principal("camat", "73.07.09", "camat.b", session_version=1)
ADMIN = Principal("admin", "73.07", "admin", session_version=1)
OTHER_ADMIN = Principal("admin", "73.08", "admin.b", session_version=1)
PUPR = Principal("opd", "73.07", "opd.dpupr", session_version=1, unit="dpupr")
DINKES = Principal("opd", "73.07", "opd.dinkes", session_version=1, unit="dinkes")
PUPR_ELSEWHERE = Principal("opd", "73.08", "opd.dpupr.bulukumba", session_version=1, unit="dpupr")


def complaint(**overrides: object) -> Complaint:
    base = Complaint(id="01JD0000000000000000000000", village=VILLAGE, kecamatan="73.07.03", kabupaten="73.07",
                     kind="complaint", category="pelayanan_desa", category_name="Pelayanan", title="Judul aduan",
                     text="Isi pengaduan yang cukup panjang.", public=True, status="open",
                     unit={"type": "village", "code": VILLAGE}, version=1, created_at="2026-12-01T01:00:00.000+00:00",
                     updated_at="2026-12-01T01:00:00.000+00:00", due_at="2026-12-02T01:00:00.000+00:00",
                     sla_hours=16, nik_hash="hash-owner")
    return replace(base, **overrides)  # type: ignore[arg-type]


OPD_COMPLAINT = {"unit": {"type": "opd", "code": "dpupr"}, "category": "jalan_jembatan"}


# ---- the state machine ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("action,status,allowed", [
    ("acknowledge", "open", True), ("acknowledge", "in_progress", False),
    ("start", "open", True), ("start", "acknowledged", True), ("start", "resolved", False),
    ("resolve", "in_progress", True), ("resolve", "acknowledged", True), ("resolve", "open", False),
    ("reject", "open", True), ("reject", "in_progress", True), ("reject", "resolved", False),
    ("close", "resolved", True), ("close", "in_progress", False),
    ("reroute", "acknowledged", True), ("reroute", "closed", False),
])
def test_unit_staff_actions_follow_the_states(action: str, status: str, allowed: bool) -> None:
    # Given a village's complaint in `status`; When its operator acts; Then only the listed states allow it
    c = complaint(status=status)
    if allowed:
        assert rules.authorize(OPERATOR, c, action).action == action
    else:
        with pytest.raises(ConflictError) as err:
            rules.authorize(OPERATOR, c, action)
        assert err.value.code == "invalid_transition"


@pytest.mark.parametrize("principal,action,expected", [
    (OWNER, "acknowledge", ForbiddenError), (OWNER, "reroute", ForbiddenError), (OWNER, "hide", ForbiddenError),
    (STRANGER, "acknowledge", ForbiddenError),  # public complaint: readable, but not theirs to act on
    (CAMAT, "acknowledge", ForbiddenError), (CAMAT, "hide", ForbiddenError),  # camat reads only
    (ADMIN, "acknowledge", ForbiddenError),  # admin moderates and re-routes, does not work the queue
    (OTHER_OPERATOR, "acknowledge", ForbiddenError),
    (PUPR, "acknowledge", ForbiddenError),  # a village's complaint is not an OPD's
    (OTHER_ADMIN, "acknowledge", ForbiddenError),
])
def test_who_may_not_act_on_a_village_complaint(principal: Principal, action: str, expected: type) -> None:
    with pytest.raises(expected):
        rules.authorize(principal, complaint(), action)


def test_a_private_complaint_is_missing_for_those_outside_its_scope() -> None:
    private = complaint(public=False)
    for outsider in (STRANGER, OTHER_OPERATOR, OTHER_CAMAT, OTHER_ADMIN, PUPR, PUPR_ELSEWHERE):
        with pytest.raises(NotFoundError):
            rules.authorize(outsider, private, "acknowledge")
        assert not rules.can_read(outsider, private)
    for insider in (OWNER, OPERATOR, KADES, CAMAT, ADMIN):
        assert rules.can_read(insider, private)


def test_an_opd_complaint_is_worked_by_that_opd_only() -> None:
    # Given a complaint routed to Dinas PUPR of 73.07
    c = complaint(**OPD_COMPLAINT, public=False)
    # Then PUPR's officers work it; Dinkes, PUPR of another kabupaten and the village staff do not
    assert rules.authorize(PUPR, c, "start").target == "in_progress"
    with pytest.raises(NotFoundError):
        rules.authorize(DINKES, c, "start")
    with pytest.raises(NotFoundError):
        rules.authorize(PUPR_ELSEWHERE, c, "start")
    with pytest.raises(ForbiddenError):
        rules.authorize(KADES, c, "start")  # the village still reads it
    assert rules.is_staff_reader(KADES, c) and not rules.is_unit_staff(KADES, c)
    # And the admin may re-route and moderate it
    assert rules.authorize(ADMIN, c, "reroute").action == "reroute"


def test_citizen_actions_are_the_owners() -> None:
    resolved = complaint(status="resolved", resolved_at="2026-12-01T02:00:00.000+00:00")
    assert rules.authorize(OWNER, resolved, "reopen").target == "open"
    assert rules.authorize(OWNER, resolved, "rate").target is None
    assert rules.authorize(OWNER, resolved, "close").target == "closed"
    with pytest.raises(ForbiddenError):
        rules.authorize(STRANGER, resolved, "reopen")
    with pytest.raises(ForbiddenError):
        rules.authorize(OPERATOR, resolved, "rate")


def test_unknown_action_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        rules.authorize(OPERATOR, complaint(), "delete")


# ---- reopen window, rating, reroute, redaction --------------------------------------------------------------
def test_reopen_window_is_counted_from_resolved_at() -> None:
    resolved_at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    c = complaint(status="resolved", resolved_at=resolved_at.isoformat())
    rules.check_reopen_window(c, resolved_at + timedelta(days=5), 5)
    with pytest.raises(ConflictError) as err:
        rules.check_reopen_window(c, resolved_at + timedelta(days=5, seconds=1), 5)
    assert err.value.code == "reopen_window_closed"


@pytest.mark.parametrize("rating", [0, 6, 3.5, True, "5", None])
def test_rating_is_an_integer_from_one_to_five(rating: object) -> None:
    with pytest.raises(ValidationError):
        rules.check_rating(rating, None, complaint(status="resolved"))
    assert rules.check_rating(5, " Cepat ", complaint(status="resolved")) == (5, "Cepat")
    with pytest.raises(ConflictError):
        rules.check_rating(4, None, complaint(status="closed", rating=3))


def test_reroute_goes_to_the_own_village_or_a_known_opd() -> None:
    config = rules.default_config("73.07")
    c = complaint(**OPD_COMPLAINT)
    assert rules.check_reroute(c, {"type": "village"}, config) == {"type": "village", "code": VILLAGE}
    assert rules.check_reroute(complaint(), {"type": "opd", "code": "dinkes"}, config) == {"type": "opd",
                                                                                            "code": "dinkes"}
    for bad, code in (({"type": "opd", "code": "nope"}, "unknown_opd"), ({"type": "desa"}, "invalid_unit"),
                      ({"type": "village", "code": OTHER_VILLAGE, "x": 1}, "invalid_unit"),
                      ({"type": "opd", "code": "dpupr"}, "same_unit")):
        with pytest.raises(AppError) as err:
            rules.check_reroute(c, bad, config)
        assert err.value.code == code


def test_redaction_targets_text_title_or_an_existing_photo() -> None:
    c = complaint(photos=[{"id": "P1", "content_type": "image/jpeg", "size": 10}])
    assert rules.redaction_target(c, "text") == "text"
    assert rules.redaction_target(c, "photo:P1") == "photo:P1"
    with pytest.raises(NotFoundError):
        rules.redaction_target(c, "photo:P2")
    with pytest.raises(ValidationError):
        rules.redaction_target(c, "reporter")


# ---- input --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lat,lon,code", [
    (-5.12, None, "invalid_location"), (float("nan"), 120.0, "invalid_location"), (True, 120.0, "invalid_location"),
    ("-5.1", "120.2", "invalid_location"), (51.5, -0.12, "location_outside_indonesia"),
    (-5.12, 150.0, "location_outside_indonesia"), (-20.0, 120.0, "location_outside_indonesia"),
])
def test_location_must_be_inside_indonesia(lat: object, lon: object, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        rules.check_location(lat, lon)
    assert err.value.code == code


def test_location_inside_indonesia_and_none_are_fine() -> None:
    assert rules.check_location(-5.1236, 120.2531) == (-5.1236, 120.2531)
    assert rules.check_location(None, None) == (None, None)


@pytest.mark.parametrize("text,code", [
    ("x" * 4001, "text_too_long"), ("pendek", "invalid_text"), ("Isi dengan \x00 karakter kendali", "invalid_text"),
    ("Isi dengan arah \u202e terbalik di dalamnya", "invalid_text"), (42, "invalid_text"),
])
def test_bad_text_is_refused(text: object, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        rules.clean_text(text)
    assert err.value.code == code


def test_text_keeps_line_breaks_and_up_to_4000_characters() -> None:
    assert rules.clean_text("Baris satu\r\nbaris dua yang panjang") == "Baris satu\nbaris dua yang panjang"
    assert len(rules.clean_text("y" * 4000)) == 4000


@pytest.mark.parametrize("title", ["Judul\nbaru", "abc", "x" * 151, "Judul\u200b tersembunyi"])
def test_title_is_one_clean_line(title: str) -> None:
    with pytest.raises(ValidationError):
        rules.clean_title(title)


# ---- configuration ------------------------------------------------------------------------------------------
def test_the_default_configuration_routes_roads_to_pupr_and_office_service_to_the_village() -> None:
    config = rules.default_config("73.07")
    validate_config("73.07", [o.to_dict() for o in config.opds], [c.to_dict() for c in config.categories])
    road = config.category("jalan_jembatan")
    assert road is not None and road.unit(VILLAGE) == {"type": "opd", "code": "dpupr"}
    office = config.category("pelayanan_desa")
    assert office is not None and office.unit(VILLAGE) == {"type": "village", "code": VILLAGE}
    assert {o.name for o in config.opds} >= {"Dinas Kesehatan", "Dinas Pendidikan", "Dinas Lingkungan Hidup"}


@pytest.mark.parametrize("opds,categories", [
    ([{"code": "dpupr", "name": "Dinas PUPR"}], [{"code": "jalan", "name": "Jalan", "routes_to": "opd:dinkes",
                                                   "sla_hours": 8}]),  # routed to an OPD not listed
    ([{"code": "DPUPR", "name": "Dinas PUPR"}], []),  # upper case code, no categories
    ([{"code": "dpupr", "name": "Dinas PUPR"}, {"code": "dpupr", "name": "Lagi"}],
     [{"code": "jalan", "name": "Jalan", "routes_to": "village", "sla_hours": 8}]),  # duplicate OPD
    ([], [{"code": "jalan", "name": "Jalan", "routes_to": "village", "sla_hours": 0}]),  # SLA 0
    ([], [{"code": "jalan", "name": "Jalan", "routes_to": "village", "sla_hours": True}]),
    ([], [{"code": "jalan", "name": "Jalan\n", "routes_to": "village", "sla_hours": 8}]),
    ([], [{"code": "ja\u0661an", "name": "Jalan", "routes_to": "village", "sla_hours": 8}]),  # Arabic-Indic digit
    ([], [{"code": "jalan", "name": "Jalan", "routes_to": "village", "sla_hours": 8, "extra": 1}]),
])
def test_bad_configuration_is_refused(opds: object, categories: object) -> None:
    with pytest.raises(ValidationError) as err:
        validate_config("73.07", opds, categories)
    assert err.value.code == "invalid_config"


# ---- notifications ------------------------------------------------------------------------------------------
def test_filing_tells_the_citizen_and_the_units_staff() -> None:
    rows = rules.announcements("file", complaint(**OPD_COMPLAINT), None, "Samataring", "Dinas PUPR")
    assert [(r["event"], r["audience"]["kind"]) for r in rows] == [("complaint_received", "citizen"),
                                                                  ("new_complaint", "staff")]
    assert rows[1]["audience"] == {"kind": "staff", "region": "73.07", "role": "opd", "opd": "dpupr"}
    assert "nik" not in str(rows[1]["payload"]).lower()


def test_escalation_goes_desa_kecamatan_kabupaten() -> None:
    c = complaint()
    assert rules.escalation_audience(1, c) == {"kind": "staff", "region": VILLAGE, "role": "operator"}
    assert rules.escalation_audience(2, c) == {"kind": "staff", "region": "73.07.03", "role": "camat"}
    assert rules.escalation_audience(3, c) == {"kind": "staff", "region": "73.07", "role": "admin"}
    opd = complaint(**OPD_COMPLAINT)
    assert rules.escalation_audience(1, opd)["opd"] == "dpupr"
    assert rules.escalation_audience(2, opd) == {"kind": "staff", "region": "73.07", "role": "admin"}
