"""Monthly AWS cost of one Balai deployment, counted from a simulated sample of a month through the real code.

Usage:
    python bench/cost.py [--profile sinjai|10x|idle ...] [--sample-letters N] [--sample-villages N]
        [--json] [--free-tier] [--prices bench/prices.json] [--counts FILE] [--save-counts FILE]

What is counted and what is assumed:
- COUNTED (bench/cost_sim.py, real services on in-process moto; the web's calls as function URL events through
  chalicelib/api/function_url.py, a QR code's first request through Chalice's REST test client): per sample letter
  the API calls per route and which of them reach API Gateway, the CORS preflights the function URL answers itself,
  the bytes of every API answer as sent (the browser-like calls send Chromium's Accept-Encoding, so an answer the
  app gzip-codes is counted compressed; with the app's headers), DynamoDB calls and request units (RRU from the
  items each read returned, WRU from both images of every stream record, GSI writes included), stream records,
  Lambda invocations of every function (API, stream, issuing queue), the time each spent outside the database, the
  log bytes each wrote, the messages per channel (login codes included) and S3 objects written and read; one run of
  each scheduled handler; the bytes the letters' items leave in the table (read back after the sample, each item and
  index copy sized as DynamoDB bills storage, an item with a TTL for as long as it lives) and of the PDFs stored;
  the same bytes for complaints (driven after the letters, for their storage only).
- READ FROM THE REPOSITORY: function memory and architecture (.chalice/config.json), alarm metrics,
  composite alarms, dashboard (and whether it is on by default), secrets, X-Ray sampling rule and log
  retention (infra/balai.yaml and .chalice/config.json), custom metric names (chalicelib/).
- ASSUMED (ASSUMPTIONS below, each with its source): the district's volumes, the citizen shares, the
  in-region DynamoDB and provider latencies, cold-start share, how often staff log in, a complaint's work
  against a letter's, photos per complaint, the register's and the region items' bytes.
The sample (default 20 letters in 4 villages, about 2 minutes on an idle 2-core machine) is scaled
linearly to the profile's volumes; the sample size is a flag. The arithmetic below is pure (tested in
tests/unit/test_cost_model.py; reading infra/balai.yaml needs PyYAML); the simulation needs the .venv.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOURS_PER_MONTH = 730.0
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
WORKING_DAYS_PER_MONTH = 22

# ------------------------------------------------------------------------------------------------ profiles


@dataclass(frozen=True)
class Profile:
    """A district's monthly activity; every figure is per month except villages and residents."""

    name: str
    villages: int
    residents: int
    letters: int  # service requests (permohonan) per month, each driven to an issued letter
    complaints: int
    verifications: int  # QR verifications of issued letters
    dashboard_views: int  # public transparency pages and the Pendopo screen
    retention_months: int = 12  # how much history the table and bucket hold when the bill is read
    kabupaten: int = 1


def sinjai() -> Profile:
    """Kabupaten Sinjai: 80 villages, ~260,000 residents (issue 14's workload: 10,000 letters and 1,000
    complaints a month); verifications 40 % of letters; 30,000 dashboard views (public pages plus a Pendopo
    screen refreshing every minute in office hours)."""
    return Profile(name="Kabupaten Sinjai", villages=80, residents=260_000, letters=10_000, complaints=1_000,
                   verifications=4_000, dashboard_views=30_000)


def tenfold() -> Profile:
    """A district ten times Sinjai's size: every volume x10 (one kabupaten, one deployment)."""
    b = sinjai()
    return Profile(name="10x Sinjai", villages=b.villages * 10, residents=b.residents * 10, letters=b.letters * 10,
                   complaints=b.complaints * 10, verifications=b.verifications * 10,
                   dashboard_views=b.dashboard_views * 10)


def idle() -> Profile:
    """Sinjai's deployment before a single letter: regions and staff accounts, no traffic, no resident
    register imported yet (a full register of 260,000 residents adds its storage, about US$0.25 a month)."""
    return replace(sinjai(), name="Idle month (Sinjai deployed, no traffic)", residents=0, letters=0, complaints=0,
                   verifications=0, dashboard_views=0)


PROFILES = {"sinjai": sinjai, "10x": tenfold, "idle": idle}

# ---------------------------------------------------------------------------------------- assumptions
# Every figure the simulation cannot count, with where it comes from. Printed with --assumptions.
SHARES: dict[str, float] = {
    # Share of applicants who give an e-mail address. Indonesia: 79.5 % of people use the internet (APJII
    # survey 2024); far fewer read e-mail: the share of villagers who would give one to a village portal
    # is not published. 25 % is a planning figure to be replaced by the share in the portal's profiles.
    # The simulated citizens who give one also type the code it is sent (the portal asks in the same form);
    # only confirmed addresses take login codes (cost_sim.py counts both).
    "email": 0.25,
    # Share with the PWA installed (Web Push possible). No public figure; 20 % planning figure, to be
    # replaced by the share of push subscriptions among the month's citizens.
    "pwa": 0.20,
    # Share of returning citizens (coming back for the PDF) with a live 30-day refresh session on their
    # own phone: the median letter is issued within days (SLA 8-24 working hours), so most come back
    # inside 30 days; 80 % leaves room for shared or reset phones and cleared browsers.
    "returning_session": 0.80,
    # Share of citizens who log in by sending the WhatsApp message the portal offers first ("Masuk lewat
    # WhatsApp", web/assets/citizen.js) instead of asking for an SMS code. DataReportal "Digital 2024: Indonesia"
    # (GWI survey): WhatsApp is used by 90.9 % of internet users aged 16-64, the most used platform; every portal
    # user is an internet user. The message must come from the WhatsApp of the phone the citizen typed (the one
    # the village register names), which excludes a WhatsApp on another SIM or a relative's phone, and some
    # will not leave the page or will take the SMS fallback: 70 % is a planning figure below the 90.9 % ceiling,
    # to be replaced by the month's measured split of logins (log lines "citizen login by whatsapp" against
    # "citizen login"). bench/cost.py prints the SMS per letter at 0 %, at this share and the break-even share.
    "whatsapp_login": 0.70,
}
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "whatsapp_pending_polls": (2.0, "pending polls of a WhatsApp login before the one that logs in: the portal "
                                    "polls every 2 s (backing off) only while the page is visible, and on a phone "
                                    "it is hidden while the citizen is in WhatsApp; one poll before she leaves, "
                                    "one on her return (a desktop browser waiting on a QR scan polls more)"),
    "ddb_ms_per_call": (8.0, "in-region DynamoDB p50 with margin (AWS: single-digit ms); moto's own time is excluded"),
    "send_ms_per_sms": (100.0, "SNS Publish to a phone number, p50 with margin (bench/measurements.json basis)"),
    "send_ms_per_email": (80.0, "SES SendEmail p50 with margin"),
    "send_ms_per_push": (150.0, "a Web Push POST to the browser vendor's push service (FCM, Mozilla), p50 "
                                "with margin; the push itself costs nothing"),
    "vcpu_mb": (1769.0, "Lambda gives one full vCPU at 1,769 MB (AWS docs); below that, time stretches"),
    "cold_start_share": (0.01, "share of API invocations that pay an INIT (billed since Aug 2025) and their route's "
                               "first-call imports: AWS Lambda Operator Guide, 'Lambda execution environments': "
                               "'cold starts typically occur in under 1% of invocations' in production workloads; "
                               "the upper bound is taken (was 3 %, a guess with no source)"),
    "platform_log_bytes": (350.0, "START/END/REPORT lines Lambda writes per invocation (at system log level "
                                  "INFO; none at WARN)"),
    "log_compression": (0.15, "CloudWatch bills stored logs on their compressed size"),
    "staff_logins_per_village_day": (3.0, "operator, kades, a second operator; 30-minute staff tokens"),
    "complaint_work_vs_letter": (0.55, "a complaint is submit + 3 transitions + reads, no PDF: 0.55 of a "
                                       "letter's API/DynamoDB work (complaints are not on this branch yet)"),
    "complaint_sms_vs_letter": (1.0, "a complaint's messages follow the letter's per-call rate"),
    "metric_hours_share": (0.10, "an alarm's custom metric (failures) is published in 10 % of a busy "
                                 "month's hours, none in an idle month (billed per hour published)"),
    "attachment_kb": (300.0, "a KTP/KK photo resized to ~1600 px; used only when bench/measurements.json "
                             "has no measured 'attachments.resized_photo_kb' (the portal's resize, measured)"),
    "attachments_per_letter_in_storage": (3.0, "SKD's three required files (counted uploads agree)"),
    "card_photos_per_letter": (1.0, "of those, photos of a card (the KTP: SKD, SKU, SKTM and most types ask for one), "
                                    "which the portal sends at the card's size (chalicelib/domain/catalog.py)"),
    "secret_warm_containers": (2.0, "containers that sign or verify letters, warm in office hours (10 h x 22 "
                                    "days), each re-reading the letter keyring every 5 minutes (Powertools max_age "
                                    "300); the app keys are read once per container (cold_start_share)"),
    "pdf_kb": (5.0, "one-page letter with QR (STACK-NOTES: 2.9-4.8 KB); used only for counts that lack the "
                    "stored PDFs' size (the sample counts the bytes of every PDF it issues)"),
    "late_pdf_downloads": (0.1, "downloads of a letter's PDF after its cached copy expired (LetterPdfCacheDays), "
                                "per letter: each renders the letter again in the API function and stores it "
                                "(a PUT); a planning figure: the citizen downloads when it is issued (counted), "
                                "a copy printed again months later is the exception"),
    "complaint_storage_vs_letter": (0.6, "a complaint's items against a letter's; used only for counts "
                                         "without complaints (the sample drives one for every 4 letters)"),
    "complaint_photos": (1.0, "photos stored per complaint (the form takes up to 3; the sample files one); "
                              "a planning figure until the share of complaints with photos is known"),
    "register_bytes_per_resident": (2048.0, "a resident row with its name-index and NIK-index copies; used only "
                                            "for counts without the register's stored bytes (the sample counts "
                                            "the residents it adds, with their audit entries)"),
    "region_bytes_per_village": (40 * 1024.0, "a village's region item with its settings and letter types"),
    "api_response_kb": (3.0, "mean API answer on the wire, headers included; used only for counts without the "
                             "answers' bytes (the sample counts each answer as sent: body and the app's headers)"),
    "service_header_bytes": (300.0, "the status line and the headers the Lambda service (or API Gateway) adds to an "
                                    "answer: Date, Content-Length, Connection, x-amzn-RequestId, X-Amzn-Trace-Id, "
                                    "Access-Control-Allow-Origin, as HTTP/1.1 text (~290 B written out; less under "
                                    "HTTP/2's header compression)"),
    "preflight_kb": (0.5, "a CORS preflight's answer: an empty 204 with its Access-Control headers"),
    "function_url_preflight_usd_per_million": (
        0.0, "a CORS preflight to the API function's URL is answered by the Lambda service from the URL's CORS "
             "configuration without invoking the function (AWS Lambda docs, function URLs: CORS); function URLs "
             "add no charge of their own (AWS Lambda pricing). Its answer is priced as data transfer "
             "(preflight_kb); not verified on a real deployment"),
}
SCHEDULE_RUNS = {"outbox_retry": MINUTES_PER_MONTH, "sla_escalation": HOURS_PER_MONTH * 4,
                 "daily_digest": HOURS_PER_MONTH}
FUNCTION_OF_SCHEDULE = {"outbox_retry": "outbox_retry", "sla_escalation": "sla_escalation",
                        "daily_digest": "daily_digest"}
CHALICE_FUNCTION = {"api": "api_handler", "stream": "on_table_stream", "issue_letters": "issue_letters",
                    "outbox_retry": "outbox_retry", "sla_escalation": "sla_escalation",
                    "daily_digest": "daily_digest"}

# ------------------------------------------------------------------------------ DynamoDB request units


def _attr_size(value: dict[str, Any]) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(str(v).encode())
    if kind == "N":
        digits = len(str(v).lstrip("-").replace(".", "").lstrip("0")) or 1
        return 1 + (digits + 1) // 2
    if kind == "B":
        return len(v) if isinstance(v, (bytes, bytearray)) else len(str(v)) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in v)
    if kind == "NS":
        return sum(_attr_size({"N": n}) for n in v)
    if kind == "BS":
        return sum(_attr_size({"B": b}) for b in v)
    if kind == "L":
        return 3 + sum(1 + _attr_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _attr_size(x) for k, x in v.items())
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item in DynamoDB JSON as DynamoDB counts them: attribute names plus values."""
    return sum(len(name.encode()) + _attr_size(value) for name, value in (item or {}).items())


def read_units(sizes: list[int], consistent: bool = False, transactional: bool = False) -> float:
    """RRU of reads returning items of `sizes` bytes: 4 KB per unit (a Query rounds its total, pass one
    size), half for eventually consistent, double in a transaction; a read of nothing costs the minimum."""
    factor = 2.0 if transactional else 1.0 if consistent else 0.5
    if not sizes:
        return factor
    return sum(max(1, math.ceil(s / 4096)) * factor for s in sizes)


def _index_key(image: dict[str, Any] | None, hash_key: str, range_key: str) -> tuple[str, str] | None:
    if not image or hash_key not in image or range_key not in image:
        return None
    return (json.dumps(image[hash_key], sort_keys=True), json.dumps(image[range_key], sort_keys=True))


TABLE_KEYS = ("PK", "SK")
# An index: (hash key, range key) projecting ALL, or (hash key, range key, projection) with projection "ALL",
# "KEYS_ONLY" or a tuple of the attribute names an INCLUDE projection adds to the keys.
Index = tuple[str, str] | tuple[str, str, Any]


def _index_entry(image: dict[str, Any], index: Index) -> dict[str, Any]:
    """What the index holds of an item: the table's and the index's keys plus the projected attributes."""
    projection = index[2] if len(index) > 2 else "ALL"
    if projection == "ALL":
        return image
    names = {*TABLE_KEYS, index[0], index[1], *(() if projection == "KEYS_ONLY" else projection)}
    return {k: v for k, v in image.items() if k in names}


def write_units(old: dict[str, Any] | None, new: dict[str, Any] | None, gsis: list[Index],
                transactional: bool = False) -> float:
    """WRU of one item change from its stream images: 1 KB per unit of the larger image (double in a
    transaction), plus for each GSI the item is in a put, an update or a delete of its index entry, two
    writes where the index key changed, none where the write changed no key and no projected attribute
    (AWS: "If a write to a table does not require a global secondary index update, no write capacity is
    consumed from the index"); an index write is sized by its entry (keys plus projected attributes)."""
    size = max(item_size(old), item_size(new))
    base = max(1, math.ceil(size / 1024)) * (2.0 if transactional else 1.0)
    index = 0.0
    for gsi in gsis:
        hash_key, range_key = gsi[0], gsi[1]
        before, after = _index_key(old, hash_key, range_key), _index_key(new, hash_key, range_key)
        if before is None and after is None:
            continue
        old_entry = _index_entry(old or {}, gsi) if before is not None else None
        new_entry = _index_entry(new or {}, gsi) if after is not None else None
        if before is not None and after is not None and before != after:
            index += max(1, math.ceil(item_size(old_entry) / 1024)) + max(1, math.ceil(item_size(new_entry) / 1024))
        elif before is not None and after is not None and old_entry == new_entry:
            continue  # nothing the index holds changed: no index write
        else:
            index += max(1, math.ceil(item_size(new_entry if after is not None else old_entry) / 1024))
    return base + index


# ------------------------------------------------------------------------------------------ stored bytes
# DynamoDB bills storage on each item's size plus 100 bytes of per-item overhead ("DynamoDB item sizes and
# formats", developer guide), and an index item on the index's and the table's keys plus its projected
# attributes plus the same 100 bytes ("Storage considerations" of global secondary indexes).
ITEM_OVERHEAD = 100
DAYS_PER_MONTH = 365.0 / 12
# Items that are not a letter's: the resident register is priced on its own (Profile.residents); a
# village's bill and transparency counters are one item per village and month, a numbering counter one per
# village, letter scope and year.
REGISTER_ENTITIES = ("resident", "resident_audit")
PER_VILLAGE_MONTH = ("BILL#", "STATS#")
PER_VILLAGE_YEAR = ("COUNTER#",)


def stored_bytes(item: dict[str, Any], gsis: list[Index]) -> dict[str, int]:
    """What one item takes in storage: {"table": bytes, "GSI1": bytes, ...} (only the indexes it is in)."""
    out = {"table": item_size(item) + ITEM_OVERHEAD}
    for gsi in gsis:
        if gsi[0] in item and gsi[1] in item:
            name = str(gsi[0])
            out[name[:-2] if name.endswith("PK") else name] = item_size(_index_entry(item, gsi)) + ITEM_OVERHEAD
    return out


def _item_kind(item: dict[str, Any]) -> str:
    entity = (item.get("entity") or {}).get("S")
    if entity:
        return str(entity)
    pk, sk = str((item.get("PK") or {}).get("S", "")), str((item.get("SK") or {}).get("S", ""))
    return f"{pk.split('#', 1)[0]}/{sk.split('#', 1)[0]}"


def storage_of(items: list[dict[str, Any]], gsis: list[Index], now: float, letters: int,
               villages: int) -> dict[str, Any]:
    """The bytes a sample's new items hold, by kind, from the items themselves (DynamoDB JSON):
    {"per_letter": {kind: {"items", "table", "index", "kept", "ttl": {days: bytes}}}, "per_village_month":
    {...}, "per_village_year": {...}}. "kept" are the bytes of items without a TTL (kept as long as the table);
    "ttl" the bytes of items with one, by the days they live from `now` (an item past its TTL has 0 days).
    The register's items (a resident and its audit entry) go to "per_resident", per resident added, as the
    register is priced on its own (Profile.residents); absent when the sample added none."""
    out: dict[str, Any] = {"per_letter": {}, "per_village_month": {}, "per_village_year": {}}
    residents = sum(1 for item in items if _item_kind(item) == REGISTER_ENTITIES[0])
    if residents:
        out["per_resident"] = {}
    for item in items:
        kind = _item_kind(item)
        pk = str((item.get("PK") or {}).get("S", ""))
        if kind in REGISTER_ENTITIES:
            if not residents:
                continue
            group, per = "per_resident", residents
        else:
            group, per = ("per_village_month", villages) if pk.startswith(PER_VILLAGE_MONTH) else \
                ("per_village_year", villages) if pk.startswith(PER_VILLAGE_YEAR) else ("per_letter", letters)
        sizes = stored_bytes(item, gsis)
        total = sum(sizes.values())
        entry = out[group].setdefault(kind, {"items": 0.0, "table": 0.0, "index": 0.0, "kept": 0.0, "ttl": {}})
        entry["items"] += 1 / per
        entry["table"] += sizes["table"] / per
        entry["index"] += (total - sizes["table"]) / per
        expires = (item.get("expires_at") or {}).get("N")
        if expires is None:
            entry["kept"] += total / per
        else:
            days = str(max(0, round((float(expires) - now) / 86400)))
            entry["ttl"][days] = entry["ttl"].get(days, 0.0) + total / per
    return out


def held_bytes(figures: dict[str, dict[str, Any]], months: float, table_only: bool = False) -> float:
    """Bytes held after `months` of one unit a month: kept items for every month, expiring items for as
    long as they live (at most `months`). `table_only`: without the global secondary indexes' copies (what
    point-in-time recovery bills: "the size of each DynamoDB table, including table data and local secondary
    indexes", DynamoDB developer guide, PITR "How it works"), each kind's bytes in its table/index proportion."""
    held = 0.0
    for entry in figures.values():
        whole = entry["table"] + entry["index"]
        share = entry["table"] / whole if table_only and whole else 1.0
        held += entry["kept"] * months * share
        held += sum(b * min(months, float(days) / DAYS_PER_MONTH) for days, b in entry["ttl"].items()) * share
    return held


# --------------------------------------------------------------------------------------- counted usage


@dataclass
class Usage:
    """Counted work, per unit (a letter, a run) or per month once scaled. Keys of the dicts: function names."""

    invocations: dict[str, float] = field(default_factory=dict)
    own_ms: dict[str, float] = field(default_factory=dict)  # measured outside the database, this machine
    ddb_calls: dict[str, float] = field(default_factory=dict)
    log_bytes: dict[str, float] = field(default_factory=dict)
    rru: float = 0.0
    wru: float = 0.0
    stream_records: float = 0.0
    sms: float = 0.0
    email: float = 0.0
    push: float = 0.0
    s3_puts: float = 0.0
    s3_gets: float = 0.0
    pdf_downloads: float = 0.0
    attachment_views: float = 0.0
    preflights: float = 0.0  # the browser's CORS OPTIONS among the api invocations (an empty 204 each)
    rest_requests: float = 0.0  # api calls through API Gateway (REST); the web's go to the function URL
    url_preflights: float = 0.0  # CORS preflights the function URL answers itself: no invocation, no charge
    # API answers whose bytes were counted: as sent (body, gzip-coded where the browser accepted it, plus the app's
    # headers) and their uncompressed bodies. Counts saved before they were counted have none (api_response_kb).
    answers: float = 0.0
    answer_bytes: float = 0.0
    answer_identity_bytes: float = 0.0

    def scaled(self, k: float) -> Usage:
        d: dict[str, Any] = {name: ({f: v * k for f, v in value.items()} if isinstance(value, dict) else value * k)
                             for name, value in self.__dict__.items()}
        return Usage(**d)

    def plus(self, other: Usage) -> Usage:
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            theirs = getattr(other, name)
            if isinstance(value, dict):
                out[name] = {f: value.get(f, 0.0) + theirs.get(f, 0.0) for f in {*value, *theirs}}
            else:
                out[name] = value + theirs
        return Usage(**out)


@dataclass
class Counted:
    """What the sample counted, per unit of each driver of the bill."""

    sample_letters: int
    per_letter: Usage
    per_verification: Usage
    per_dashboard_view: Usage
    per_staff_login: Usage
    per_schedule_run: dict[str, Usage]
    policy: str = "today's notification rules"
    endpoints: dict[str, dict[str, float]] = field(default_factory=dict)  # route -> per call figures
    messages_by_event: dict[str, dict[str, float]] = field(default_factory=dict)
    sample_seconds: float = 0.0
    # storage_of() of the sample's items; the stored PDF bytes per issued letter (0: not counted)
    storage: dict[str, Any] = field(default_factory=dict)
    pdf_bytes: float = 0.0


def _function_of(bucket: str) -> str:
    if bucket.startswith(("GET ", "POST ", "PUT ", "DELETE ", "OPTIONS ")):
        return "api"
    return bucket


def usage_of(tallies: dict[str, Any], names: list[str]) -> Usage:
    """Sum of the named tallies (objects or dicts with invocations, own_ms, ddb_calls, rru, wru, ...)."""
    u = Usage()
    for name in names:
        t = tallies.get(name)
        if t is None:
            continue
        t = t if isinstance(t, dict) else t.as_dict()
        fn = _function_of(name)
        calls = t["ddb_calls"]
        db = float(sum(v for k, v in calls.items() if not k.startswith("S3 ")))
        links = {k: v for k, v in calls.items() if k.startswith("S3 LINK")}
        # "s3" and "browser": the browser's own S3 requests (presigned POST, links), no function runs
        runs = {fn: float(t["invocations"])} if fn in CHALICE_FUNCTION else {}
        u = u.plus(Usage(invocations=runs, own_ms={fn: float(t["own_ms"])} if runs else {},
                         ddb_calls={fn: db} if runs else {}, log_bytes={fn: float(t["log_bytes"])} if runs else {},
                         rru=float(t["rru"]),
                         wru=float(t["wru"]), stream_records=float(t["stream_records"]), sms=float(t["sms"]),
                         email=float(t["email"]), push=float(t.get("push", 0)),
                         s3_puts=float(calls.get("S3 PUT", 0)),
                         s3_gets=float(calls.get("S3 GET", 0) + sum(links.values())),
                         pdf_downloads=float(links.get("S3 LINK letters", 0)),
                         attachment_views=float(links.get("S3 LINK attachments", 0)),
                         preflights=float(t["invocations"]) if name.startswith("OPTIONS ") else 0.0,
                         # Counts saved before the function URL had every API call on API Gateway.
                         rest_requests=float(t.get("rest_requests", t["invocations"] if fn == "api" else 0)),
                         url_preflights=float(t.get("url_preflights", 0)),
                         answers=float(t.get("answers", 0)),
                         answer_bytes=float(t.get("answer_body_bytes", 0) + t.get("answer_header_bytes", 0)),
                         answer_identity_bytes=float(t.get("answer_identity_bytes", 0))))
    return u


def _sample_storage(result: Any) -> dict[str, Any]:
    """storage_of() the sample's letters, plus "per_complaint" from its complaints when it drove some."""
    if not getattr(result, "stored", None):
        return {}
    villages = len(getattr(result, "villages", [])) or 1
    out = storage_of(result.stored, result.indexes, result.stored_at, result.letters, villages)
    if getattr(result, "complaints", 0):
        out["per_complaint"] = storage_of(result.complaint_stored, result.indexes, result.stored_at,
                                          result.complaints, villages)["per_letter"]
    return out


def counted_from_sample(result: Any) -> Counted:
    """Turn a bench/cost_sim.py SampleResult into per-unit usage."""
    tallies = {k: v.as_dict() for k, v in result.tallies.items()}
    verify = [k for k in tallies if k.startswith("GET /v1/letters/verify")]
    dashboard = ["GET /v1/regions/{code}"]
    login = ["POST /v1/auth/login", "OPTIONS /v1/auth/login (CORS preflight)"]
    schedules = list(SCHEDULE_RUNS)
    letter_names = [k for k in tallies if k not in {*verify, *dashboard, *login, *schedules}
                    and not k.startswith("complaint: ")]  # cost_sim's complaints: counted for storage only
    per_letter = usage_of(tallies, letter_names).scaled(1 / result.letters)
    # A verification is a QR code's request (REST, a redirect) and the page's JSON call (the function URL): count
    # verifications, not their calls.
    n_verify = getattr(result, "verifications", 0) or sum(tallies[k]["invocations"] for k in verify) or 1
    endpoints = {k: {"per_letter": t["invocations"] / result.letters,
                     "ddb_calls": sum(t["ddb_calls"].values()) / max(1, t["invocations"]),
                     "rru": t["rru"] / max(1, t["invocations"]), "wru": t["wru"] / max(1, t["invocations"]),
                     "own_ms": t["own_ms"] / max(1, t["invocations"]), "sms": t["sms"], "email": t["email"],
                     **({"answer_bytes": (t["answer_body_bytes"] + t["answer_header_bytes"]) / t["answers"],
                         "identity_bytes": t["answer_identity_bytes"] / t["answers"]} if t.get("answers") else {})}
                 for k, t in tallies.items() if t["invocations"] and not k.startswith("complaint: ")}
    return Counted(
        sample_letters=result.letters,
        per_letter=per_letter,
        per_verification=usage_of(tallies, verify).scaled(1 / n_verify),
        per_dashboard_view=usage_of(tallies, dashboard),
        per_staff_login=usage_of(tallies, login),
        per_schedule_run={name: usage_of(tallies, [name]) for name in schedules},
        policy=result.policy,
        endpoints=endpoints,
        messages_by_event={"sms": {k: v / result.letters for k, v in result.sms_by_event.items()},
                           "email": {k: v / result.letters for k, v in result.email_by_event.items()}},
        sample_seconds=result.seconds,
        storage=_sample_storage(result),
        pdf_bytes=(sum(result.pdf_sizes) / len(result.pdf_sizes)) if getattr(result, "pdf_sizes", None) else 0.0,
    )


def monthly_usage(profile: Profile, counted: Counted) -> Usage:
    """The month's usage: each driver of the bill times its counted per-unit usage."""
    a = {k: v[0] for k, v in ASSUMPTIONS.items()}
    total = Usage()
    for name, runs in SCHEDULE_RUNS.items():
        total = total.plus(counted.per_schedule_run.get(name, Usage()).scaled(runs * profile.kabupaten))
    if not (profile.letters or profile.complaints or profile.verifications or profile.dashboard_views):
        return total
    total = total.plus(counted.per_letter.scaled(profile.letters))
    complaint = counted.per_letter.scaled(a["complaint_work_vs_letter"])
    complaint.invocations.pop("issue_letters", None)
    complaint.own_ms.pop("issue_letters", None)
    complaint.s3_puts = complaint.s3_gets = complaint.pdf_downloads = 0.0
    complaint.sms = counted.per_letter.sms * a["complaint_work_vs_letter"] * a["complaint_sms_vs_letter"]
    total = total.plus(complaint.scaled(profile.complaints))
    total = total.plus(counted.per_verification.scaled(profile.verifications))
    total = total.plus(counted.per_dashboard_view.scaled(profile.dashboard_views))
    if profile.letters or profile.complaints:  # staff log in only where there is work
        logins = profile.villages * a["staff_logins_per_village_day"] * WORKING_DAYS_PER_MONTH
        total = total.plus(counted.per_staff_login.scaled(logins))
    return total


# ------------------------------------------------------------------------------- the deployment's facts


@dataclass
class Deployment:
    """What the repository configures: read from .chalice/config.json, infra/balai.yaml and the code."""

    memory_mb: dict[str, float]
    architecture: str
    xray_active: bool  # Lambda active tracing on every function (traces everything below 1/s)
    sampling_rate: float  # the API's X-Ray sampling rule (fixed rate), 0 when none
    sampling_reservoir: float  # per second
    log_retention_days: int | None
    alarm_metrics: int
    composite_alarms: int
    dashboard_default_on: bool
    secrets_manager_secrets: int
    ssm_parameters: int
    custom_metrics: list[str]
    attachments_archive_days: int | None = None  # lifecycle transition of attachments/ to GLACIER_IR
    attachments_retention_days: int | None = None  # lifecycle expiry of closed requests' attachments/
    letter_pdf_days: int | None = None  # lifecycle expiry of issued letters' PDFs (letters/): a cache
    letter_render_ms: float = 21.6  # bench/measurements.json: a letter's render on one full core
    # An API cold start (bench/measurements.json): INIT (`import app`) runs on a full vCPU whatever the memory, so it
    # is billed as measured; the imports a route defers to its first call run in the invoke phase at memory/1769 of a
    # vCPU, so they stretch like the request's own time (docs/operations.md 1.8)
    api_init_ms: float = 641.0
    api_first_call_ms: float = 0.0
    attachment_kb: float | None = None  # bench/measurements.json: a photo as the portal uploads it (measured)
    card_photo_kb: float | None = None  # bench/measurements.json: a KTP photo at the card's size (measured)
    # Lambda's system log level (infra/chalice-prod-merge.json Globals LoggingConfig): at WARN the START, END and
    # REPORT lines of every invocation (INFO) are not written, so not ingested
    system_log_level: str = "INFO"


def _yaml_template(path: Path) -> dict[str, Any]:
    """infra/balai.yaml with its short-form intrinsics kept as plain values."""
    import yaml  # PyYAML (in the .venv through cfn-lint and moto)

    class Loader(yaml.SafeLoader):
        pass

    def any_tag(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    Loader.add_multi_constructor("!", any_tag)
    return dict(yaml.load(path.read_text(), Loader=Loader))  # noqa: S506 (a SafeLoader subclass)


def read_deployment(root: Path = ROOT, measurements: dict[str, Any] | None = None) -> Deployment:
    """The deployment as the repository configures its prod stage."""
    config = json.loads((root / ".chalice" / "config.json").read_text())
    prod = config["stages"]["prod"]
    memory = {}
    for fn, chalice_name in CHALICE_FUNCTION.items():
        per_fn = prod.get("lambda_functions", {}).get(chalice_name, {})
        memory[fn] = float(per_fn.get("lambda_memory_size", prod.get("lambda_memory_size", 128)))
    template = _yaml_template(root / "infra" / "balai.yaml")
    resources = template.get("Resources", {})
    alarm_metrics = composite = secrets = 0
    params = sum(1 for k in template.get("Outputs", {}) if k.endswith("ParameterArn"))
    archive_days = retention_days = pdf_days = None
    rate, reservoir = 0.0, 0.0
    dashboard_on = False
    for res in resources.values():
        kind, props = res.get("Type"), res.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            metrics = props.get("Metrics")
            alarm_metrics += sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
        elif kind == "AWS::CloudWatch::CompositeAlarm":
            composite += 1
        elif kind == "AWS::SecretsManager::Secret":
            secrets += 1
        elif kind == "AWS::S3::Bucket":
            for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
                for move in rule.get("Transitions", []):
                    if rule.get("Prefix") == "attachments/" and move.get("StorageClass") == "GLACIER_IR":
                        archive_days = int(move["TransitionInDays"])
                prefix = rule.get("Prefix")
                if prefix in ("attachments/", "letters/") and "ExpirationInDays" in rule:
                    days = rule["ExpirationInDays"]  # a number, or !Ref to the template's parameter
                    param = template.get("Parameters", {}).get(str(days), {})
                    if prefix == "attachments/":
                        retention_days = int(param.get("Default", days))
                    else:
                        pdf_days = int(param.get("Default", days))
        elif kind == "AWS::XRay::SamplingRule":
            rule = props.get("SamplingRule", {})
            rate, reservoir = float(rule.get("FixedRate", 0)), float(rule.get("ReservoirSize", 0))
        elif kind == "AWS::CloudWatch::Dashboard":
            condition = res.get("Condition")
            if condition is None:
                dashboard_on = True
            else:
                param = template.get("Parameters", {}).get("CreateDashboard", {})
                dashboard_on = str(param.get("Default", "false")).lower() == "true"
    metric_names = sorted(set(re.findall(r'(?:count_metric\(|add_metric\(name=)"(\w+)"',
                                         "\n".join(p.read_text() for p in (root / "chalicelib").rglob("*.py")))))
    merge_path = root / "infra" / "chalice-prod-merge.json"
    merge = json.loads(merge_path.read_text()) if merge_path.exists() else {}
    logging_config = merge.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})
    meas = measurements or {}
    api = meas.get("functions", {}).get("api", {})
    # Measurements written before INIT and first-call imports were told apart hold their sum as init_ms
    init = float(api.get("init_ms", 641.0))
    first_call = float(api.get("first_call_imports_ms", 0.0))
    return Deployment(memory_mb=memory, architecture=str(prod.get("lambda_architecture", "x86_64")),
                      xray_active=bool(prod.get("xray")), sampling_rate=rate, sampling_reservoir=reservoir,
                      log_retention_days=prod.get("log_retention_in_days"), alarm_metrics=alarm_metrics,
                      composite_alarms=composite, dashboard_default_on=dashboard_on,
                      secrets_manager_secrets=secrets, ssm_parameters=params, custom_metrics=metric_names,
                      api_init_ms=init, api_first_call_ms=first_call, attachments_archive_days=archive_days,
                      attachments_retention_days=retention_days, letter_pdf_days=pdf_days,
                      letter_render_ms=float(api.get("letter_render_median_ms", 21.6)),
                      attachment_kb=meas.get("attachments", {}).get("resized_photo_kb"),
                      card_photo_kb=meas.get("attachments", {}).get("ktp_photo_kb"),
                      system_log_level=str(logging_config.get("SystemLogLevel", "INFO")))


# ------------------------------------------------------------------------------------------ the bill


@dataclass
class Line:
    service: str
    usd: float
    detail: str
    fixed: bool = False  # paid whatever the traffic


@dataclass
class Estimate:
    profile: Profile
    lines: list[Line] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.service] = out.get(line.service, 0.0) + line.usd
        return out

    @property
    def sms_usd(self) -> float:
        return self.by_service().get("SNS SMS (Indonesia)", 0.0)


def load_prices(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def lambda_ms(fn: str, u: Usage, dep: Deployment) -> float:
    """Billed milliseconds of function `fn` for the usage: measured own time stretched to the function's
    share of a vCPU, plus DynamoDB and provider latency per call (ASSUMPTIONS)."""
    a = {k: v[0] for k, v in ASSUMPTIONS.items()}
    stretch = max(1.0, a["vcpu_mb"] / dep.memory_mb[fn])
    ms = u.own_ms.get(fn, 0.0) * stretch + u.ddb_calls.get(fn, 0.0) * a["ddb_ms_per_call"]
    if fn == "api":
        cold_ms = dep.api_init_ms + dep.api_first_call_ms * stretch
        ms += u.invocations.get("api", 0.0) * a["cold_start_share"] * cold_ms
    if fn in ("stream", "outbox_retry", "daily_digest", "sla_escalation"):
        # Messages are sent by the outbox sender (stream handler or its retry schedule).
        ms += (u.sms * a["send_ms_per_sms"] + u.email * a["send_ms_per_email"]
               + u.push * a["send_ms_per_push"]) if fn == "stream" else 0.0
    return ms


def estimate(profile: Profile, counted: Counted, prices: dict[str, Any], dep: Deployment,
             free_tier: bool = False) -> Estimate:
    """The monthly bill for profile, line by line."""
    p = {k: float(v["usd"]) for k, v in prices["prices"].items()}
    free = prices["always_free_per_month"] if free_tier else {}
    a = {k: v[0] for k, v in ASSUMPTIONS.items()}
    if dep.attachment_kb:
        a["attachment_kb"] = float(dep.attachment_kb)  # measured: the portal's resized upload
    # A letter's files: its card photos (KTP) at the card's measured size, the rest at a page's
    files = a["attachments_per_letter_in_storage"]
    cards = min(files, a["card_photos_per_letter"]) if dep.card_photo_kb else 0.0
    letter_file_kb = ((files - cards) * a["attachment_kb"] + cards * float(dep.card_photo_kb or 0)) / files
    if counted.pdf_bytes:
        a["pdf_kb"] = counted.pdf_bytes / 1024  # counted: the sample's stored PDFs
    est = Estimate(profile=profile)
    u = monthly_usage(profile, counted)
    late_pdfs = profile.letters * a["late_pdf_downloads"] if dep.letter_pdf_days is not None else 0.0
    if late_pdfs:
        # A download after the cached PDF expired renders the letter again in the API function and stores it
        u.s3_puts += late_pdfs
        u.own_ms["api"] = u.own_ms.get("api", 0.0) + late_pdfs * dep.letter_render_ms
    busy = bool(profile.letters or profile.complaints or profile.verifications or profile.dashboard_views)
    n_api = u.invocations.get("api", 0.0)
    est.usage.update(api_requests=n_api, dynamodb_rru=u.rru, dynamodb_wru=u.wru, stream_records=u.stream_records,
                     sms=u.sms, email=u.email, push=u.push, **{f"invocations_{k}": v for k, v in u.invocations.items()})

    # -- Lambda, per function; the free tier is shared in proportion
    gb_price = p["lambda_gb_second_arm64"] if dep.architecture == "arm64" else p["lambda_gb_second_x86"]
    fns = sorted(u.invocations)
    gb_s = {fn: lambda_ms(fn, u, dep) / 1000 * dep.memory_mb[fn] / 1024 for fn in fns}
    total_gb_s, total_inv = sum(gb_s.values()), sum(u.invocations.values())
    free_gb_s = min(total_gb_s, float(free.get("lambda_gb_seconds", 0)))
    free_inv = min(total_inv, float(free.get("lambda_requests", 0)))
    for fn in fns:
        inv = u.invocations[fn]
        billed_gb = gb_s[fn] - free_gb_s * (gb_s[fn] / total_gb_s if total_gb_s else 0.0)
        billed_inv = inv - free_inv * (inv / total_inv if total_inv else 0.0)
        est.usage[f"lambda_gb_s_{fn}"] = gb_s[fn]
        est.lines.append(Line(f"Lambda {fn}", billed_gb * gb_price + billed_inv / 1e6 * p["lambda_request_per_million"],
                              f"{inv:,.0f} invocations, {gb_s[fn]:,.0f} GB-s ({dep.architecture}, "
                              f"{dep.memory_mb[fn]:.0f} MB, {lambda_ms(fn, u, dep) / max(inv, 1):.0f} ms each)",
                              fixed=fn in SCHEDULE_RUNS))

    # The web calls the API function's URL (no per-request fee; its preflights are answered by Lambda, not
    # invocations); what still reaches API Gateway is counted by the sample (QR codes' first request, Open311).
    n_rest = u.rest_requests
    est.usage.update(rest_requests=n_rest, function_url_requests=n_api - n_rest, url_preflights=u.url_preflights)
    est.lines.append(Line("API Gateway REST", n_rest / 1e6 * p["apigw_rest_request_per_million"]
                          + u.url_preflights / 1e6 * a["function_url_preflight_usd_per_million"],
                          f"{n_rest:,.0f} requests (QR codes, Open311); the web's {n_api - n_rest:,.0f} calls go to "
                          f"the function URL, its {u.url_preflights:,.0f} preflights answered by Lambda (not billed)"))
    est.lines.append(Line("DynamoDB requests",
                          u.rru / 1e6 * p["dynamodb_rru_per_million"] + u.wru / 1e6 * p["dynamodb_wru_per_million"],
                          f"{u.rru:,.0f} RRU, {u.wru:,.0f} WRU (counted)"))

    # -- storage held after retention_months: what each month's letters left in the table (counted: the
    # sample's items with their index copies, an item with a TTL only for as long as it lives), the villages'
    # monthly and yearly items (counted), the register and the region items (assumed)
    months = profile.retention_months
    st = counted.storage
    if st:
        letter_bytes = held_bytes(st["per_letter"], months)
        village_bytes = (held_bytes(st["per_village_month"], months)
                         + held_bytes(st["per_village_year"], math.ceil(months / 12)))
        how = f"{letter_bytes / months / 1024:,.1f} KB a letter (counted)"
    else:  # counts saved before the storage was counted
        letter_bytes, village_bytes = months * 6 * 1024.0, 0.0
        how = "6 KB a letter (assumed: counts without storage)"
    if st.get("per_complaint"):
        complaint_bytes = held_bytes(st["per_complaint"], months)
        how += f", {complaint_bytes / months / 1024:,.1f} KB a complaint (counted)"
    else:
        complaint_bytes = letter_bytes * a["complaint_storage_vs_letter"]
    if st.get("per_resident"):  # counted: the sample's applicants, added to their registers as an operator does
        resident_bytes = held_bytes(st["per_resident"], months) / months
        how += f", {resident_bytes / 1024:,.2f} KB a resident (counted)"
    else:
        resident_bytes = a["register_bytes_per_resident"]
    table_gb = (profile.letters * letter_bytes + profile.complaints * complaint_bytes
                + profile.villages * village_bytes
                + profile.residents * resident_bytes
                + profile.villages * a["region_bytes_per_village"]) / 1024 ** 3
    est.usage["table_gb"] = table_gb
    est.usage["table_bytes_per_letter"] = letter_bytes / months
    billed_gb = max(0.0, table_gb - float(free.get("dynamodb_storage_gb", 0)))
    est.lines.append(Line("DynamoDB storage", billed_gb * p["dynamodb_storage_gb_month"],
                          f"{table_gb:,.2f} GB after {months} months, {how}", fixed=not busy))
    # Point-in-time recovery bills the table's own bytes, not its global secondary indexes (restored by rebuilding)
    if st:
        backup_gb = (profile.letters * held_bytes(st["per_letter"], months, table_only=True)
                     + profile.complaints * (held_bytes(st["per_complaint"], months, table_only=True)
                                             if st.get("per_complaint") else complaint_bytes)
                     + profile.villages * (held_bytes(st["per_village_month"], months, table_only=True)
                                           + held_bytes(st["per_village_year"], math.ceil(months / 12), True))
                     + profile.residents * (held_bytes(st["per_resident"], months, table_only=True) / months
                                            if st.get("per_resident") else resident_bytes)
                     + profile.villages * a["region_bytes_per_village"]) / 1024 ** 3
    else:
        backup_gb = table_gb
    est.usage["backup_gb"] = backup_gb
    est.lines.append(Line("DynamoDB PITR", backup_gb * p["dynamodb_pitr_gb_month"],
                          f"{backup_gb:,.2f} GB (the table without its global secondary indexes)", fixed=not busy))

    # -- S3: attachments and PDFs held after retention_months; requests counted
    month_att_gb = profile.letters * files * letter_file_kb / 1024 / 1024
    month_pdf_gb = profile.letters * a["pdf_kb"] / 1024 / 1024  # a["pdf_kb"]: counted when the sample has it
    pdf_months = float(months)
    if dep.letter_pdf_days is not None:
        # a cache: each PDF for its days plus the day its old version is kept; a late download's copy as long
        pdf_months = min(float(months), (dep.letter_pdf_days + 1) / 30.0) * (1 + a["late_pdf_downloads"])
    if dep.attachments_retention_days is not None:
        # Closed requests' files are deleted once retention-days old (counted from upload; letters close
        # within days, so a month's files are held for about the retention, not for months x retention).
        kept_months = min(months, dep.attachments_retention_days / 30.0)
        standard_gb, archive_gb, transitions = kept_months * month_att_gb + pdf_months * month_pdf_gb, 0.0, 0.0
    elif dep.attachments_archive_days is not None:
        hot_months = min(months, max(1.0, dep.attachments_archive_days / 30.0))
        standard_gb = hot_months * month_att_gb + pdf_months * month_pdf_gb
        archive_gb = (months - hot_months) * month_att_gb
        transitions = profile.letters * a["attachments_per_letter_in_storage"]
    else:
        standard_gb, archive_gb, transitions = months * month_att_gb + pdf_months * month_pdf_gb, 0.0, 0.0
    # Complaint photos are kept as long as their complaint (no retention rule: docs/operations.md, 7)
    standard_gb += months * profile.complaints * a["complaint_photos"] * a["attachment_kb"] / 1024 / 1024
    est.usage.update(s3_standard_gb=standard_gb, s3_archive_gb=archive_gb)
    est.lines.append(Line("S3", standard_gb * p["s3_standard_gb_month"] + archive_gb * p["s3_glacier_ir_gb_month"]
                          + transitions / 1000 * p["s3_lifecycle_transition_per_thousand"]
                          + u.s3_puts / 1000 * p["s3_put_per_thousand"] + u.s3_gets / 1000 * p["s3_get_per_thousand"],
                          f"{standard_gb:,.1f} GB standard, {archive_gb:,.1f} GB Glacier IR, {u.s3_puts:,.0f} PUT, "
                          f"{u.s3_gets:,.0f} GET (counted); PDF {a['pdf_kb']:,.1f} KB"
                          f"{' (counted)' if counted.pdf_bytes else ' (assumed)'}"
                          + (f", kept {dep.letter_pdf_days} days as a cache ({late_pdfs:,.0f} rendered again)"
                             if dep.letter_pdf_days is not None else "")))

    # -- messages (counted)
    est.lines.append(Line("SNS SMS (Indonesia)", u.sms * p["sns_sms_indonesia_per_message"],
                          f"{u.sms:,.0f} messages x ${p['sns_sms_indonesia_per_message']} (counted)"))
    est.lines.append(Line("SES e-mail", u.email / 1000 * p["ses_per_thousand_emails"], f"{u.email:,.0f} e-mails"))

    # -- secrets: Secrets Manager per secret; SSM standard SecureString parameters are free, each read of one is a
    # KMS decrypt. As the code reads them (chalicelib/config.py get_secrets, services/wiring.py letter_keyring):
    # the app keys once per container (kept for its life), at each cold start of a function; the letter keyring
    # only where a letter is signed (issue_letters) or verified, at most every 5 minutes per warm container
    # (Powertools max_age 300), never by a container that does neither.
    cold = a["cold_start_share"] * (n_api + u.invocations.get("stream", 0.0) + u.invocations.get("issue_letters", 0.0))
    warm = a["secret_warm_containers"] * 10 * WORKING_DAYS_PER_MONTH * 12 if busy else 0.0
    keyring_uses = u.invocations.get("issue_letters", 0.0) + profile.verifications
    secret_reads = cold + min(keyring_uses, warm)
    est.lines.append(Line("Secrets Manager", dep.secrets_manager_secrets * p["secrets_manager_secret_month"]
                          + (secret_reads / 1e4 * p["secrets_manager_per_10k_calls"]
                             if dep.secrets_manager_secrets else 0.0),
                          f"{dep.secrets_manager_secrets} secrets", fixed=True))
    est.lines.append(Line("KMS requests (secrets)", secret_reads / 1e4 * p["kms_per_10k_requests"],
                          f"{secret_reads:,.0f} decrypts ({dep.ssm_parameters} SSM SecureString parameters)"))

    # -- CloudWatch logs (counted bytes + platform lines), alarms, dashboard, custom metrics
    platform_lines = dep.system_log_level in ("DEBUG", "INFO")  # WARN: only warnings (dropped logs, ...)
    log_bytes = sum(u.log_bytes.values()) + (total_inv * a["platform_log_bytes"] if platform_lines else 0.0)
    log_gb = log_bytes / 1024 ** 3
    est.usage["log_gb"] = log_gb
    kept_months = (dep.log_retention_days or 3650) / 30.0
    stored_gb = log_gb * a["log_compression"] * min(kept_months, 12.0)  # never-expiring logs keep growing
    billed_log = max(0.0, log_gb - float(free.get("cloudwatch_logs_ingest_gb", 0)))
    est.lines.append(Line("CloudWatch Logs", billed_log * p["cloudwatch_logs_ingest_gb"]
                          + stored_gb * p["cloudwatch_logs_storage_gb_month"],
                          f"{log_gb:,.3f} GB ingested (counted), retention "
                          f"{dep.log_retention_days or 'never expires'} days, Lambda's own lines "
                          + ("written" if platform_lines else f"off (system log level {dep.system_log_level})")))
    alarm_metrics = max(0, dep.alarm_metrics - int(free.get("cloudwatch_alarm_metrics", 0)))
    dashboards = max(0, int(dep.dashboard_default_on) - int(free.get("cloudwatch_dashboards", 0)))
    est.lines.append(Line("CloudWatch alarms and dashboard",
                          alarm_metrics * p["cloudwatch_alarm_metric_month"]
                          + dep.composite_alarms * p.get("cloudwatch_composite_alarm_month", 0.50)
                          + dashboards * p["cloudwatch_dashboard_month"],
                          f"{dep.alarm_metrics} alarm metrics, {dep.composite_alarms} composite, dashboard "
                          f"{'on' if dep.dashboard_default_on else 'off'} by default", fixed=True))
    hours_share = a["metric_hours_share"] if busy else 0.0
    metrics = max(0.0, len(dep.custom_metrics) * hours_share - float(free.get("cloudwatch_custom_metrics", 0)))
    est.lines.append(Line("CloudWatch custom metrics", metrics * p["cloudwatch_custom_metric_month"],
                          f"{len(dep.custom_metrics)} names ({', '.join(dep.custom_metrics)}), published only "
                          "when they happen"))

    # -- X-Ray: the API's sampling rule (API Gateway decides, Lambda passes the decision through), or
    # Lambda active tracing of every function (1 per second + 5 %)
    if dep.xray_active:
        traced = total_inv
        reservoir = 1.0 * HOURS_PER_MONTH * 3600
        traces = min(traced, reservoir) + max(0.0, traced - reservoir) * 0.05
    else:
        # Only API Gateway samples: a function URL request carries no sampling decision, and the functions only
        # pass one through (PassThrough), so the web's calls are not traced.
        traces = min(n_rest, dep.sampling_reservoir * HOURS_PER_MONTH * 3600) + n_rest * dep.sampling_rate
    billed_traces = max(0.0, traces - float(free.get("xray_traces", 0)))
    est.lines.append(Line("X-Ray", billed_traces / 1e6 * p["xray_traces_recorded_per_million"],
                          f"{traces:,.0f} traces"))

    # API answers: the counted bytes of each (as sent, plus the service's headers); any the counts lack, assumed
    counted_answers = min(u.answers, max(0.0, n_api - u.preflights))
    answer_bytes = (u.answer_bytes + counted_answers * a["service_header_bytes"]
                    + (n_api - u.preflights - counted_answers) * a["api_response_kb"] * 1024)
    out_gb = (answer_bytes / 1024 + (u.preflights + u.url_preflights) * a["preflight_kb"]
              + u.pdf_downloads * a["pdf_kb"]
              + u.attachment_views * letter_file_kb) / 1024 / 1024
    est.usage.update(api_answer_gb=answer_bytes / 1024 ** 3)
    billed_out = max(0.0, out_gb - float(free.get("data_transfer_out_gb", 0)))
    answers = (f"API answers {answer_bytes / 1024 ** 3:,.2f} GB: {answer_bytes / max(n_api - u.preflights, 1):,.0f} B "
               + ("each (counted, gzip where accepted, + service headers)" if counted_answers
                  else f"each (assumed: {a['api_response_kb']:g} KB)")) if n_api else "no API answers"
    est.lines.append(Line("Data transfer out", billed_out * p["data_transfer_out_gb"], f"{out_gb:,.1f} GB ({answers})"))
    return est


# ---------------------------------------------------------------------------------------------- bars


@dataclass(frozen=True)
class Bar:
    name: str
    value: float
    limit: float
    unit: str

    @property
    def passed(self) -> bool:
        return self.value <= self.limit


def bars(estimates: dict[str, Estimate], counted: Counted) -> list[Bar]:
    """Issue 14's bars, from the profiles that were priced."""
    out = []
    if "sinjai" in estimates:
        e = estimates["sinjai"]
        out.append(Bar("Sinjai: everything except messages", e.total_usd - e.sms_usd - e.by_service().get(
            "SES e-mail", 0.0), 5.00, "US$/month"))
        letters = e.profile.letters
        out.append(Bar("SMS per issued letter", counted.per_letter.sms, 1.2, "SMS") if letters else
                   Bar("SMS per issued letter", float("nan"), 1.2, "SMS"))
    if "idle" in estimates:
        out.append(Bar("Idle month", estimates["idle"].total_usd, 1.00, "US$/month"))
    if "10x" in estimates:
        e = estimates["10x"]
        out.append(Bar("10x Sinjai: everything except messages",
                       e.total_usd - e.sms_usd - e.by_service().get("SES e-mail", 0.0), 30.00, "US$/month"))
    return out


# ------------------------------------------------------------------------------------------- output


def render(est: Estimate, prices: dict[str, Any], free_tier: bool) -> str:
    rate = float(prices["usd_to_idr"])
    total = est.total_usd
    pr = est.profile
    u = est.usage
    out = [
        f"{pr.name}: {pr.villages} villages, {pr.residents:,} residents; per month {pr.letters:,} letters, "
        f"{pr.complaints:,} complaints, {pr.verifications:,} verifications, {pr.dashboard_views:,} dashboard views",
        f"counted: {u.get('sms', 0):,.0f} SMS, {u.get('email', 0):,.0f} e-mails, {u.get('api_requests', 0):,.0f} API "
        f"requests, {u.get('dynamodb_rru', 0):,.0f} RRU, {u.get('dynamodb_wru', 0):,.0f} WRU, "
        f"{u.get('stream_records', 0):,.0f} stream records",
        f"prices: {prices['region']} ({prices['region_name']}), {prices['date']}; "
        f"Rp {rate:,.0f}/USD; {'always-free tier applied' if free_tier else 'no free tier applied'}",
        "",
        f"{'service':<46} {'USD/month':>10} {'share':>6}  detail",
        "-" * 108,
    ]
    for line in sorted(est.lines, key=lambda item: -item.usd):
        share = 100 * line.usd / total if total else 0.0
        mark = " (fixed)" if line.fixed else ""
        out.append(f"{line.service + mark:<46} {line.usd:>10.2f} {share:>5.1f}%  {line.detail}")
    out.append("-" * 108)
    out.append(f"{'TOTAL':<46} {total:>10.2f} {'':>6}  = Rp {total * rate:,.0f} per month")
    sms = est.sms_usd
    rest = total - sms
    out.append(f"{'  of which SMS':<46} {sms:>10.2f}  everything else: ${rest:,.2f} (Rp {rest * rate:,.0f})")
    return "\n".join(out)


def render_sample(counted: Counted, dep: Deployment) -> str:
    pl = counted.per_letter
    out = [f"sample: {counted.sample_letters} letters driven through the real code in {counted.sample_seconds:.0f} s "
           f"({counted.policy})",
           f"per issued letter (counted): {pl.sms:.2f} SMS, {pl.email:.2f} e-mails, {pl.push:.2f} Web Push, "
           f"{sum(pl.invocations.values()):.1f} Lambda invocations "
           f"({', '.join(f'{k} {v:.1f}' for k, v in sorted(pl.invocations.items()))}), "
           f"{sum(pl.ddb_calls.values()):.1f} DynamoDB calls, {pl.rru:.1f} RRU, {pl.wru:.1f} WRU, "
           f"{pl.stream_records:.1f} stream records"]
    sms = counted.messages_by_event.get("sms", {})
    if sms:
        out.append("SMS per letter by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(sms.items())))
    sensitivity = whatsapp_sensitivity(counted)
    if sensitivity:
        out.append(sensitivity)
    emails = counted.messages_by_event.get("email", {})
    if emails:
        out.append("e-mails per letter by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(emails.items())))
    out.append(f"{'route / handler (per call)':<52} {'per letter':>10} {'DB calls':>8} {'RRU':>6} {'WRU':>6} "
               f"{'own ms':>7}")
    for name, e in sorted(counted.endpoints.items(), key=lambda kv: -kv[1]["per_letter"]):
        out.append(f"{name[:52]:<52} {e['per_letter']:>10.2f} {e['ddb_calls']:>8.1f} {e['rru']:>6.1f} "
                   f"{e['wru']:>6.1f} {e['own_ms']:>7.1f}")
    answers = render_answers(counted)
    if answers:
        out.append(answers)
    out += render_storage(counted)
    memory = ", ".join(f"{k} {v:.0f}" for k, v in dep.memory_mb.items())
    xray = "active on every function" if dep.xray_active else f"API sampling rule {dep.sampling_rate:.0%}"
    out.append(f"deployment: {dep.architecture}, memory {memory} MB; X-Ray {xray}"
               f"; log retention {dep.log_retention_days} days; {dep.alarm_metrics} alarm metrics; dashboard "
               f"{'on' if dep.dashboard_default_on else 'off'} by default; {dep.secrets_manager_secrets} Secrets "
               f"Manager secrets, {dep.ssm_parameters} SSM parameters; attachments "
               + (f"{dep.attachment_kb:.0f} KB a photo (measured)" if dep.attachment_kb else "assumed size")
               + (f", {dep.card_photo_kb:.0f} KB a KTP photo (measured)" if dep.card_photo_kb else "")
               + (f", deleted {dep.attachments_retention_days} days after upload once closed"
                  if dep.attachments_retention_days else ""))
    return "\n".join(out)


def render_answers(counted: Counted) -> str | None:
    """The mean API answer of a letter's calls, as counted: on the wire and uncompressed."""
    pl = counted.per_letter
    if not pl.answers:
        return None
    service = ASSUMPTIONS["service_header_bytes"][0]
    sent, plain = pl.answer_bytes / pl.answers, pl.answer_identity_bytes / pl.answers
    return (f"API answers per letter (counted, {pl.answers:.1f} answers; browser calls send Accept-Encoding: gzip, "
            f"deflate, br): mean {sent:,.0f} B as sent (body and the app's headers; uncompressed bodies "
            f"{plain:,.0f} B), "
            f"{sent + service:,.0f} B with the {service:.0f} B of headers the service adds (assumed)")


WHATSAPP_DELIVERY = "POST /v1/webhooks/whatsapp"


def whatsapp_sensitivity(counted: Counted, bar: float = 1.2) -> str | None:
    """SMS per letter against the share of logins done by WhatsApp message, from the counts: each login that
    proved a phone did it by an SMS code or a WhatsApp message (one webhook delivery each), so at share s the
    SMS are the other SMS plus (1 - s) of those logins. A WhatsApp login that would have been an e-mail code
    counts as an SMS here: an upper bound at 0 %."""
    logins_by_wa = float(counted.endpoints.get(WHATSAPP_DELIVERY, {}).get("per_letter", 0.0))
    sms = counted.messages_by_event.get("sms", {})
    if not sms and not logins_by_wa:
        return None
    by_code = float(sms.get("login_code", 0.0))
    proofs = by_code + logins_by_wa
    other = counted.per_letter.sms - by_code
    if proofs <= 0:
        return None

    def at(share: float) -> float:
        return other + proofs * (1 - share)

    counted_share = logins_by_wa / proofs
    needed = 1 - (bar - other) / proofs
    even = ("none needed" if needed <= 0 else f"{needed:.0%}" if needed <= 1 else "not reachable by logins alone")
    return (f"SMS per letter by share of logins by WhatsApp message ({proofs:.2f} phone-proving logins and {other:.2f} "
            f"other SMS per letter, counted): 0 % -> {at(0):.2f}; {counted_share:.0%} (SHARES) -> "
            f"{at(counted_share):.2f}; 100 % -> {at(1):.2f}; break-even for <= {bar:g}: {even}")


def render_storage(counted: Counted, months: int = 12) -> list[str]:
    """The stored bytes per letter by item kind (table and index copies), what stays and what expires."""
    st = counted.storage
    if not st:
        return ["stored per letter: not counted (counts saved before storage was counted)"]
    rows = st["per_letter"]
    kept = sum(e["kept"] for e in rows.values())
    held = held_bytes(rows, months) / months
    out = [f"stored per issued letter (counted, with 100 B per item and index copy): "
           f"{sum(e['table'] + e['index'] for e in rows.values()) / 1024:.1f} KB written, {kept / 1024:.1f} KB kept "
           f"for good, {held / 1024:.1f} KB a letter held on average after {months} months; PDF "
           + (f"{counted.pdf_bytes / 1024:.1f} KB (counted)" if counted.pdf_bytes else "not counted"),
           f"  {'item kind':<22} {'items':>6} {'table B':>8} {'index B':>8} {'kept B':>8}  expires (days: bytes)"]
    for kind, e in sorted(rows.items(), key=lambda kv: -(kv[1]["table"] + kv[1]["index"])):
        ttl = ", ".join(f"{d} d: {b:,.0f}" for d, b in sorted(e["ttl"].items(), key=lambda kv: float(kv[0])))
        out.append(f"  {kind[:22]:<22} {e['items']:>6.2f} {e['table']:>8,.0f} {e['index']:>8,.0f} "
                   f"{e['kept']:>8,.0f}  {ttl or '-'}")
    complaint = st.get("per_complaint")
    if complaint:
        out.append(f"  per complaint (driven for its storage only): "
                   f"{sum(e['table'] + e['index'] for e in complaint.values()) / 1024:.1f} KB written, "
                   f"{held_bytes(complaint, months) / months / 1024:.1f} KB held on average after {months} months: "
                   + ", ".join(f"{k} {e['table'] + e['index']:,.0f} B" for k, e in
                               sorted(complaint.items(), key=lambda kv: -(kv[1]["table"] + kv[1]["index"]))))
    resident = st.get("per_resident")
    if resident:
        out.append(f"  per resident of a village register (added by an operator, as an import does): "
                   f"{sum(e['kept'] for e in resident.values()):,.0f} B kept: "
                   + ", ".join(f"{k} {e['table']:,.0f} B + index {e['index']:,.0f} B" for k, e in
                               sorted(resident.items(), key=lambda kv: -(kv[1]["table"] + kv[1]["index"]))))
    for group, label in (("per_village_month", "per village and month"), ("per_village_year", "per village and year")):
        if st.get(group):
            out.append(f"  {label}: " + ", ".join(f"{k} {e['table'] + e['index']:,.0f} B"
                                                  for k, e in sorted(st[group].items())))
    return out


def render_assumptions() -> str:
    out = ["assumptions (not counted):"]
    for k, v in SHARES.items():
        out.append(f"  share {k}: {v:.0%} (see SHARES in bench/cost.py for the source)")
    for k, (v, why) in ASSUMPTIONS.items():
        out.append(f"  {k}: {v:g} - {why}")
    return "\n".join(out)


def render_bars(items: list[Bar], with_free_tier: list[Bar] | None = None, free_tier: bool = False) -> str:
    tier = "always-free tier applied" if free_tier else "no free tier"
    out = [f"bars (issue 14; messages = SMS and e-mail; {tier}):"]
    for n, b in enumerate(items):
        verdict = "n/a " if math.isnan(b.value) else "PASS" if b.passed else "FAIL"
        line = f"  {verdict}  {b.name}: {b.value:,.2f} {b.unit} (bar <= {b.limit:,.2f})"
        if with_free_tier and b.unit.startswith("US$"):
            f = with_free_tier[n]
            verdict_free = "PASS" if f.passed else "FAIL"
            line += f"; in an account of its own, always-free tier applied: {f.value:,.2f} {verdict_free}"
        out.append(line)
    return "\n".join(out)


def counted_to_json(c: Counted) -> dict[str, Any]:
    return {"sample_letters": c.sample_letters, "per_letter": c.per_letter.__dict__,
            "per_verification": c.per_verification.__dict__, "per_dashboard_view": c.per_dashboard_view.__dict__,
            "per_staff_login": c.per_staff_login.__dict__,
            "per_schedule_run": {k: v.__dict__ for k, v in c.per_schedule_run.items()}, "policy": c.policy,
            "endpoints": c.endpoints, "messages_by_event": c.messages_by_event, "sample_seconds": c.sample_seconds,
            "storage": c.storage, "pdf_bytes": c.pdf_bytes}


def counted_from_json(d: dict[str, Any]) -> Counted:
    return Counted(sample_letters=int(d["sample_letters"]), per_letter=Usage(**d["per_letter"]),
                   per_verification=Usage(**d["per_verification"]),
                   per_dashboard_view=Usage(**d["per_dashboard_view"]), per_staff_login=Usage(**d["per_staff_login"]),
                   per_schedule_run={k: Usage(**v) for k, v in d["per_schedule_run"].items()},
                   policy=str(d.get("policy", "")), endpoints=d.get("endpoints", {}),
                   messages_by_event=d.get("messages_by_event", {}), sample_seconds=float(d.get("sample_seconds", 0)),
                   storage=d.get("storage", {}), pdf_bytes=float(d.get("pdf_bytes", 0)))


def as_dict(est: Estimate, prices: dict[str, Any]) -> dict[str, Any]:
    rate = float(prices["usd_to_idr"])
    return {
        "profile": est.profile.__dict__, "region": prices["region"], "prices_date": prices["date"],
        "usd_to_idr": rate,
        "lines": [{"service": line.service, "usd": round(line.usd, 4), "detail": line.detail, "fixed": line.fixed}
                  for line in est.lines],
        "total_usd": round(est.total_usd, 2), "total_idr": round(est.total_usd * rate),
        "usage": {k: round(v, 3) for k, v in est.usage.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), action="append",
                        help="district profile (repeatable; default: sinjai, idle and 10x)")
    parser.add_argument("--sample-letters", type=int, default=20, help="letters driven through the code (20)")
    parser.add_argument("--sample-villages", type=int, default=4, help="villages the sample spreads over (4)")
    parser.add_argument("--whatsapp-share", type=float, help="share of logins by WhatsApp message "
                        f"(default SHARES: {SHARES['whatsapp_login'] * 100:.0f}%%)")
    parser.add_argument("--counts", type=Path, help="reuse counts saved with --save-counts (no simulation)")
    parser.add_argument("--save-counts", type=Path, help="write the sample's counts to this JSON file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--free-tier", action="store_true", help="subtract the account's always-free tier")
    parser.add_argument("--prices", type=Path, default=HERE / "prices.json")
    parser.add_argument("--measurements", type=Path, default=HERE / "measurements.json")
    args = parser.parse_args(argv)

    prices = load_prices(args.prices)
    meas = json.loads(args.measurements.read_text()) if args.measurements.exists() else {}
    if args.counts:
        counted = counted_from_json(json.loads(args.counts.read_text()))
    else:
        sys.path.insert(0, str(HERE))
        import cost_sim

        log = (lambda _: None) if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
        shares = dict(SHARES) if args.whatsapp_share is None else {**SHARES, "whatsapp_login": args.whatsapp_share}
        result = cost_sim.run_sample(args.sample_letters, args.sample_villages, shares, log=log,
                                     whatsapp_polls=int(ASSUMPTIONS["whatsapp_pending_polls"][0]))
        counted = counted_from_sample(result)
    if args.save_counts:
        args.save_counts.write_text(json.dumps(counted_to_json(counted), indent=1, default=float) + "\n")
    dep = read_deployment(ROOT, meas)
    names = args.profile or ["sinjai", "idle", "10x"]
    estimates = {n: estimate(PROFILES[n](), counted, prices, dep, free_tier=args.free_tier) for n in names}
    results = bars(estimates, counted)
    if args.json:
        print(json.dumps({"estimates": [as_dict(e, prices) for e in estimates.values()],
                          "bars": [{**b.__dict__, "passed": b.passed} for b in results],
                          "counted": counted_to_json(counted)}, indent=2, default=float))
        return 0
    print(render_sample(counted, dep))
    print()
    print("\n\n".join(render(e, prices, args.free_tier) for e in estimates.values()))
    print()
    print(render_assumptions())
    print()
    free = None
    if not args.free_tier:
        free = bars({n: estimate(PROFILES[n](), counted, prices, dep, free_tier=True) for n in names}, counted)
    print(render_bars(results, free, args.free_tier))
    return 0


if __name__ == "__main__":
    sys.exit(main())
