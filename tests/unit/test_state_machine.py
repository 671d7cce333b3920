"""The request state machine, permission rules and version numbering."""

import pytest

from chalicelib.domain.requests import (
    TRANSITIONS,
    Principal,
    ServiceRequest,
    announcements,
    authorize_transition,
    can_read,
    check_note,
    next_version,
)
from chalicelib.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError

VILLAGE = "73.07.03.1001"
SAME_KECAMATAN = "73.07.03.1002"
OTHER_KECAMATAN = "73.07.09.2001"


def make_request(status: str = "submitted", village: str = VILLAGE) -> ServiceRequest:
    return ServiceRequest(
        id="R1", village=village, kecamatan=village[:8], kabupaten=village[:5], letter_type="SKD",
        letter_name="Surat Keterangan Domisili", status=status, version=1, tracking_code="ABCD-EFGH",
        nik_hash="owner", fields={}, applicant={"desa": "Samataring"}, sla_hours=8, created_at="t",
        updated_at="t", due_at="t", contact_phone="+6281234567890", identity_verified=True)


OPERATOR = Principal("operator", VILLAGE, "operator.x")
KADES = Principal("kades", VILLAGE, "kades.x")
OWNER = Principal("citizen", "73.07.03", "owner")


def test_happy_path_submitted_to_issued():
    r = make_request()
    for action, actor, target in [("review", OPERATOR, "in_review"), ("approve", OPERATOR, "approved"),
                                  ("issue", KADES, "issued")]:
        assert authorize_transition(actor, r, action).target == target
        r.status = target


def test_revision_loop():
    r = make_request("in_review")
    assert authorize_transition(OPERATOR, r, "request_revision").target == "needs_revision"
    r.status = "needs_revision"
    assert authorize_transition(OWNER, r, "resubmit").target == "submitted"


@pytest.mark.parametrize("status", ["submitted", "in_review"])
def test_reject_from_submitted_or_in_review(status):
    assert authorize_transition(OPERATOR, make_request(status), "reject").target == "rejected"


@pytest.mark.parametrize("status", ["submitted", "needs_revision"])
def test_citizen_cancels_before_review_or_during_revision(status):
    assert authorize_transition(OWNER, make_request(status), "cancel").target == "cancelled"


@pytest.mark.parametrize("status,action", [
    ("in_review", "cancel"), ("approved", "reject"), ("issued", "approve"), ("rejected", "review"),
    ("cancelled", "resubmit"), ("submitted", "approve"), ("submitted", "issue"),
])
def test_actions_not_allowed_from_state_are_conflicts(status, action):
    actor = OWNER if action in ("cancel", "resubmit") else (KADES if action == "issue" else OPERATOR)
    with pytest.raises(ConflictError) as err:
        authorize_transition(actor, make_request(status), action)
    assert err.value.code == "invalid_transition"


def test_only_the_signer_issues():
    with pytest.raises(ForbiddenError):
        authorize_transition(OPERATOR, make_request("approved"), "issue")
    # A village that makes the operator its signer lets the operator issue, and not the kades.
    assert authorize_transition(OPERATOR, make_request("approved"), "issue", signer_role="operator")
    with pytest.raises(ForbiddenError):
        authorize_transition(KADES, make_request("approved"), "issue", signer_role="operator")


def test_citizen_cannot_review_and_staff_cannot_cancel():
    with pytest.raises(ForbiddenError):
        authorize_transition(OWNER, make_request(), "review")
    with pytest.raises(ForbiddenError):
        authorize_transition(OPERATOR, make_request(), "cancel")


def test_another_citizen_sees_nothing():
    with pytest.raises(NotFoundError):
        authorize_transition(Principal("citizen", "73.07.03", "someone-else"), make_request(), "cancel")


def test_camat_reads_but_does_not_work_the_queue():
    camat = Principal("camat", "73.07.03", "camat.x")
    r = make_request()
    assert can_read(camat, r)
    with pytest.raises(ForbiddenError):
        authorize_transition(camat, r, "review")


@pytest.mark.parametrize("principal,village,expected", [
    (OPERATOR, VILLAGE, True), (OPERATOR, SAME_KECAMATAN, False), (OPERATOR, OTHER_KECAMATAN, False),
    (Principal("camat", "73.07.03", "c"), SAME_KECAMATAN, True),
    (Principal("camat", "73.07.03", "c"), OTHER_KECAMATAN, False),
    (Principal("admin", "73.07", "a"), OTHER_KECAMATAN, True),
    (Principal("admin", "73.08", "a"), VILLAGE, False),
    (Principal("opd", "73.07", "o"), VILLAGE, False),
    # A region code that merely starts with the same digits is not inside the scope.
    (Principal("camat", "73.07.0", "c"), VILLAGE, False),
])
def test_read_scope(principal, village, expected):
    assert can_read(principal, make_request(village=village)) is expected


def test_unknown_action_is_a_validation_error():
    with pytest.raises(ValidationError):
        authorize_transition(OPERATOR, make_request(), "teleport")


def test_note_required_for_reject_and_revision():
    for action in ("reject", "request_revision"):
        with pytest.raises(ValidationError) as err:
            check_note(TRANSITIONS[action], "   ")
        assert err.value.code == "note_required"
    assert check_note(TRANSITIONS["approve"], None) is None
    assert check_note(TRANSITIONS["reject"], " Berkas kurang ") == "Berkas kurang"


def test_versions_start_at_one_and_count_each_write():
    assert next_version(1) == 2
    assert next_version(41) == 42
    with pytest.raises(ValueError):
        next_version(0)


def test_announcements_per_action():
    r = make_request()
    events = {a: [(row["event"], row["audience"]["kind"]) for row in announcements(a, r, "catatan")]
              for a in TRANSITIONS}
    assert events["review"] == []
    assert events["approve"] == [("approved", "citizen"), ("awaiting_signature", "staff")]
    assert events["reject"] == [("rejected", "citizen")]
    assert events["issue"] == [("issued", "citizen")]
    assert announcements("submit", r, None)[1]["audience"] == {"kind": "staff", "region": VILLAGE,
                                                               "role": "operator"}
    assert announcements("reject", r, "alasan")[0]["payload"]["reason"] == "alasan"


# ---- identity not verified (issue 8.2) ---------------------------------------------------------------


def test_an_unverified_applicant_cannot_be_approved_until_checked_in_person():
    # Given a request whose NIK was not in the village's register
    r = make_request("in_review")
    r.identity_verified = False
    # When the operator approves, then it is refused with its own code
    with pytest.raises(ConflictError) as refused:
        authorize_transition(OPERATOR, r, "approve")
    assert refused.value.code == "identity_not_verified"
    # And the in-person check keeps the status, once
    assert authorize_transition(OPERATOR, r, "verify_identity").target_from(r.status) == "in_review"
    r.identity_verified = True
    assert authorize_transition(OPERATOR, r, "approve").target == "approved"
    with pytest.raises(ConflictError) as again:
        authorize_transition(OPERATOR, r, "verify_identity")
    assert again.value.code == "identity_already_verified"


@pytest.mark.parametrize("actor", [OWNER, Principal("camat", "73.07.03", "camat.x"), Principal("admin", "73.07", "a")])
def test_only_village_staff_verify_identity(actor):
    r = make_request("submitted")
    r.identity_verified = False
    with pytest.raises(ForbiddenError):
        authorize_transition(actor, r, "verify_identity")
