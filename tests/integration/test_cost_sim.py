"""bench/cost.py end to end: a one-letter sample through the real code (its own process: the simulation
starts its own moto and environment), counted and priced, with the bars printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_one_letter_sample_is_counted_and_priced(tmp_path: Path) -> None:
    # When the cost model drives one letter through the code and saves its counts
    counts = tmp_path / "counts.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "cost.py"), "--sample-letters", "1",
                          "--sample-villages", "1", "--save-counts", str(counts), "--json"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    letter = out["counted"]["per_letter"]
    # Then the letter's path was counted: API calls, stream handler runs, one issuing run, DynamoDB units
    assert letter["invocations"]["api"] >= 15 and letter["invocations"]["issue_letters"] == 1
    assert letter["invocations"]["stream"] >= 1 and letter["stream_records"] >= 10
    assert letter["rru"] > 0 and letter["wru"] > letter["rru"]
    # and the bytes of every answer as sent: the browser-like calls accept gzip, so the large ones went out
    # compressed (bodies and headers together are fewer bytes than the bodies alone uncompressed)
    assert letter["answers"] == letter["invocations"]["api"]
    assert 0 < letter["answer_bytes"] < letter["answer_identity_bytes"]
    assert out["counted"]["endpoints"]["GET /v1/villages/{desa}/letter-types"]["answer_bytes"] < 2000
    # and the messages the local adapters wrote: a login code at submit, and at the download either a second
    # code or a refresh of the live session (no SMS); status SMS only as the message policy's last resort
    sms = out["counted"]["messages_by_event"]["sms"]
    refreshes = out["counted"]["endpoints"].get("POST /v1/auth/refresh", {}).get("per_letter", 0)
    assert sms["login_code"] + refreshes == 2 and sum(sms.values()) == letter["sms"]
    assert "message policy" in out["counted"]["policy"]
    # and S3: three uploads (straight to their final keys: no copy at submission) and the PDF (no tag request per file
    # when the request closes); links for attachments and the letter
    assert letter["s3_puts"] == 4 and letter["pdf_downloads"] == 1 and letter["attachment_views"] == 3
    # and what the letter left in the table, item by item: its request and audit events kept, its outbox rows
    # expiring after the outbox retention (BALAI_OUTBOX_RETENTION_DAYS, 35), the register left out; and the
    # stored PDF with the village's lambang (~23 KB; a letter without one is ~5 KB)
    stored = out["counted"]["storage"]["per_letter"]
    assert stored["request"]["kept"] > 1000 and stored["request"]["index"] > 0 and stored["event"]["kept"] > 0
    assert stored["outbox"]["kept"] == 0 and set(stored["outbox"]["ttl"]) == {"35"}
    assert "resident" not in stored and "bill" in out["counted"]["storage"]["per_village_month"]
    assert out["counted"]["pdf_bytes"] > 15 * 1024
    # and a complaint, driven for its storage only (its work is not in the letter's counts)
    complaint = out["counted"]["storage"]["per_complaint"]
    assert complaint["complaint"]["kept"] > 1000 and complaint["complaint_event"]["kept"] > 0
    assert set(complaint["outbox"]["ttl"]) == {"35"} and not any(k.startswith("complaint: ")
                                                                 for k in out["counted"]["endpoints"])
    # and one run of each schedule
    assert set(out["counted"]["per_schedule_run"]) == {"outbox_retry", "sla_escalation", "daily_digest"}
    # and the bill and the bars come from those counts
    names = [b["name"] for b in out["bars"]]
    assert names == ["Sinjai: everything except messages", "SMS per issued letter", "Idle month",
                     "10x Sinjai: everything except messages"]
    sinjai = out["estimates"][0]
    assert sinjai["usage"]["sms"] == pytest.approx(sinjai["profile"]["letters"] * letter["sms"]
                                                   + sinjai["profile"]["complaints"] * letter["sms"] * 0.55, rel=1e-3)
    # And the saved counts price again without a simulation
    again = subprocess.run([sys.executable, str(ROOT / "bench" / "cost.py"), "--counts", str(counts),
                            "--profile", "idle"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert again.returncode == 0 and "everything else: $" in again.stdout and "Idle month" in again.stdout


def test_whatsapp_logins_are_driven_through_the_webhook_and_send_no_sms(tmp_path: Path) -> None:
    # When every citizen of a two-letter sample logs in by WhatsApp message
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "cost.py"), "--sample-letters", "2",
                          "--sample-villages", "1", "--whatsapp-share", "1", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    counted = json.loads(run.stdout)["counted"]
    endpoints = counted["endpoints"]
    # Then each first login went through the real endpoints, Meta's signed delivery included, and no login code
    # was sent by SMS
    assert endpoints["POST /v1/webhooks/whatsapp"]["per_letter"] >= 1
    assert endpoints["POST /v1/auth/whatsapp"]["per_letter"] == endpoints["POST /v1/webhooks/whatsapp"]["per_letter"]
    assert endpoints["POST /v1/auth/whatsapp/verify"]["per_letter"] == 3 * endpoints["POST /v1/auth/whatsapp"][
        "per_letter"]  # two pending polls (ASSUMPTIONS) and the one that logs in
    assert counted["messages_by_event"].get("sms", {}).get("login_code", 0) == 0
