"""The letter and issued-request items keep nothing derivable (issue 14): new shapes fit their write units, and
items stored in the old shape read, link and regenerate exactly as before."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services import issuing, wiring
from chalicelib.services import letters as letters_service
from chalicelib.services import requests as requests_service
from chalicelib.storage import keys
from chalicelib.storage import letters as letters_repo
from chalicelib.storage import requests as requests_repo
from chalicelib.storage.models import LetterItem, RequestItem
from tests.letters_support import BONGKI, approved, citizen_principal, fix_clock, issue, kades, operator

_spec = importlib.util.spec_from_file_location("balai_bench_cost", Path(__file__).parents[2] / "bench" / "cost.py")
assert _spec and _spec.loader
cost = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = cost  # dataclasses resolve annotations through sys.modules
    _spec.loader.exec_module(cost)


def _raw(model: Any, pk: str) -> dict[str, Any]:
    """The item as DynamoDB holds it (attribute names and typed values), as bench/cost.py sizes it."""
    return dict(model._get_connection().get_item(pk, keys.META, consistent_read=True)["Item"])


def _pdf(letter: Any) -> bytes:
    return (Path(wiring.file_store().root) / letter.file_key).read_bytes()


def _regenerated(letter: Any, request_id: str) -> bytes:
    (Path(wiring.file_store().root) / letter.file_key).unlink()
    assert issuing.ensure_pdf(letter, requests_repo.get(request_id)) is True
    return _pdf(letter)


def _answers(citizen: dict[str, Any], request_id: str) -> dict[str, Any]:
    """What the API shows of the request and its letter to its owner and to the village's staff."""
    owner = citizen_principal(citizen)
    views = {who: letters_service.request_view(p, request_id)
             for who, p in (("owner", owner), ("operator", operator(BONGKI)), ("kades", kades(BONGKI)))}
    for view in views.values():  # a fresh link each time: its URL is signed for now
        (view.get("letter") or {}).pop("download", None)
    link = letters_service.letter_link(owner, request_id)
    link.pop("url")
    return {**views, "link": link}


@pytest.fixture()
def issued(citizen: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    fix_clock(monkeypatch, datetime(2039, 9, 2, 3, 0, tzinfo=UTC))
    return issue(approved(citizen, BONGKI))


def test_a_new_letter_item_fits_one_kilobyte_and_rebuilds_its_url_and_file_key(issued):
    # Given a letter issued now
    raw = _raw(LetterItem, keys.letter_pk(issued.letter["id"]))
    # Then its item keeps neither the verification URL nor the PDF's key, and its transactional put is 2 WRU
    assert "verify_url" not in raw and "file_key" not in raw
    assert cost.item_size(raw) <= 1024
    # And reading it gives them back as issued
    letter = letters_repo.get(issued.letter["id"])
    assert letter.verify_url == issued.letter["verify_url"] == f"http://127.0.0.1:8000/v1/letters/verify/{letter.token}"
    assert letter.file_key == f"letters/{BONGKI}/2039/{letter.id}.pdf" and wiring.file_store().exists(letter.file_key)


def test_an_issued_request_item_fits_two_kilobytes_and_reads_whole(issued):
    # Given the request as the issuing queue committed it
    raw = _raw(RequestItem, keys.request_pk(issued.id))
    # Then the spent decision is gone, and what the key and the village code say; each attachment keeps
    # neither its name nor its derivable file key
    assert not {"issue_order", "id", "kecamatan", "kabupaten"} & raw.keys()
    stored = raw["attachments"]["M"]
    assert stored and all("name" not in a["M"] and "file_key" not in a["M"] for a in stored.values())
    # And the item's transactional put is 4 WRU (under 2 KB), not 6
    assert cost.item_size(raw) <= 2048
    # And the request reads whole
    read = requests_repo.get(issued.id)
    assert (read.id, read.kecamatan, read.kabupaten) == (issued.id, "73.07.03", "73.07")
    for name, data in read.attachments.items():
        assert data["name"] == name and data["file_key"] == f"attachments/{BONGKI}/{data['upload_id']}"


def test_a_letter_prints_the_base_url_it_was_issued_with_after_the_deployment_moves(issued, monkeypatch):
    # Given a letter issued under the current public base URL
    letter = letters_repo.get(issued.letter["id"])
    original = _pdf(letter)
    # When the deployment moves to another base URL and the cached PDF has expired
    from chalicelib import config

    moved = config.get_settings().model_copy(update={"public_base_url": "https://balai.example.go.id"})
    monkeypatch.setattr(config, "get_settings", lambda: moved)
    letters_repo.forget_known_documents()
    again = letters_repo.get(issued.letter["id"])
    # Then the letter keeps its own URL and regenerates byte for byte
    assert again.verify_url == letter.verify_url and _regenerated(again, issued.id) == original


def test_a_letter_and_request_stored_in_the_old_shape_read_link_and_regenerate_as_before(issued, citizen):
    # Given the answers and the PDF of a letter issued now
    letter = letters_repo.get(issued.letter["id"])
    original = _pdf(letter)
    before = _answers(citizen, issued.id)
    request = requests_repo.get(issued.id)
    # When its items are put back as they were stored before the trims: the letter with its whole document
    # (no verify_prefix), verify_url and file_key; the request with its id, kecamatan, kabupaten, decision and
    # whole attachments, one of them an upload copied out of the old staging prefix (its own file key)
    whole = {k: v for k, v in letter.document.items() if k != "verify_prefix"}
    LetterItem(keys.letter_pk(letter.id), keys.META).update(actions=[
        LetterItem.document.set(whole), LetterItem.verify_url.set(letter.verify_url),
        LetterItem.file_key.set(letter.file_key)])
    old_attachments = {name: dict(data) for name, data in request.attachments.items()}
    staged = sorted(old_attachments)[0]
    old_attachments[staged]["file_key"] = f"attachments/{BONGKI}/copied-{old_attachments[staged]['upload_id']}"
    wiring.file_store().copy(request.attachments[staged]["file_key"], old_attachments[staged]["file_key"])
    decision = {"signer": {"name": "Andi Baso", "position": "Kepala Desa", "nip": None, "username": "kades"},
                "decided_at": "2039-09-02T02:59:00Z", "decision_id": "01JOLDDECISION0000000000000"}
    RequestItem(keys.request_pk(issued.id), keys.META).update(actions=[
        RequestItem.attachments.set(old_attachments), RequestItem.issue_order.set(decision),
        RequestItem.id.set(issued.id), RequestItem.kecamatan.set("73.07.03"), RequestItem.kabupaten.set("73.07")])
    letters_repo.forget_known_documents()
    # Then the letter reads its stored values, and the request its stored attachments and decision
    old = letters_repo.get(letter.id)
    assert (old.verify_url, old.file_key, old.document) == (letter.verify_url, letter.file_key, whole)
    read = requests_repo.get(issued.id)
    assert read.attachments == old_attachments and read.issue_order == decision
    assert (read.id, read.kecamatan, read.kabupaten) == (issued.id, "73.07.03", "73.07")
    # And the API answers are the same, the staged attachment is served from its own key
    assert _answers(citizen, issued.id) == before
    served = requests_service.get(operator(BONGKI), issued.id).attachments[staged]
    assert served["file_key"].startswith(f"attachments/{BONGKI}/copied-")
    # And the letter regenerates byte for byte
    assert _regenerated(old, issued.id) == original
