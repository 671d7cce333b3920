"""localmode.item_text: an item's stored form reads back as exactly its text; a dictionary trained on the
store's own item shapes makes it a fraction of the text; a snapshot's dictionary numbers map into a
process that already holds others."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from localmode import item_text


def request_item(n: int) -> bytes:
    attrs = {"PK": {"S": f"REQ#01JD{n:022d}"}, "SK": {"S": "META"}, "state": {"S": "submitted"},
             "village": {"S": "73.07.08.2001"}, "letter_type": {"S": "SKD"}, "version": {"N": str(n % 7)},
             "applicant": {"M": {"name": {"S": f"Warga {n}"}, "rt": {"S": "002"}, "rw": {"S": "001"}}},
             "history": {"L": [{"M": {"at": {"S": "2026-12-02T04:00:00+00:00"}, "to": {"S": "submitted"}}}]},
             "GSI1PK": {"S": "QUEUE#73.07.08.2001"}, "GSI1SK": {"S": f"2026-12-02T04:{n % 60:02d}:00"}}
    return json.dumps(attrs, separators=(",", ":")).encode()


def event_item(n: int) -> bytes:
    attrs = {"PK": {"S": f"REQ#01JD{n:022d}"}, "SK": {"S": f"EVENT#{n:04d}"}, "action": {"S": "approve"},
             "actor": {"S": "operator.sinjai"}, "at": {"S": "2026-12-02T05:00:00+00:00"}}
    return json.dumps(attrs, separators=(",", ":")).encode()


def shape(text: bytes) -> tuple[str, ...]:
    return tuple(sorted(json.loads(text)))


@pytest.fixture(autouse=True)
def fresh_training() -> Iterator[None]:
    item_text.reset()
    yield
    item_text.reset()


def test_before_any_dictionary_an_item_is_kept_as_its_text() -> None:
    # Given a new store (no writes yet): When an item is packed
    text = request_item(1)
    stored = item_text.pack(text, shape(text))
    # Then it is its text, read back as it is
    assert stored == text and item_text.is_plain(stored) and item_text.text(stored) == text


def test_after_the_first_writes_items_deflate_to_a_fraction_and_read_back_exactly() -> None:
    # Given a store that has packed TRAIN_AT[0] writes of a village's usual shapes
    for n in range(item_text.TRAIN_AT[0]):
        text = request_item(n) if n % 3 else event_item(n)
        item_text.pack(text, shape(text))
    # When new items are packed
    texts = [request_item(n) for n in range(5000, 5100)] + [event_item(n) for n in range(5000, 5100)]
    stored = [item_text.pack(text, shape(text)) for text in texts]
    # Then each is compressed against a dictionary, a fraction of its text, and reads back byte for byte
    assert all(not item_text.is_plain(s) and item_text.dictionary_id(s) is not None for s in stored)
    assert [item_text.text(s) for s in stored] == texts
    assert sum(map(len, stored)) < 0.35 * sum(map(len, texts)), (sum(map(len, stored)), sum(map(len, texts)))


def test_a_dictionary_keeps_the_most_written_shapes_nearest_its_end_and_within_the_window() -> None:
    # Given many event writes and a few request writes
    for n in range(50):
        text = event_item(n)
        item_text.learn(text)
    item_text.learn(request_item(1))
    trained = item_text.train()
    # Then the most written shape is last (nearest: cheapest to refer to) and the size is deflate's window
    assert trained.endswith(event_item(49)) and len(trained) <= item_text.DICTIONARY_BYTES


def test_a_snapshot_s_dictionary_numbers_are_mapped_to_this_process() -> None:
    # Given a process that already holds a dictionary, and a stored form made against another one
    item_text.register(b"an unrelated dictionary of another store" * 10)
    theirs = b'{"PK":{"S":"REQ#1"},"SK":{"S":"META"},"state":{"S":"issued"}}' * 5
    mine = item_text.register(theirs)
    item_text.use(mine)
    stored = item_text.pack(request_item(3))
    as_in_file = bytes((200,)) + stored[1:]  # the file numbered it 200
    # When it is read with the file's numbering mapped to this process's
    back = item_text.renumbered(as_in_file, {200: mine})
    # Then it reads back exactly; plain text passes through unchanged
    assert item_text.text(back) == request_item(3)
    assert item_text.renumbered(request_item(4), {200: mine}) == request_item(4)
