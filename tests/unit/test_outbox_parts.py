"""An outbox row per transition: its parts, as the domain builds them and as storage keeps them."""

from __future__ import annotations

from chalicelib.domain.outbox import MessagePart, part_key, part_message_id, part_of, transition_outbox
from chalicelib.storage.outbox import more_parts, parts_from

VILLAGE = "73.07.03.1001"
AT = "2026-12-03T08:00:00.000+00:00"
CITIZEN = {"kind": "citizen", "nik_hash": "h", "phone": "+6281234500001"}
UNIT = {"kind": "staff", "region": VILLAGE, "role": "operator"}
BASE = {"complaint_id": "C1", "village": VILLAGE, "title": "Jalan rusak"}


def test_a_change_with_two_audiences_is_one_row_and_one_without_any_is_none() -> None:
    # Given a reroute's two announcements (the citizen's with a status label the unit's lacks)
    rows = [{"event": "complaint_status", "audience": CITIZEN, "payload": {**BASE, "status_label": "Dialihkan"}},
            {"event": "new_complaint", "audience": UNIT, "payload": {**BASE, "note": "ke PUPR"}}]
    # When the service turns them into outbox rows
    (message,) = transition_outbox(rows, "R1", VILLAGE, AT)
    # Then one row holds both, the first as its event/audience/payload
    assert (message.event, message.audience, message.request_id) == ("complaint_status", CITIZEN, None)
    assert message.parts == (MessagePart("complaint_status", CITIZEN, rows[0]["payload"]),
                             MessagePart("new_complaint", UNIT, rows[1]["payload"]))
    assert transition_outbox([], "R2", VILLAGE, AT) == []


def test_storage_keeps_only_what_a_later_part_changes_and_reads_it_back_whole() -> None:
    # Given a row whose second part drops one key of the first's payload and adds another
    rows = [{"event": "complaint_status", "audience": CITIZEN, "payload": {**BASE, "status_label": "Dialihkan"}},
            {"event": "new_complaint", "audience": UNIT, "payload": {**BASE, "note": "ke PUPR"}},
            {"event": "new_complaint", "audience": {**UNIT, "role": "kades"}, "payload": {**BASE,
                                                                                          "status_label": "Dialihkan"}}]
    (message,) = transition_outbox(rows, "R1", VILLAGE, AT)
    # When storage writes its later parts
    stored = more_parts(message)
    # Then a part keeps only its differences from the first's payload, and reads back as it was
    assert stored == [{"event": "new_complaint", "audience": UNIT, "payload": {"note": "ke PUPR"},
                       "omit": ["status_label"]},
                      {"event": "new_complaint", "audience": {**UNIT, "role": "kades"}}]
    assert parts_from(message.payload, stored) == message.more
    # And a one-part row (as every row before parts) has nothing stored and no later parts
    (single,) = transition_outbox(rows[:1], "R2", VILLAGE, AT)
    assert more_parts(single) is None and parts_from(single.payload, None) == ()


def test_delivery_keys_and_message_ids_are_unique_per_part_and_the_first_part_keeps_the_old_ones() -> None:
    assert [part_key(i, "sms:citizen") for i in range(3)] == ["sms:citizen", "1/sms:citizen", "2/sms:citizen"]
    assert [part_of(part_key(i, "email:operator.1")) for i in range(3)] == [0, 1, 2]
    assert [part_message_id("R1", i) for i in range(2)] == ["R1", "R1-1"]
