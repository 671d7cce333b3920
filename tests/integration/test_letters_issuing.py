"""Issuing letters through the service layer on moto: races, retries, PDFs (numbering rules: tests/unit on the fake)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import ConflictError
from chalicelib.services import issuing, wiring
from chalicelib.services import letters as letters_service
from chalicelib.storage import keys
from chalicelib.storage import letters as letters_repo
from chalicelib.storage.models import LetterCounterItem
from tests.helpers import drain_issuing_queue
from tests.letters_support import (
    BIRORO,
    BONGKI,
    KALOLING,
    PASIMARANNU,
    PERSATUAN,
    SALOHE,
    TONGKE,
    approved,
    fix_clock,
    issue,
    kades,
    operator,
    run_all,
    seq_of,
    serialized_transactions,  # noqa: F401 - fixture
)

SKCK_FIELDS = {"keperluan": "Melamar pekerjaan"}


def _settings(village: str, **changes: object) -> dict:
    current = letters_service.get_letter_settings(operator(village), village)
    return letters_service.update_letter_settings(operator(village), village, dict(changes), current["version"])


def test_per_type_sequence_without_the_type_in_the_format_is_refused(citizen):
    # Letter types share classification codes (SKD and SPKTP are both 470): their numbers would collide
    with pytest.raises(Exception) as info:
        _settings(PASIMARANNU, sequence_mode="per_type", number_format="{classification}/{seq:03}/{year}")
    assert info.value.code == "invalid_number_format"


def test_fifteen_simultaneous_issues_in_one_village_all_become_letters_numbered_1_to_15(
        citizen, monkeypatch, serialized_transactions):
    # Given 15 approved requests of one village (issue 8, item 11: this gave 6 x 409 number_conflict)
    fix_clock(monkeypatch, datetime(2036, 8, 17, 1, 0, tzinfo=UTC))
    from chalicelib.services import requests as svc

    requests = [approved(citizen, SALOHE) for _ in range(15)]
    # When the kades issues all 15 at once
    decided = run_all([lambda r=r: svc.transition(kades(SALOHE), r.id, "issue", r.version, None)
                       for r in requests])
    # Then every decision is accepted at once (no 409, no waiting on the counter): all are `issuing`
    assert all(not isinstance(r, Exception) and r.status == "issuing" for r in decided), decided
    assert letters_repo.last_number(SALOHE, "ALL", 2036) == 0
    # When the village's issuing queue runs
    assert drain_issuing_queue() == 15
    # Then all 15 are issued, with the numbers 1..15 exactly once each, in the order they were decided
    from chalicelib.storage import requests as requests_repo

    after = [requests_repo.get(r.id) for r in requests]
    assert [r.status for r in after] == ["issued"] * 15
    assert sorted(seq_of(r) for r in after) == list(range(1, 16))
    assert len({r.letter["number"] for r in after}) == 15
    assert letters_repo.last_number(SALOHE, "ALL", 2036) == 15
    # and each history reads: the kades decided, the system issued
    assert [(h.action, h.to_status) for h in after[0].history][-2:] == [("issue", "issuing"), ("issued", "issued")]


def test_a_redelivered_message_issues_nothing_twice(citizen, monkeypatch):
    # Given a letter already issued through the queue
    fix_clock(monkeypatch, datetime(2036, 9, 1, 1, 0, tzinfo=UTC))
    request = issue(approved(citizen, BONGKI))
    # When SQS delivers its message again (at-least-once delivery)
    assert issuing.complete(request.id) is None
    # Then no second letter, no second number
    assert letters_repo.last_number(BONGKI, "ALL", 2036) == 1


def test_a_failed_commit_leaves_the_request_issuing_and_the_message_for_a_retry(citizen, monkeypatch):
    # Given the commit fails once (DynamoDB throttling, a crash)
    fix_clock(monkeypatch, datetime(2039, 10, 1, 1, 0, tzinfo=UTC))
    from chalicelib.services import requests as svc
    from chalicelib.storage import requests as requests_repo
    from chalicelib.storage.unit_of_work import DynamoUnitOfWork

    request = approved(citizen, BONGKI)
    svc.transition(kades(BONGKI), request.id, "issue", request.version, None)
    real = DynamoUnitOfWork.commit

    def failing(self):
        raise RuntimeError("throttled")

    monkeypatch.setattr(DynamoUnitOfWork, "commit", failing)
    # When the queue's handler runs, then it fails loudly (the message goes back to the queue)
    with pytest.raises(RuntimeError):
        drain_issuing_queue()
    assert requests_repo.get(request.id).status == "issuing"
    assert letters_repo.last_number(BONGKI, "ALL", 2039) == 0
    # When SQS delivers it again with DynamoDB back, then the letter is issued with the next number, no gap
    monkeypatch.setattr(DynamoUnitOfWork, "commit", real)
    assert drain_issuing_queue() == 1
    assert requests_repo.get(request.id).letter["number"].startswith("470/001/")


def test_the_same_request_issued_twice_at_once_is_a_stale_version(citizen, monkeypatch, serialized_transactions):
    # Given one approved request and two kepala desa sessions clicking "issue" together
    fix_clock(monkeypatch, datetime(2037, 2, 1, 1, 0, tzinfo=UTC))
    from chalicelib.services import requests as svc

    request = approved(citizen, PERSATUAN)
    results = run_all([lambda: svc.transition(kades(PERSATUAN), request.id, "issue", request.version, None)] * 2)
    # Then exactly one wins; the other is told the request changed, and only one number is used
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ConflictError) and errors[0].code == "stale_version"
    drain_issuing_queue()
    assert letters_repo.last_number(PERSATUAN, "ALL", 2037) == 1


def test_a_decision_written_before_a_timeout_is_still_queued(citizen, monkeypatch):
    # Given the decision's transaction commits but its answer is lost (a timeout under load)
    fix_clock(monkeypatch, datetime(2037, 4, 1, 1, 0, tzinfo=UTC))
    from chalicelib.errors import ExternalServiceError
    from chalicelib.services import requests as svc
    from chalicelib.storage import requests as requests_repo
    from chalicelib.storage.unit_of_work import DynamoUnitOfWork

    request = approved(citizen, PERSATUAN)
    real = DynamoUnitOfWork.commit

    def commits_then_times_out(self):
        real(self)
        raise ExternalServiceError("Basis data sedang tidak dapat diakses; silakan coba lagi.", code="storage_error")

    monkeypatch.setattr(DynamoUnitOfWork, "commit", commits_then_times_out)
    # When the kades issues, then the answer is the decision (not a 502), and the letter is queued and issued
    decided = svc.transition(kades(PERSATUAN), request.id, "issue", request.version, None)
    monkeypatch.setattr(DynamoUnitOfWork, "commit", real)
    assert decided.status == "issuing"
    assert drain_issuing_queue() == 1
    assert requests_repo.get(request.id).status == "issued"


def test_issue_on_an_issuing_request_queues_it_again_without_a_write(citizen, monkeypatch):
    # Given a decision whose queue message was lost (queue outage, local mode restarted)
    fix_clock(monkeypatch, datetime(2037, 3, 1, 1, 0, tzinfo=UTC))
    from chalicelib.services import requests as svc

    request = approved(citizen, PERSATUAN)
    decided = svc.transition(kades(PERSATUAN), request.id, "issue", request.version, None)
    drain_issuing_queue_without_handling()
    # When the kades issues it again with the version they see
    again = svc.transition(kades(PERSATUAN), request.id, "issue", decided.version, None)
    # Then nothing is written, and the queue issues it
    assert again.version == decided.version and again.status == "issuing"
    assert drain_issuing_queue() == 1
    from chalicelib.storage import requests as requests_repo

    assert requests_repo.get(request.id).status == "issued"


def drain_issuing_queue_without_handling() -> None:
    import boto3

    from chalicelib.config import get_settings

    sqs = boto3.client("sqs", region_name="ap-southeast-3")
    for m in sqs.receive_message(QueueUrl=get_settings().issue_queue_url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=get_settings().issue_queue_url, ReceiptHandle=m["ReceiptHandle"])


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def _stored_pdf(letter_id: str) -> bytes:
    letter = letters_repo.get(letter_id)
    return (Path(wiring.file_store().root) / letter.file_key).read_bytes()


def _profile(username: str, **changes: object) -> None:
    from chalicelib.domain.clock import iso, utcnow
    from chalicelib.storage import people
    from chalicelib.storage import staff as staff_repo

    current = people.get_staff(username)
    assert current is not None
    staff_repo.update(username, current.version,
                      staff_repo.StaffEvent(iso(utcnow()), "admin", "admin", "update_profile", tuple(changes)),
                      **changes)  # type: ignore[arg-type]


def test_pdf_shows_letterhead_title_number_applicant_body_and_signer(citizen, monkeypatch):
    # Given the kades of Biroro's staff profile
    fix_clock(monkeypatch, datetime(2038, 11, 23, 3, 0, tzinfo=UTC))
    _profile(f"kades.{BIRORO}", name="Andi Muhammad Yusuf", position="Kepala Desa Biroro")
    # When they issue (the token's display name says something else: the profile is what counts)
    issued = issue(approved(citizen, BIRORO), kades(BIRORO, "Nama Di Token"))
    text = _pdf_text(_stored_pdf(issued.letter["id"]))
    for expected in ("PEMERINTAH KABUPATEN SINJAI", "KECAMATAN SINJAI TIMUR", "DESA BIRORO",
                     "SURAT KETERANGAN DOMISILI", issued.letter["number"], "Andi Baso Tenri", citizen["nik"],
                     "Jl. Persatuan Raya No. 5", "Melamar pekerjaan", "23 November 2038",
                     "Andi Muhammad Yusuf", "Kepala Desa Biroro", "Desa Biroro, Kecamatan Sinjai Timur", "RW 002, Desa Biroro",
                     "ditandatangani secara elektronik"):
        assert expected in text, expected
    assert "Nama Di Token" not in text
    letter = letters_repo.get(issued.letter["id"])
    assert letter.document["signer_username"] == f"kades.{BIRORO}"
    assert letter.facts["signer_name"] == "Andi Muhammad Yusuf"


def test_office_address_paper_and_signer_nip_on_the_letter(citizen, monkeypatch):
    from pypdf import PdfReader

    # Given a village with its office address and contacts, F4 paper, and a kades who has a NIP
    fix_clock(monkeypatch, datetime(2038, 11, 23, 3, 0, tzinfo=UTC))
    _settings(KALOLING, paper="F4", address="Jl. Poros Kaloling No. 1", postcode="92671", phone="(0482) 21234",
              email="desa.kaloling@sinjaikab.go.id")
    _profile(f"kades.{KALOLING}", name="H. Baharuddin, S.Sos.", nip="197804122005011003")
    # When the kades issues
    issued = issue(approved(citizen, KALOLING))
    pdf = _stored_pdf(issued.letter["id"])
    text = _pdf_text(pdf)
    # Then the kop shows the office, not the region names again, and the NIP is printed in its groups
    assert "H. Baharuddin, S.Sos." in text and "NIP. 19780412 200501 1 003" in text
    assert "Jl. Poros Kaloling No. 1, Kode Pos 92671" in text and "Telp. (0482) 21234" in text
    assert "Desa Kaloling, Kecamatan Sinjai Timur, Sinjai" not in text
    box = PdfReader(BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (215, 330)


def test_a_signer_name_stored_in_old_settings_is_never_printed(citizen, monkeypatch):
    from chalicelib.storage import regions

    # Given settings written before the change, with a free-text signer naming someone else
    fix_clock(monkeypatch, datetime(2038, 11, 23, 3, 0, tzinfo=UTC))
    village = regions.get(BONGKI, consistent=True)
    village.settings = {**village.settings, "letters": {"signer_name": "Kepala Desa Palsu",
                                                         "signer_position": "Bupati Sinjai", "signer_nip": "1" * 18}}
    regions.save(village, expected_version=village.version)
    # When the kades issues
    issued = issue(approved(citizen, BONGKI))
    # Then the letter, its signed facts and its verification name the kades from the staff profile
    from chalicelib.storage import people

    kades_profile = people.get_staff(f"kades.{BONGKI}")
    text = _pdf_text(_stored_pdf(issued.letter["id"]))
    assert "Kepala Desa Palsu" not in text and "Bupati Sinjai" not in text and "1" * 18 not in text
    assert kades_profile.name in text
    letter = letters_repo.get(issued.letter["id"])
    assert letter.facts["signer_name"] == kades_profile.name


def test_free_text_signer_settings_are_gone(citizen):
    # An operator can no longer write a signer's name into the settings for the letter to print
    with pytest.raises(Exception) as caught:
        _settings(KALOLING, signer_name="Kepala Desa Palsu")
    assert getattr(caught.value, "code", None) == "invalid_setting"


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="needs pdftoppm and zbarimg (apt-get install poppler-utils zbar-tools)")
def test_qr_code_decodes_to_the_verification_url(citizen, monkeypatch, tmp_path):
    fix_clock(monkeypatch, datetime(2038, 11, 23, 3, 0, tzinfo=UTC))
    issued = issue(approved(citizen, TONGKE))
    (tmp_path / "letter.pdf").write_bytes(_stored_pdf(issued.letter["id"]))
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(tmp_path / "letter.pdf"),
                    str(tmp_path / "page")], check=True)
    out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")],
                         capture_output=True, text=True, check=False)
    assert issued.letter["verify_url"] in out.stdout.splitlines()
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/v1/letters/verify/[\w-]+\.[\w-]+", issued.letter["verify_url"])


def test_a_render_failure_after_commit_loses_nothing(citizen, monkeypatch):
    # Given rendering breaks while the queue issues the letter
    fix_clock(monkeypatch, datetime(2038, 11, 23, 3, 0, tzinfo=UTC))
    request = approved(citizen, SALOHE)
    real_render = issuing.render

    def broken(*args):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(issuing, "render", broken)
    issued = issue(request)
    # Then the letter is issued and numbered, only the file is missing
    assert issued.status == "issued" and issued.letter["number"]
    letter = letters_repo.get(issued.letter["id"])
    assert not wiring.file_store().exists(letter.file_key)
    # When the download link is asked for with rendering working again
    monkeypatch.setattr(issuing, "render", real_render)
    from tests.letters_support import citizen_principal

    link = letters_service.letter_link(citizen_principal(citizen), issued.id)
    # Then the PDF was regenerated from the stored data
    assert link["number"] == issued.letter["number"] and wiring.file_store().exists(letter.file_key)


def _regenerated(letter: Any, request_id: str) -> bytes:
    """The letter's PDF rendered again from the stored data after its file was lost."""
    from chalicelib.storage import requests as requests_repo

    (Path(wiring.file_store().root) / letter.file_key).unlink()
    assert issuing.ensure_pdf(letter, requests_repo.get(request_id)) is True
    return _stored_pdf(letter.id)


def test_regenerating_gives_the_same_bytes_even_after_settings_change(citizen, monkeypatch):
    fix_clock(monkeypatch, datetime(2039, 4, 2, 3, 0, tzinfo=UTC))
    issued = issue(approved(citizen, BONGKI))
    letter = letters_repo.get(issued.letter["id"])
    original = _stored_pdf(letter.id)
    # When the village changes its letterhead and the stored PDF is lost
    _settings(BONGKI, address="Alamat baru kantor desa", paper="F4")
    # Then the regenerated letter is byte-for-byte the one first issued
    assert _regenerated(letter, issued.id) == original


def test_letters_of_a_village_share_one_stored_document_and_regenerate_from_it(citizen, monkeypatch):
    # Given two letters of one village, type and signer, issued on different days
    from chalicelib.storage.models import LetterDocumentItem, LetterItem

    fix_clock(monkeypatch, datetime(2039, 6, 2, 3, 0, tzinfo=UTC))
    first = issue(approved(citizen, BONGKI))
    fix_clock(monkeypatch, datetime(2039, 6, 3, 3, 0, tzinfo=UTC))
    second = issue(approved(citizen, BONGKI))
    items = [LetterItem.get(keys.letter_pk(i.letter["id"]), keys.META) for i in (first, second)]
    # Then each letter item holds only the reference and its own date; the printed part is stored once
    refs = {dict(item.document.as_dict())["ref"] for item in items}
    assert len(refs) == 1 and [dict(i.document.as_dict())["issued_date"] for i in items] == ["2039-06-02",
                                                                                            "2039-06-03"]
    (ref,) = refs
    shared = LetterDocumentItem.get(keys.letter_document_pk(ref), keys.META).content.as_dict()
    assert shared["village_name"] and "issued_date" not in shared
    # And a letter read by a cold container (nothing cached) is whole and regenerates the same bytes
    letter = letters_repo.get(second.letter["id"])
    original = _stored_pdf(letter.id)
    letters_repo.forget_known_documents()
    cold = letters_repo.get(second.letter["id"])
    assert cold.document == letter.document and cold.document["issued_date"] == "2039-06-03"
    assert _regenerated(cold, second.id) == original


def test_a_letter_stored_with_its_whole_document_still_reads(citizen, monkeypatch):
    # Given a letter as issued before documents were shared: its whole document inline
    from chalicelib.storage.models import LetterItem

    fix_clock(monkeypatch, datetime(2039, 7, 2, 3, 0, tzinfo=UTC))
    issued = issue(approved(citizen, BONGKI))
    whole = letters_repo.get(issued.letter["id"]).document
    item = LetterItem.get(keys.letter_pk(issued.letter["id"]), keys.META)
    item.update(actions=[LetterItem.document.set(whole)])
    letters_repo.forget_known_documents()
    # Then it reads as the same letter
    assert letters_repo.get(issued.letter["id"]).document == whole


def test_counter_item_records_the_last_letter(citizen, monkeypatch):
    fix_clock(monkeypatch, datetime(2039, 5, 2, 3, 0, tzinfo=UTC))
    issued = issue(approved(citizen, PERSATUAN))
    item = LetterCounterItem.get(keys.letter_counter_pk(PERSATUAN, "ALL", 2039), keys.META, consistent_read=True)
    assert int(item.seq) == 1 and item.last_letter_id == issued.letter["id"]


def test_an_expired_pdf_in_the_versioned_bucket_is_rendered_again_byte_for_byte(citizen, monkeypatch):
    """The stack keeps a letter's PDF as a cache (infra/balai.yaml expire-cached-letter-pdfs): S3's expiry of the
    current version in the versioned bucket leaves a delete marker, and the next download must render it again."""
    import boto3

    from tests.integration.test_attachments_s3 import file_store_on
    from tests.letters_support import citizen_principal

    fix_clock(monkeypatch, datetime(2039, 5, 6, 3, 0, tzinfo=UTC))
    issued = issue(approved(citizen, BONGKI))
    letter = letters_repo.get(issued.letter["id"])
    original = _stored_pdf(letter.id)
    local_root = Path(wiring.file_store().root)
    # Given the letter's PDF, and what a render reads (the lambang), in a versioned bucket, as the stack keeps them
    s3 = boto3.client("s3", region_name="ap-southeast-3")
    bucket = "balai-test-pdf-cache"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for path in (local_root / "logos").rglob("*") if (local_root / "logos").exists() else ():
        if path.is_file():
            s3.put_object(Bucket=bucket, Key=str(path.relative_to(local_root)), Body=path.read_bytes())
    store = file_store_on(monkeypatch, s3, bucket)
    next(store)
    s3.put_object(Bucket=bucket, Key=letter.file_key, Body=original, ContentType="application/pdf")
    # When the lifecycle rule expires it (a delete marker on top of the version)
    s3.delete_object(Bucket=bucket, Key=letter.file_key)
    assert not wiring.file_store().exists(letter.file_key)
    # And the citizen asks for her letter a month later
    link = letters_service.letter_link(citizen_principal(citizen), issued.id)
    # Then it is rendered again and stored: the same bytes she got when it was issued
    assert link["number"] == issued.letter["number"]
    assert s3.get_object(Bucket=bucket, Key=letter.file_key)["Body"].read() == original
    versions = s3.list_object_versions(Bucket=bucket, Prefix=letter.file_key)
    assert len(versions["Versions"]) == 2 and len(versions["DeleteMarkers"]) == 1
    next(store, None)
