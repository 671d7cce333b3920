"""Monthly AWS cost of one Balai deployment for a district profile, by service (stdlib only).

Usage:
    python bench/cost.py --profile sinjai|10x [--json] [--units] [--free-tier]
        [--prices bench/prices.json] [--measurements bench/measurements.json]

Prices come from bench/prices.json (region, date and exchange rate are in that file). Lambda durations and
memory come from bench/measurements.json when it exists; every figure taken from the defaults below is
marked "default" in the output. Expected shape of measurements.json (every key optional):
    {"functions": {"api": {"memory_mb": 512, "mean_ms": 45.0, "init_ms": 800.0},
                   "stream": {"memory_mb": 256, "mean_ms": 30.0, "send_ms": 120.0},
                   "schedule": {"memory_mb": 256, "mean_ms": 300.0}},
     "endpoints": {"submit": {"mean_ms": 120.0}, "transition": {"mean_ms": 100.0}, ...}}
DynamoDB request units are counted per endpoint from the operations each makes (ENDPOINT_OPS), with the
on-demand rules: reads 4 KB per RRU (half for eventually consistent, double in a transaction), writes
1 KB per WRU (double in a transaction), and every GSI that holds the item costs one more write per KB
(two when the index key changes: a delete and a put).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
WORKING_DAYS_PER_MONTH = 22

# ------------------------------------------------------------------------------------------------ profiles


@dataclass(frozen=True)
class Profile:
    """A district's monthly activity; every figure is per month except villages and residents."""

    name: str
    villages: int
    residents: int
    letters: int  # service requests (permohonan) per month; most end in an issued letter
    complaints: int
    sms: int  # SMS parts sent
    emails: int
    verifications: int  # QR verifications of issued letters
    dashboard_views: int  # public transparency pages and the Pendopo screen
    retention_months: int = 12  # how much history the table and bucket hold when the bill is read
    kabupaten: int = 1


def sinjai() -> Profile:
    """Kabupaten Sinjai: 80 villages, ~260,000 residents, 10,000 letters a month.

    Assumptions (stated, not measured):
    - complaints: 1,000/month (one per 260 residents a month, ~12 per village).
    - SMS 40,000/month: per letter 1.5 OTP logins (submit, then download) + received + outcome + 0.15
      revision notices = 3.65 -> 36,500; per complaint OTP + acknowledged + resolved = 3 -> 3,000; staff
      escalations by SMS ~500.
    - e-mail 25,000/month: per letter the operator (new request) and the kades (waiting signature) ->
      20,000; daily digest 80 villages x 2 operators x 22 working days -> 3,520; complaint routing 1,000;
      the rest escalations.
    - verifications: 4,000/month (40 % of letters checked once by a receiving office).
    - dashboard views: 30,000/month (public pages plus a Pendopo screen refreshing every minute in office
      hours, ~10,500).
    """
    return Profile(
        name="Kabupaten Sinjai",
        villages=80,
        residents=260_000,
        letters=10_000,
        complaints=1_000,
        sms=40_000,
        emails=25_000,
        verifications=4_000,
        dashboard_views=30_000,
    )


def tenfold() -> Profile:
    """A district ten times Sinjai's size: every volume x10 (one kabupaten, one deployment)."""
    base = sinjai()
    return Profile(
        name="10x Sinjai",
        villages=base.villages * 10,
        residents=base.residents * 10,
        letters=base.letters * 10,
        complaints=base.complaints * 10,
        sms=base.sms * 10,
        emails=base.emails * 10,
        verifications=base.verifications * 10,
        dashboard_views=base.dashboard_views * 10,
    )


PROFILES = {"sinjai": sinjai, "10x": tenfold}

# ------------------------------------------------------------------------------------------ item sizes, KB
REQUEST_KB = 2.0  # fields + applicant snapshot; in GSI1..GSI4
AUDIT_KB = 0.3
OUTBOX_KB = 0.5  # in GSI2 (by status)
TRACKING_KB = 0.2
IDEMPOTENCY_KB = 0.5  # Powertools idempotency record before completion
IDEMPOTENCY_DONE_KB = 3.0  # ... and with the stored response
VILLAGE_KB = 1.0
LETTER_TYPE_KB = 2.0
PROFILE_KB = 1.0
OTP_KB = 0.3
LETTER_KB = 0.5  # issued letter facts; in GSI1
COUNTER_KB = 0.1
COMPLAINT_KB = 1.5  # in GSI1..GSI3
AGGREGATE_KB = 0.3
PDF_KB = 5.0
ATTACHMENT_KB = 300.0  # a phone photo of a KTP/KK, resized by the web client
API_RESPONSE_KB = 3.0

# ------------------------------------------------------------------------------- DynamoDB operation model
# An op is (kind, item KB, GSI item writes) for writes, (kind, KB read) for reads:
#   get      GetItem, eventually consistent      ceil(kb/4) * 0.5 RRU
#   cget     GetItem, strongly consistent        ceil(kb/4) RRU
#   query    Query (total KB returned), eventual ceil(kb/4) * 0.5 RRU
#   tget     one item of a TransactGetItems      ceil(kb/4) * 2 RRU
#   write    PutItem/UpdateItem                  ceil(kb) WRU + gsi * ceil(kb)
#   twrite   one item of a TransactWriteItems    ceil(kb) * 2 WRU + gsi * ceil(kb)
# A fractional weight (the 4th element) scales an op that happens on only some calls.
Op = tuple[Any, ...]

ENDPOINT_OPS: dict[str, list[Op]] = {
    # citizen login: look the citizen up by NIK hash, store the code, queue the SMS (outbox row)
    "otp_send": [("get", PROFILE_KB), ("write", OTP_KB, 0), ("write", OUTBOX_KB, 1)],
    # read the code strongly (attempt counting), burn it, create the citizen on a first login (30 %)
    "otp_verify": [("cget", OTP_KB), ("write", OTP_KB, 0), ("get", PROFILE_KB), ("write", PROFILE_KB, 1, 0.3)],
    "staff_login": [("get", 0.5)],
    "region": [("get", 1.0), ("query", 4.0)],
    "letter_types": [("query", 8.0)],
    # idempotency guard; TransactGet of village, letter type, profile; one TransactWrite of the request,
    # its audit event, two outbox rows (operator, citizen) and the tracking code; idempotency completion
    "submit": [
        ("write", IDEMPOTENCY_KB, 0),
        ("tget", VILLAGE_KB), ("tget", LETTER_TYPE_KB), ("tget", PROFILE_KB),
        ("twrite", REQUEST_KB, 4), ("twrite", AUDIT_KB, 0), ("twrite", OUTBOX_KB, 1),
        ("twrite", OUTBOX_KB, 1), ("twrite", TRACKING_KB, 0),
        ("write", IDEMPOTENCY_DONE_KB, 0),
    ],
    # read the request; one TransactWrite: request with version check (4 GSI copies updated, the status
    # index key changes: 5 index writes), audit event, 1.5 outbox rows on average
    "transition": [
        ("get", REQUEST_KB),
        ("twrite", REQUEST_KB, 5), ("twrite", AUDIT_KB, 0), ("twrite", OUTBOX_KB, 1, 1.5),
    ],
    # a transition plus the yearly counter ADD and the letter item, read of village settings and type
    "issue": [
        ("get", REQUEST_KB), ("get", VILLAGE_KB), ("get", LETTER_TYPE_KB),
        ("twrite", REQUEST_KB, 5), ("twrite", AUDIT_KB, 0), ("twrite", OUTBOX_KB, 1),
        ("twrite", COUNTER_KB, 0), ("twrite", LETTER_KB, 1),
    ],
    "queue": [("query", 20 * REQUEST_KB)],  # one page of 20
    "request_detail": [("get", REQUEST_KB), ("query", 10 * AUDIT_KB)],
    "my_requests": [("query", 5 * REQUEST_KB)],
    "track": [("get", TRACKING_KB), ("get", REQUEST_KB)],
    "letter_download": [("get", REQUEST_KB), ("get", LETTER_KB)],
    "verify": [("get", LETTER_KB), ("write", COUNTER_KB, 0)],  # every verification is counted
    "stats": [("get", 1.0), ("query", 12 * AGGREGATE_KB)],
    "complaint_submit": [
        ("write", IDEMPOTENCY_KB, 0),
        ("tget", VILLAGE_KB), ("tget", PROFILE_KB),
        ("twrite", COMPLAINT_KB, 3), ("twrite", AUDIT_KB, 0), ("twrite", OUTBOX_KB, 1),
        ("write", IDEMPOTENCY_DONE_KB, 0),
    ],
    "complaint_transition": [
        ("get", COMPLAINT_KB),
        ("twrite", COMPLAINT_KB, 4), ("twrite", AUDIT_KB, 0), ("twrite", OUTBOX_KB, 1),
    ],
}

# Work of the event handlers, per unit of what triggers it.
HANDLER_OPS: dict[str, list[Op]] = {
    # per notification: claim the outbox row (conditional update, status index key changes) and record
    # the delivery state (again)
    "stream_per_notification": [("write", OUTBOX_KB, 2), ("write", OUTBOX_KB, 2)],
    # per state change: ADD to the village's and the district's monthly aggregate items
    "stream_per_state_change": [("write", AGGREGATE_KB, 0), ("write", AGGREGATE_KB, 0)],
    # every 15 minutes, per kabupaten: the due-time index (GSI4) from the last run to now
    "sla_run": [("query", 4.0)],
    # daily, per village: counts waiting / near SLA / overdue
    "digest_per_village": [("query", 4.0)],
}

# API calls each business event causes (the front end's usual path), per letter, complaint, etc.
CALLS_PER_LETTER: dict[str, float] = {
    "otp_send": 1.5, "otp_verify": 1.5,  # submit, later download
    "letter_types": 1.0, "submit": 1.0,
    "transition": 2.3,  # review, approve + 0.15 x (request_revision + resubmit)
    "issue": 1.0,
    "queue": 4.0, "request_detail": 3.0,  # operator and kades
    "my_requests": 2.0, "track": 3.0, "letter_download": 1.2,
}
CALLS_PER_COMPLAINT: dict[str, float] = {
    "otp_send": 1.0, "otp_verify": 1.0, "complaint_submit": 1.0,
    "complaint_transition": 3.0, "queue": 2.0, "request_detail": 3.0,
}
CALLS_PER_VERIFICATION = {"verify": 1.0}
CALLS_PER_DASHBOARD_VIEW = {"stats": 1.0, "region": 0.5}
STAFF_LOGINS_PER_VILLAGE_DAY = 3  # operator, kades, a second operator
STATE_CHANGES_PER_LETTER = 1 + 2.3 + 1  # submit, transitions, issue
STATE_CHANGES_PER_COMPLAINT = 1 + 3
ATTACHMENTS_PER_LETTER = 1.5
PHOTOS_PER_COMPLAINT = 0.5
ATTACHMENT_VIEWS = 2.0  # operator and kades open each attachment

# ------------------------------------------------------------------------------- Lambda defaults
# Used where bench/measurements.json has no figure; marked "default" in the output. Memory as planned for
# the prod stage; durations are estimates from STACK-NOTES figures (PDF render ~47 ms, SNS publish ~100 ms).
DEFAULT_FUNCTIONS: dict[str, dict[str, float]] = {
    "api": {"memory_mb": 512, "mean_ms": 40.0, "init_ms": 800.0},
    "stream": {"memory_mb": 256, "mean_ms": 30.0, "send_ms": 120.0},
    "schedule": {"memory_mb": 256, "mean_ms": 300.0},
}
DEFAULT_ENDPOINT_MS: dict[str, float] = {
    "submit": 120.0, "transition": 100.0, "issue": 250.0, "complaint_submit": 110.0,
    "complaint_transition": 100.0, "otp_send": 60.0, "otp_verify": 60.0, "staff_login": 150.0,
}
API_COLD_START_SHARE = 0.03  # invocations that pay an INIT (billed since Aug 2025)
STREAM_RECORDS_PER_INVOCATION = 2.0  # batches are small at village traffic
LOG_KB = {"api": 1.2, "stream": 1.0, "stream_per_notification": 0.5, "schedule": 2.0}
LOG_COMPRESSION = 0.15  # CloudWatch bills stored logs compressed
LOG_RETENTION_MONTHS = 1
XRAY_RESERVOIR_PER_SECOND = 1.0  # Powertools/X-Ray default sampling: 1 per second, then 5 %
XRAY_RATE = 0.05
SECRETS = 2  # app secret, letter keyring
SECRET_CACHE_SECONDS = 300  # Powertools parameters max_age
WARM_CONTAINERS = {"api": 2, "stream": 1, "schedule": 0}  # around the clock, for secret/KMS refreshes
ALARM_METRICS = 18  # infra/balai.yaml: 9 single-metric alarms + 2 + 6 + 1 in metric-math alarms
DASHBOARDS = 1
CUSTOM_METRICS = 8  # Powertools EMF metrics the app publishes (NotificationFailed among them)


# ------------------------------------------------------------------------------------------- arithmetic


def op_units(op: Op) -> tuple[float, float]:
    """(RRU, WRU) of one operation, weight applied."""
    kind, kb = op[0], float(op[1])
    gsi = float(op[2]) if len(op) > 2 else 0.0
    weight = float(op[3]) if len(op) > 3 else 1.0
    if kind == "get" or kind == "query":
        return max(1, math.ceil(kb / 4)) * 0.5 * weight, 0.0
    if kind == "cget":
        return max(1, math.ceil(kb / 4)) * weight, 0.0
    if kind == "tget":
        return max(1, math.ceil(kb / 4)) * 2.0 * weight, 0.0
    wru = max(1, math.ceil(kb))
    if kind == "write":
        return 0.0, (wru + gsi * wru) * weight
    if kind == "twrite":
        return 0.0, (2 * wru + gsi * wru) * weight
    raise ValueError(f"unknown op kind {kind!r}")


def ops_units(ops: list[Op]) -> tuple[float, float]:
    rru = wru = 0.0
    for op in ops:
        r, w = op_units(op)
        rru += r
        wru += w
    return rru, wru


def items_written(ops: list[Op]) -> float:
    """Base-table item changes, i.e. stream records."""
    return sum(float(op[3]) if len(op) > 3 else 1.0 for op in ops if op[0] in ("write", "twrite"))


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
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.service] = out.get(line.service, 0.0) + line.usd
        return out


def load_prices(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def load_measurements(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    return dict(json.loads(path.read_text()))


def _function_setting(meas: dict[str, Any], fn: str, key: str, sources: dict[str, str]) -> float:
    value = meas.get("functions", {}).get(fn, {}).get(key)
    if value is None:
        sources[f"{fn}.{key}"] = "default"
        return float(DEFAULT_FUNCTIONS[fn][key])
    sources[f"{fn}.{key}"] = "measured"
    return float(value)


def _endpoint_ms(meas: dict[str, Any], endpoint: str, api_mean: float, sources: dict[str, str]) -> float:
    value = meas.get("endpoints", {}).get(endpoint, {}).get("mean_ms")
    if value is not None:
        sources[f"endpoint.{endpoint}"] = "measured"
        return float(value)
    sources[f"endpoint.{endpoint}"] = "default"
    return DEFAULT_ENDPOINT_MS.get(endpoint, api_mean)


def api_calls(profile: Profile) -> dict[str, float]:
    """API calls per endpoint per month."""
    calls: dict[str, float] = {}

    def add(per: dict[str, float], times: float) -> None:
        for endpoint, n in per.items():
            calls[endpoint] = calls.get(endpoint, 0.0) + n * times

    add(CALLS_PER_LETTER, profile.letters)
    add(CALLS_PER_COMPLAINT, profile.complaints)
    add(CALLS_PER_VERIFICATION, profile.verifications)
    add(CALLS_PER_DASHBOARD_VIEW, profile.dashboard_views)
    staff_logins = profile.villages * STAFF_LOGINS_PER_VILLAGE_DAY * WORKING_DAYS_PER_MONTH
    if profile.letters or profile.complaints:
        # Staff log in only where there is work; a district without traffic has no staff sessions.
        calls["staff_login"] = calls.get("staff_login", 0.0) + staff_logins
    return {k: v for k, v in calls.items() if v}


def estimate(profile: Profile, prices: dict[str, Any], meas: dict[str, Any], free_tier: bool = False) -> Estimate:
    """The monthly bill for profile, line by line."""
    p = {k: float(v["usd"]) for k, v in prices["prices"].items()}
    free = prices["always_free_per_month"] if free_tier else {}
    est = Estimate(profile=profile)
    u = est.usage
    src = est.sources

    # -- API traffic
    calls = api_calls(profile)
    n_api = sum(calls.values())
    u["api_requests"] = n_api

    # -- DynamoDB request units
    rru = wru = 0.0
    stream_records = 0.0
    for endpoint, n in calls.items():
        r, w = ops_units(ENDPOINT_OPS[endpoint])
        rru += r * n
        wru += w * n
        stream_records += items_written(ENDPOINT_OPS[endpoint]) * n
    notifications = profile.sms + profile.emails
    state_changes = profile.letters * STATE_CHANGES_PER_LETTER + profile.complaints * STATE_CHANGES_PER_COMPLAINT
    handler_work = [
        (HANDLER_OPS["stream_per_notification"], notifications),
        (HANDLER_OPS["stream_per_state_change"], state_changes),
        (HANDLER_OPS["sla_run"], profile.kabupaten * HOURS_PER_MONTH * 4),
        (HANDLER_OPS["digest_per_village"], profile.villages * 30),
    ]
    for ops, n in handler_work:
        r, w = ops_units(ops)
        rru += r * n
        wru += w * n
        stream_records += items_written(ops) * n
    u.update(dynamodb_rru=rru, dynamodb_wru=wru, stream_records=stream_records)

    # -- storage held after retention_months
    months = profile.retention_months
    per_letter_kb = REQUEST_KB * 5 + AUDIT_KB * 5 + TRACKING_KB + LETTER_KB * 2 + OUTBOX_KB * 3.65
    per_complaint_kb = COMPLAINT_KB * 4 + AUDIT_KB * 4 + OUTBOX_KB * 3
    citizens = min(profile.residents, (profile.letters + profile.complaints) * months * 0.6)
    table_gb = (
        months * (profile.letters * per_letter_kb + profile.complaints * per_complaint_kb)
        + citizens * PROFILE_KB * 2  # profile + its index copy
        + profile.villages * 40.0  # village, catalogue, staff, aggregates
    ) / 1024 / 1024
    u["table_gb"] = table_gb

    # -- Lambda
    api_mem = _function_setting(meas, "api", "memory_mb", src) / 1024
    api_mean = _function_setting(meas, "api", "mean_ms", src)
    api_init = _function_setting(meas, "api", "init_ms", src)
    api_seconds = sum(n * _endpoint_ms(meas, e, api_mean, src) for e, n in calls.items()) / 1000
    api_seconds += n_api * API_COLD_START_SHARE * api_init / 1000
    st_mem = _function_setting(meas, "stream", "memory_mb", src) / 1024
    st_mean = _function_setting(meas, "stream", "mean_ms", src)
    st_send = _function_setting(meas, "stream", "send_ms", src)
    n_stream = stream_records / STREAM_RECORDS_PER_INVOCATION
    st_seconds = (n_stream * st_mean + notifications * st_send) / 1000
    sc_mem = _function_setting(meas, "schedule", "memory_mb", src) / 1024
    sc_mean = _function_setting(meas, "schedule", "mean_ms", src)
    n_schedule = profile.kabupaten * (HOURS_PER_MONTH * 4 + 30)  # SLA every 15 min + daily digest
    sc_seconds = n_schedule * sc_mean / 1000
    gb_s = {"api": api_seconds * api_mem, "stream": st_seconds * st_mem, "schedule": sc_seconds * sc_mem}
    invocations = {"api": n_api, "stream": n_stream, "schedule": n_schedule}
    u.update({f"lambda_gb_s_{k}": v for k, v in gb_s.items()})
    u.update({f"lambda_invocations_{k}": v for k, v in invocations.items()})
    # The free tier is shared: apply it in proportion to each function's use.
    total_gb_s = sum(gb_s.values())
    total_inv = sum(invocations.values())
    free_gb_s = min(total_gb_s, float(free.get("lambda_gb_seconds", 0)))
    free_inv = min(total_inv, float(free.get("lambda_requests", 0)))
    for fn in ("api", "stream", "schedule"):
        share_gb = gb_s[fn] / total_gb_s if total_gb_s else 0.0
        share_inv = invocations[fn] / total_inv if total_inv else 0.0
        billed_gb = gb_s[fn] - free_gb_s * share_gb
        billed_inv = invocations[fn] - free_inv * share_inv
        cost = billed_gb * p["lambda_gb_second_x86"] + billed_inv / 1e6 * p["lambda_request_per_million"]
        est.lines.append(Line(
            f"Lambda {fn}", cost,
            f"{invocations[fn]:,.0f} invocations, {gb_s[fn]:,.0f} GB-s",
            fixed=(fn == "schedule"),  # runs every 15 minutes whatever the traffic
        ))

    # -- API Gateway
    est.lines.append(Line("API Gateway REST", n_api / 1e6 * p["apigw_rest_request_per_million"],
                          f"{n_api:,.0f} requests"))

    # -- DynamoDB
    est.lines.append(Line("DynamoDB requests",
                          rru / 1e6 * p["dynamodb_rru_per_million"] + wru / 1e6 * p["dynamodb_wru_per_million"],
                          f"{rru:,.0f} RRU, {wru:,.0f} WRU"))
    billed_gb = max(0.0, table_gb - float(free.get("dynamodb_storage_gb", 0)))
    est.lines.append(Line("DynamoDB storage", billed_gb * p["dynamodb_storage_gb_month"],
                          f"{table_gb:,.2f} GB after {months} months"))
    est.lines.append(Line("DynamoDB PITR", table_gb * p["dynamodb_pitr_gb_month"], f"{table_gb:,.2f} GB"))

    # -- S3: letters (PDF) and uploads (attachments, complaint photos)
    puts = profile.letters * (1 + ATTACHMENTS_PER_LETTER) + profile.complaints * PHOTOS_PER_COMPLAINT
    gets = calls.get("letter_download", 0.0) + profile.letters * ATTACHMENTS_PER_LETTER * ATTACHMENT_VIEWS
    s3_gb = months * (
        profile.letters * (PDF_KB + ATTACHMENTS_PER_LETTER * ATTACHMENT_KB)
        + profile.complaints * PHOTOS_PER_COMPLAINT * ATTACHMENT_KB
    ) / 1024 / 1024
    u.update(s3_gb=s3_gb, s3_puts=puts, s3_gets=gets)
    est.lines.append(Line("S3", s3_gb * p["s3_standard_gb_month"] + puts / 1000 * p["s3_put_per_thousand"]
                          + gets / 1000 * p["s3_get_per_thousand"],
                          f"{s3_gb:,.1f} GB, {puts:,.0f} PUT, {gets:,.0f} GET"))

    # -- messaging
    est.lines.append(Line("SNS SMS (Indonesia)", profile.sms * p["sns_sms_indonesia_per_message"],
                          f"{profile.sms:,} messages x ${p['sns_sms_indonesia_per_message']}"))
    est.lines.append(Line("SES e-mail", profile.emails / 1000 * p["ses_per_thousand_emails"],
                          f"{profile.emails:,} e-mails"))

    # -- secrets and keys: every warm container refreshes its cached secrets every 5 minutes
    refreshes = sum(WARM_CONTAINERS.values()) * SECONDS_PER_MONTH / SECRET_CACHE_SECONDS
    cold = n_api * API_COLD_START_SHARE
    secret_calls = (refreshes + cold + n_schedule) * SECRETS
    est.lines.append(Line("Secrets Manager", SECRETS * p["secrets_manager_secret_month"],
                          f"{SECRETS} secrets", fixed=True))
    est.lines.append(Line("Secrets Manager API", secret_calls / 1e4 * p["secrets_manager_per_10k_calls"],
                          f"{secret_calls:,.0f} GetSecretValue"))
    # Secrets Manager and DynamoDB (aws/dynamodb) each ask KMS about as often as the secrets refresh.
    est.lines.append(Line("KMS requests", 2 * secret_calls / 1e4 * p["kms_per_10k_requests"],
                          f"{2 * secret_calls:,.0f} requests"))

    # -- CloudWatch
    log_gb = (n_api * LOG_KB["api"] + n_stream * LOG_KB["stream"]
              + notifications * LOG_KB["stream_per_notification"] + n_schedule * LOG_KB["schedule"]) / 1024 / 1024
    u["log_gb"] = log_gb
    billed_log = max(0.0, log_gb - float(free.get("cloudwatch_logs_ingest_gb", 0)))
    est.lines.append(Line("CloudWatch Logs",
                          billed_log * p["cloudwatch_logs_ingest_gb"]
                          + log_gb * LOG_COMPRESSION * LOG_RETENTION_MONTHS * p["cloudwatch_logs_storage_gb_month"],
                          f"{log_gb:,.2f} GB ingested"))
    alarm_metrics = max(0, ALARM_METRICS - int(free.get("cloudwatch_alarm_metrics", 0)))
    dashboards = max(0, DASHBOARDS - int(free.get("cloudwatch_dashboards", 0)))
    metrics = max(0, CUSTOM_METRICS - int(free.get("cloudwatch_custom_metrics", 0)))
    est.lines.append(Line("CloudWatch alarms, dashboard, metrics",
                          alarm_metrics * p["cloudwatch_alarm_metric_month"]
                          + dashboards * p["cloudwatch_dashboard_month"]
                          + metrics * p["cloudwatch_custom_metric_month"],
                          f"{ALARM_METRICS} alarm metrics, {DASHBOARDS} dashboard, {CUSTOM_METRICS} custom metrics",
                          fixed=True))

    # -- X-Ray (Powertools Tracer): at village traffic the 1/s reservoir samples nearly everything
    traced_invocations = n_api + n_stream + n_schedule
    reservoir = XRAY_RESERVOIR_PER_SECOND * SECONDS_PER_MONTH
    traces = min(traced_invocations, reservoir) + max(0.0, traced_invocations - reservoir) * XRAY_RATE
    billed_traces = max(0.0, traces - float(free.get("xray_traces", 0)))
    est.lines.append(Line("X-Ray", billed_traces / 1e6 * p["xray_traces_recorded_per_million"],
                          f"{traces:,.0f} traces"))

    # -- data transfer out: API responses, PDF downloads, staff viewing attachments
    out_gb = (n_api * API_RESPONSE_KB + calls.get("letter_download", 0.0) * PDF_KB
              + profile.letters * ATTACHMENTS_PER_LETTER * ATTACHMENT_VIEWS * ATTACHMENT_KB) / 1024 / 1024
    billed_out = max(0.0, out_gb - float(free.get("data_transfer_out_gb", 0)))
    est.lines.append(Line("Data transfer out", billed_out * p["data_transfer_out_gb"], f"{out_gb:,.1f} GB"))
    return est


# ------------------------------------------------------------------------------------------- output


def as_dict(est: Estimate, prices: dict[str, Any]) -> dict[str, Any]:
    rate = float(prices["usd_to_idr"])
    return {
        "profile": est.profile.__dict__,
        "region": prices["region"],
        "prices_date": prices["date"],
        "usd_to_idr": rate,
        "lines": [{"service": l.service, "usd": round(l.usd, 4), "detail": l.detail, "fixed": l.fixed}
                  for l in est.lines],
        "total_usd": round(est.total_usd, 2),
        "total_idr": round(est.total_usd * rate),
        "usage": {k: round(v, 3) for k, v in est.usage.items()},
        "lambda_figures": est.sources,
    }


def render(est: Estimate, prices: dict[str, Any], free_tier: bool) -> str:
    rate = float(prices["usd_to_idr"])
    total = est.total_usd
    pr = est.profile
    out = [
        f"{pr.name}: {pr.villages} villages, {pr.residents:,} residents; per month {pr.letters:,} letters, "
        f"{pr.complaints:,} complaints, {pr.sms:,} SMS, {pr.emails:,} e-mails, "
        f"{pr.verifications:,} verifications, {pr.dashboard_views:,} dashboard views",
        f"prices: {prices['region']} ({prices['region_name']}), {prices['date']}; "
        f"Rp {rate:,.0f}/USD; {'always-free tier applied' if free_tier else 'no free tier applied'}",
        "",
        f"{'service':<46} {'USD/month':>10} {'share':>6}  detail",
        "-" * 108,
    ]
    for line in sorted(est.lines, key=lambda l: -l.usd):
        share = 100 * line.usd / total if total else 0.0
        mark = " (fixed)" if line.fixed else ""
        out.append(f"{line.service + mark:<46} {line.usd:>10.2f} {share:>5.1f}%  {line.detail}")
    out.append("-" * 108)
    out.append(f"{'TOTAL':<46} {total:>10.2f} {'':>6}  = Rp {total * rate:,.0f} per month")
    sms = est.by_service().get("SNS SMS (Indonesia)", 0.0)
    rest = total - sms
    out.append(f"{'  of which SMS':<46} {sms:>10.2f}  everything else: ${rest:,.2f} (Rp {rest * rate:,.0f})")
    defaults = sorted(k for k, v in est.sources.items() if v == "default" and not k.startswith("endpoint."))
    ep_defaults = sum(1 for k, v in est.sources.items() if k.startswith("endpoint.") and v == "default")
    if defaults or ep_defaults:
        out.append(f"Lambda figures from DEFAULTS, not measurements: {', '.join(defaults)}"
                   f"{f' and {ep_defaults} endpoint durations' if ep_defaults else ''}"
                   " (write bench/measurements.json to replace them)")
    checks = sorted(k for k, v in prices["prices"].items() if v.get("check"))
    out.append(f"prices to re-check before quoting: {', '.join(checks)}")
    return "\n".join(out)


def render_units() -> str:
    out = [f"{'endpoint / handler':<26} {'RRU':>6} {'WRU':>6} {'items written':>14}"]
    for name, ops in {**ENDPOINT_OPS, **HANDLER_OPS}.items():
        r, w = ops_units(ops)
        out.append(f"{name:<26} {r:>6.1f} {w:>6.1f} {items_written(ops):>14.1f}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), action="append",
                        help="district profile (repeatable; default: both)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--units", action="store_true", help="also print DynamoDB units per endpoint")
    parser.add_argument("--free-tier", action="store_true", help="subtract the account's always-free tier")
    parser.add_argument("--prices", type=Path, default=HERE / "prices.json")
    parser.add_argument("--measurements", type=Path, default=HERE / "measurements.json")
    args = parser.parse_args(argv)

    prices = load_prices(args.prices)
    meas = load_measurements(args.measurements)
    names = args.profile or ["sinjai", "10x"]
    estimates = [estimate(PROFILES[n](), prices, meas, free_tier=args.free_tier) for n in names]
    if args.json:
        print(json.dumps([as_dict(e, prices) for e in estimates], indent=2))
        return 0
    print("\n\n".join(render(e, prices, args.free_tier) for e in estimates))
    if args.units:
        print()
        print(render_units())
    return 0


if __name__ == "__main__":
    sys.exit(main())
