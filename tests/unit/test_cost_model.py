"""The cost model's arithmetic (pure: no moto): request units from item sizes, scaling counted usage, the
deployment read from the repository, fixed costs at zero traffic, linear SMS, the bars."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("balai_bench_cost", ROOT / "bench" / "cost.py")
assert _spec and _spec.loader
cost = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cost  # dataclasses resolve annotations through sys.modules
_spec.loader.exec_module(cost)

GSIS = [(f"GSI{n}PK", f"GSI{n}SK") for n in range(1, 5)]


def s(text: str) -> dict[str, str]:
    return {"S": text}


@pytest.fixture(scope="module")
def prices() -> dict[str, Any]:
    return cost.load_prices(ROOT / "bench" / "prices.json")


@pytest.fixture(scope="module")
def deployment() -> Any:
    pytest.importorskip("yaml")
    return cost.read_deployment(ROOT)


def _counted(sms_per_letter: float = 4.0) -> Any:
    """Counts shaped like a sample's: per letter, per verification, per view, per login and per schedule run."""
    U = cost.Usage
    letter = U(invocations={"api": 26.0, "stream": 20.0, "issue_letters": 1.0},
               own_ms={"api": 26 * 10.0, "stream": 20 * 1.5, "issue_letters": 60.0},
               ddb_calls={"api": 80.0, "stream": 14.0, "issue_letters": 5.0}, log_bytes={"api": 26_000.0},
               rru=56.0, wru=215.0, stream_records=56.0, sms=sms_per_letter, email=2.5, s3_puts=7.0, s3_gets=8.0,
               pdf_downloads=1.0, attachment_views=3.0, rest_requests=26.0)
    one_call = U(invocations={"api": 1.0}, own_ms={"api": 5.0}, ddb_calls={"api": 2.0}, rru=1.0, wru=1.0,
                 rest_requests=1.0)
    runs = {name: U(invocations={name: 1.0}, own_ms={name: 2.0}, ddb_calls={name: 2.0}, rru=1.5)
            for name in cost.SCHEDULE_RUNS}
    return cost.Counted(sample_letters=10, per_letter=letter, per_verification=one_call,
                        per_dashboard_view=one_call, per_staff_login=one_call, per_schedule_run=runs)


# ------------------------------------------------------------------------------- request units


def test_item_size_counts_names_and_values() -> None:
    # Given an item with a string, a number and a map
    item = {"PK": s("ab"), "n": {"N": "123"}, "m": {"M": {"k": s("v")}}}
    # Then names and values add up as DynamoDB counts them
    assert cost.item_size(item) == (2 + 2) + (1 + 3) + (1 + 3 + 1 + 1 + 1)
    assert cost.item_size(None) == 0


def test_read_units_follow_the_4_kb_rules() -> None:
    assert cost.read_units([100]) == 0.5  # eventually consistent
    assert cost.read_units([100], consistent=True) == 1.0
    assert cost.read_units([5000], consistent=True) == 2.0
    assert cost.read_units([100, 100], transactional=True) == 4.0
    assert cost.read_units([]) == 0.5  # a Query that finds nothing still costs the minimum


def test_write_units_from_both_images_with_index_writes() -> None:
    small = {"PK": s("R#1"), "SK": s("META"), "status": s("submitted")}
    # Given a put of a new item in no index: one unit, two in a transaction
    assert cost.write_units(None, small, GSIS) == 1.0
    assert cost.write_units(None, small, GSIS, transactional=True) == 2.0
    # Given the item in GSI1: a put there too
    indexed = {**small, "GSI1PK": s("V#1"), "GSI1SK": s("2026")}
    assert cost.write_units(None, indexed, GSIS) == 2.0
    # When an update keeps the index key: one index write; when it changes it: a delete and a put
    same_key = {**indexed, "status": s("in_review")}
    moved = {**same_key, "GSI1SK": s("2027")}
    assert cost.write_units(indexed, same_key, GSIS) == 2.0
    assert cost.write_units(indexed, moved, GSIS) == 3.0
    # A 1.5 KB item costs two units
    big = {**small, "blob": s("x" * 1500)}
    assert cost.write_units(None, big, GSIS) == 2.0


def test_keys_only_and_include_indexes_are_written_only_when_what_they_hold_changes() -> None:
    keys_only = [("GSI1PK", "GSI1SK", "KEYS_ONLY")]
    include = [("GSI1PK", "GSI1SK", ("status",))]
    item = {"PK": s("R#1"), "SK": s("META"), "GSI1PK": s("V#1"), "GSI1SK": s("2026"), "status": s("submitted"),
            "blob": s("x" * 1500)}
    # Given a 1.5 KB item put into a KEYS_ONLY index: two units for the item, one for its small index entry
    assert cost.write_units(None, item, keys_only) == 3.0
    assert cost.write_units(None, item, GSIS) == 4.0  # projecting ALL copies the whole item
    # When an update changes no index key and nothing the index projects: no index write at all
    changed = {**item, "status": s("in_review")}
    assert cost.write_units(item, changed, keys_only) == 2.0
    # An INCLUDE index holding `status` is written (a small entry), but not when only the blob changes
    assert cost.write_units(item, changed, include) == 3.0
    assert cost.write_units(item, {**item, "blob": s("y" * 1500)}, include) == 2.0
    # When the index key moves: a delete and a put of the entry; when the item leaves the index: one delete
    moved = {**item, "GSI1SK": s("2027")}
    assert cost.write_units(item, moved, keys_only) == 4.0
    left = {k: v for k, v in item.items() if not k.startswith("GSI1")}
    assert cost.write_units(item, left, keys_only) == 3.0


# ------------------------------------------------------------------------------- scaling counted usage


def test_usage_scales_and_adds_per_function() -> None:
    a = cost.Usage(invocations={"api": 2.0}, sms=1.0)
    b = cost.Usage(invocations={"api": 1.0, "stream": 3.0}, sms=0.5)
    assert a.scaled(10).invocations == {"api": 20.0} and a.scaled(10).sms == 10.0
    both = a.plus(b)
    assert both.invocations == {"api": 3.0, "stream": 3.0} and both.sms == 1.5


def test_monthly_usage_is_letters_times_counts_plus_schedules() -> None:
    counted = _counted()
    month = cost.monthly_usage(cost.sinjai(), counted)
    # Every letter's counted SMS, plus complaints at the stated share of a letter's work
    share = cost.ASSUMPTIONS["complaint_work_vs_letter"][0]
    assert month.sms == pytest.approx(10_000 * 4.0 + 1_000 * 4.0 * share)
    # The schedules run whatever the traffic: every minute, every 15 minutes, every hour
    assert month.invocations["outbox_retry"] == pytest.approx(cost.MINUTES_PER_MONTH)
    idle = cost.monthly_usage(cost.idle(), counted)
    assert idle.sms == 0 and "api" not in idle.invocations
    assert idle.invocations["sla_escalation"] == pytest.approx(cost.HOURS_PER_MONTH * 4)


def test_sample_tallies_become_per_letter_usage() -> None:
    # Given tallies as bench/cost_sim.py returns them for a 2-letter sample
    tally = {"invocations": 4, "own_ms": 40.0, "ddb_calls": {"GetItem": 6, "S3 PUT": 3, "S3 LINK letters": 2},
             "rru": 3.0, "wru": 8.0, "stream_records": 4, "log_bytes": 400, "sms": 2, "email": 1}
    stream = {**tally, "ddb_calls": {"UpdateItem": 2}, "invocations": 2}

    class Result:
        letters = 2
        tallies = {"POST /v1/auth/otp": type("T", (), {"as_dict": lambda self: tally})(),
                   "stream": type("T", (), {"as_dict": lambda self: stream})(),
                   # the complaints cost_sim drives for their storage only: not a letter's work
                   "complaint: file": type("T", (), {"as_dict": lambda self: tally})(),
                   "complaint: stream": type("T", (), {"as_dict": lambda self: stream})()}
        policy = "p"
        sms_by_event = {"login_code": 2}
        email_by_event: dict[str, int] = {}
        seconds = 1.0

    counted = cost.counted_from_sample(Result())
    # Then per letter: half of everything, S3 requests apart from DynamoDB calls, links as downloads
    pl = counted.per_letter
    assert pl.invocations == {"api": 2.0, "stream": 1.0}
    assert pl.ddb_calls == {"api": 3.0, "stream": 1.0}
    assert (pl.s3_puts, pl.s3_gets, pl.pdf_downloads) == (1.5, 1.0, 1.0)
    assert pl.sms == 2.0 and counted.messages_by_event["sms"] == {"login_code": 1.0}
    assert not any(name.startswith("complaint: ") for name in counted.endpoints)


# ------------------------------------------------------------------------------- the bill


def test_the_deployment_is_read_from_the_repository(deployment: Any) -> None:
    # Issue 14's fixed costs: arm64, sampling, no Secrets Manager, few alarm metrics, dashboard off
    assert deployment.architecture == "arm64"
    assert not deployment.xray_active and 0 < deployment.sampling_rate <= 0.05
    assert deployment.secrets_manager_secrets == 0 and deployment.ssm_parameters == 2
    assert deployment.alarm_metrics <= 8 and not deployment.dashboard_default_on
    assert deployment.log_retention_days == 30
    # Only the custom metrics an alarm reads are published
    assert deployment.custom_metrics == ["NotificationFailed", "StaffLoginFailed"]


def test_zero_traffic_costs_only_fixed_items(prices: dict[str, Any], deployment: Any) -> None:
    est = cost.estimate(cost.idle(), _counted(), prices, deployment)
    usage_lines = {line.service: line.usd for line in est.lines if not line.fixed}
    for service in ("API Gateway REST", "SNS SMS (Indonesia)", "SES e-mail", "S3", "Data transfer out", "X-Ray"):
        assert usage_lines[service] == 0.0, service
    assert "Lambda api" not in usage_lines
    fixed = sum(line.usd for line in est.lines if line.fixed)
    assert 0 < fixed <= est.total_usd <= 1.00


def test_sms_cost_is_linear_in_the_counted_sms(prices: dict[str, Any], deployment: Any) -> None:
    one = cost.estimate(cost.sinjai(), _counted(4.0), prices, deployment).sms_usd
    two = cost.estimate(cost.sinjai(), _counted(8.0), prices, deployment).sms_usd
    assert two == pytest.approx(2 * one)
    assert one == pytest.approx(cost.monthly_usage(cost.sinjai(), _counted(4.0)).sms
                                * prices["prices"]["sns_sms_indonesia_per_message"]["usd"])


def test_lines_add_up_and_ten_times_the_district_costs_less_than_ten_times(prices: dict[str, Any],
                                                                            deployment: Any) -> None:
    small = cost.estimate(cost.sinjai(), _counted(), prices, deployment)
    large = cost.estimate(cost.tenfold(), _counted(), prices, deployment)
    assert sum(small.by_service().values()) == pytest.approx(small.total_usd)
    assert small.total_usd < large.total_usd < 10 * small.total_usd  # fixed items are not multiplied


def test_free_tier_only_lowers_the_bill(prices: dict[str, Any], deployment: Any) -> None:
    gross = cost.estimate(cost.sinjai(), _counted(), prices, deployment).total_usd
    net = cost.estimate(cost.sinjai(), _counted(), prices, deployment, free_tier=True).total_usd
    assert 0 < net < gross


def test_arm64_is_priced_lower_than_x86(prices: dict[str, Any], deployment: Any) -> None:
    import dataclasses

    x86 = dataclasses.replace(deployment, architecture="x86_64")
    arm = cost.estimate(cost.sinjai(), _counted(), prices, deployment).by_service()["Lambda api"]
    intel = cost.estimate(cost.sinjai(), _counted(), prices, x86).by_service()["Lambda api"]
    assert arm < intel


def test_bars_pass_and_fail_on_their_limits(prices: dict[str, Any], deployment: Any) -> None:
    estimates = {name: cost.estimate(cost.PROFILES[name](), _counted(1.0), prices, deployment)
                 for name in ("sinjai", "idle", "10x")}
    bars = {b.name: b for b in cost.bars(estimates, _counted(1.0))}
    assert bars["SMS per issued letter"].passed  # 1.0 <= 1.2
    assert not {b.name: b for b in cost.bars(estimates, _counted(1.3))}["SMS per issued letter"].passed
    assert bars["Idle month"].passed
    sinjai = estimates["sinjai"]
    rest = sinjai.total_usd - sinjai.sms_usd - sinjai.by_service()["SES e-mail"]
    assert bars["Sinjai: everything except messages"].value == pytest.approx(rest)
    rendered = cost.render_bars(list(bars.values()))
    assert "PASS" in rendered and not math.isnan(bars["Idle month"].value)


def test_printed_lines_keep_their_form(prices: dict[str, Any], deployment: Any) -> None:
    est = cost.estimate(cost.sinjai(), _counted(), prices, deployment)
    text = cost.render(est, prices, free_tier=False)
    assert "everything else: $" in text and "TOTAL" in text


def test_counts_survive_a_json_round_trip() -> None:
    counted = _counted()
    again = cost.counted_from_json(cost.counted_to_json(counted))
    assert again.per_letter == counted.per_letter and again.per_schedule_run == counted.per_schedule_run


def test_kms_decrypts_follow_how_the_code_reads_the_keys(prices: dict[str, Any], deployment: Any) -> None:
    # The app keys: once per container (a cold start of any function); the letter keyring: only where letters are
    # signed or verified, at most every 5 minutes per warm container (config.get_secrets, wiring.letter_keyring)
    est = cost.estimate(cost.sinjai(), _counted(), prices, deployment)
    usage = cost.monthly_usage(cost.sinjai(), _counted())
    a = {k: v[0] for k, v in cost.ASSUMPTIONS.items()}
    cold = a["cold_start_share"] * (usage.invocations["api"] + usage.invocations["stream"]
                                    + usage.invocations["issue_letters"])
    warm = a["secret_warm_containers"] * 10 * cost.WORKING_DAYS_PER_MONTH * 12
    reads = cold + min(usage.invocations["issue_letters"] + cost.sinjai().verifications, warm)
    kms = next(line for line in est.lines if line.service == "KMS requests (secrets)")
    assert kms.usd == pytest.approx(reads / 1e4 * prices["prices"]["kms_per_10k_requests"]["usd"])
    # And a month without letters or verifications reads the keyring never, however warm the API is
    quiet = cost.estimate(cost.idle(), _counted(), prices, deployment)
    assert next(line for line in quiet.lines if line.service == "KMS requests (secrets)").usd == 0.0


def test_a_preflight_is_an_api_request_with_an_empty_answer(prices: dict[str, Any], deployment: Any) -> None:
    # Given a letter whose 26 API invocations include 10 CORS preflights
    import dataclasses

    counted = _counted()
    with_preflights = dataclasses.replace(counted, per_letter=dataclasses.replace(counted.per_letter, preflights=10.0))
    plain = cost.estimate(cost.sinjai(), counted, prices, deployment)
    est = cost.estimate(cost.sinjai(), with_preflights, prices, deployment)
    line = {x.service: x.usd for x in est.lines}
    # Then API Gateway bills them all alike, and data transfer prices the preflights' answers at their own size
    assert line["API Gateway REST"] == {x.service: x.usd for x in plain.lines}["API Gateway REST"]
    u = cost.monthly_usage(cost.sinjai(), with_preflights)
    a = {k: v[0] for k, v in cost.ASSUMPTIONS.items()}
    kb = ((u.invocations["api"] - u.preflights) * a["api_response_kb"] + u.preflights * a["preflight_kb"]
          + u.pdf_downloads * a["pdf_kb"] + u.attachment_views * float(deployment.attachment_kb or a["attachment_kb"]))
    assert line["Data transfer out"] == pytest.approx(kb / 1024 / 1024 * prices["prices"]["data_transfer_out_gb"]["usd"])
    assert line["Data transfer out"] < {x.service: x.usd for x in plain.lines}["Data transfer out"]


def test_the_webs_calls_on_the_function_url_pay_no_api_gateway_fee_and_their_preflights_nothing(
        prices: dict[str, Any], deployment: Any) -> None:
    # Given the same letter's 26 calls, once all through API Gateway and once with 24 of them from the web on the
    # function URL (whose 12 preflights the Lambda service answers: no invocation)
    import dataclasses

    rest = _counted()
    on_url = dataclasses.replace(rest, per_letter=dataclasses.replace(rest.per_letter, rest_requests=2.0,
                                                                      url_preflights=12.0))
    a, b = (cost.estimate(cost.sinjai(), c, prices, deployment) for c in (rest, on_url))
    line_a, line_b = ({x.service: x.usd for x in e.lines} for e in (a, b))
    # Then API Gateway bills only what still reaches it, Lambda bills every invocation alike, X-Ray samples only
    # API Gateway's requests, and the preflights' answers are priced as transfer
    per_request = prices["prices"]["apigw_rest_request_per_million"]["usd"] / 1e6
    u_a, u_b = cost.monthly_usage(cost.sinjai(), rest), cost.monthly_usage(cost.sinjai(), on_url)
    assert line_a["API Gateway REST"] == pytest.approx(u_a.rest_requests * per_request)
    assert line_b["API Gateway REST"] == pytest.approx(u_b.rest_requests * per_request)
    letters_and_complaints = 10_000 + 1_000 * cost.ASSUMPTIONS["complaint_work_vs_letter"][0]  # Sinjai's month
    assert u_b.rest_requests == pytest.approx(u_a.rest_requests - 24 * letters_and_complaints)
    assert line_b["Lambda api"] == pytest.approx(line_a["Lambda api"])
    assert line_b["X-Ray"] < line_a["X-Ray"]
    assert line_b["Data transfer out"] > line_a["Data transfer out"]
    assert b.usage["url_preflights"] == pytest.approx(12 * letters_and_complaints)


def test_counts_saved_before_the_function_url_price_every_api_call_on_api_gateway() -> None:
    tally = {"invocations": 4, "own_ms": 40.0, "ddb_calls": {"GetItem": 6}, "rru": 3.0, "wru": 8.0,
             "stream_records": 4, "log_bytes": 400, "sms": 0, "email": 0}
    old = cost.usage_of({"GET /v1/me/requests": tally}, ["GET /v1/me/requests"])
    new = cost.usage_of({"GET /v1/me/requests": {**tally, "rest_requests": 1, "url_preflights": 2}},
                        ["GET /v1/me/requests"])
    assert (old.rest_requests, old.url_preflights) == (4.0, 0.0)
    assert (new.rest_requests, new.url_preflights) == (1.0, 2.0)


# ------------------------------------------------------------------------------- stored bytes


def test_stored_bytes_count_the_item_and_each_index_copy_by_its_projection() -> None:
    # Given an item in an ALL index (GSI1) and a KEYS_ONLY index (GSI3), not in GSI2
    item = {"PK": s("REQ#1"), "SK": s("META"), "GSI1PK": s("Q#a"), "GSI1SK": s("t1"), "GSI3PK": s("C#h"),
            "GSI3SK": s("t2"), "body": s("x" * 1000)}
    gsis = [("GSI1PK", "GSI1SK", "ALL"), ("GSI2PK", "GSI2SK", "ALL"), ("GSI3PK", "GSI3SK", "KEYS_ONLY")]
    sizes = cost.stored_bytes(item, gsis)
    # Then the table and the ALL copy hold the whole item, the KEYS_ONLY copy the four keys, each + 100 B
    whole = cost.item_size(item)
    keys = cost.item_size({k: v for k, v in item.items() if k in ("PK", "SK", "GSI3PK", "GSI3SK")})
    assert sizes == {"table": whole + 100, "GSI1": whole + 100, "GSI3": keys + 100}
    assert keys < 40 < 1000 < whole


def test_storage_splits_kept_and_expiring_items_per_letter_and_per_village() -> None:
    # Given a 2-letter sample in 1 village: a request each (kept), an outbox row each expiring in 35 days, an
    # OTP already expired, a register row (priced apart) and the village's bill for the month
    now = 1_800_000_000.0

    def item(pk: str, entity: str, expires: float | None = None) -> dict[str, Any]:
        out = {"PK": s(pk), "SK": s("META"), "entity": s(entity)}
        return {**out, "expires_at": {"N": str(int(expires))}} if expires else out

    items = [item("REQ#1", "request"), item("REQ#2", "request"),
             item("OUTBOX#1", "outbox", now + 35 * 86400), item("OUTBOX#2", "outbox", now + 35 * 86400),
             item("OTP#h", "otp", now - 60), item("RESIDENT#v", "resident"), item("BILL#v", "bill")]
    st = cost.storage_of(items, [], now, letters=2, villages=1)
    size = cost.item_size(items[0]) + 100
    # Then a letter keeps its request, its outbox row lives 35 days, the OTP none; the register is left out
    assert st["per_letter"]["request"]["kept"] == pytest.approx(size)
    assert st["per_letter"]["outbox"]["ttl"] == {"35": pytest.approx(cost.item_size(items[2]) + 100)}
    assert st["per_letter"]["otp"]["ttl"] == {"0": pytest.approx((cost.item_size(items[4]) + 100) / 2)}
    assert "resident" not in st["per_letter"] and "bill" in st["per_village_month"]
    # And the register row is counted per resident the sample added (issue 14: counted, not assumed)
    assert st["per_resident"]["resident"]["kept"] == pytest.approx(cost.item_size(items[5]) + 100)
    # And after 12 months a letter-a-month holds 12 requests but only 35 days' worth of outbox rows
    held = cost.held_bytes(st["per_letter"], 12)
    outbox = cost.item_size(items[2]) + 100
    assert held == pytest.approx(12 * size + outbox * 35 / cost.DAYS_PER_MONTH)


def test_the_bill_prices_the_counted_storage_and_pdf(prices: dict[str, Any], deployment: Any) -> None:
    # Given counts with 10 KB kept per letter, and the same with 20 KB, and a counted PDF of 23 KB
    def with_storage(kept: float) -> Any:
        c = _counted()
        c.storage = {"per_letter": {"request": {"items": 1, "table": kept, "index": 0, "kept": kept, "ttl": {}}},
                     "per_village_month": {}, "per_village_year": {}}
        c.pdf_bytes = 23 * 1024
        return c

    small = cost.estimate(cost.sinjai(), with_storage(10 * 1024), prices, deployment)
    large = cost.estimate(cost.sinjai(), with_storage(20 * 1024), prices, deployment)
    # Then the table grows with the counted bytes (letters and complaints), the rest of it fixed
    grown = large.usage["table_gb"] - small.usage["table_gb"]
    share = cost.ASSUMPTIONS["complaint_storage_vs_letter"][0]
    assert grown == pytest.approx(12 * (10_000 + 1_000 * share) * 10 * 1024 / 1024 ** 3)
    assert large.by_service()["DynamoDB PITR"] > small.by_service()["DynamoDB PITR"]
    assert "(counted)" in next(line.detail for line in small.lines if line.service == "DynamoDB storage")
    # And the PDFs are stored and downloaded at the counted size
    assert "PDF 23.0 KB (counted)" in next(line.detail for line in small.lines if line.service == "S3")
    # And a counted register replaces the assumed 2 KB a resident
    counted_register = with_storage(10 * 1024)
    counted_register.storage["per_resident"] = {"resident": {"items": 1, "table": 700, "index": 300, "kept": 1000,
                                                             "ttl": {}}}
    registered = cost.estimate(cost.sinjai(), counted_register, prices, deployment)
    assumed = cost.ASSUMPTIONS["register_bytes_per_resident"][0]
    assert small.usage["table_gb"] - registered.usage["table_gb"] == pytest.approx(
        cost.sinjai().residents * (assumed - 1000) / 1024 ** 3)
    assert "0.98 KB a resident (counted)" in next(line.detail for line in registered.lines
                                                 if line.service == "DynamoDB storage")
    again = cost.counted_from_json(cost.counted_to_json(with_storage(1.0)))
    assert again.storage == with_storage(1.0).storage and again.pdf_bytes == 23 * 1024


def test_the_whatsapp_sensitivity_follows_the_counted_login_proofs() -> None:
    # Given a sample with 0.3 SMS login codes, 0.7 WhatsApp logins and 0.65 other SMS per letter
    counted = _counted(sms_per_letter=0.95)
    counted.messages_by_event["sms"] = {"login_code": 0.3, "status_to_citizen": 0.65}
    counted.endpoints[cost.WHATSAPP_DELIVERY] = {"per_letter": 0.7}
    line = cost.whatsapp_sensitivity(counted)
    # Then SMS per letter is 1.65 with no WhatsApp login, 0.95 at the counted 70 %, 0.65 at 100 %, and the bar
    # of 1.2 needs 45 % of the logins by WhatsApp
    assert line is not None
    assert "0 % -> 1.65" in line and "70% (SHARES) -> 0.95" in line and "100 % -> 0.65" in line
    assert "break-even for <= 1.2: 45%" in line
    # And a sample whose other SMS alone break the bar says so
    counted.messages_by_event["sms"] = {"login_code": 0.3, "status_to_citizen": 1.5}
    counted.per_letter.sms = 1.8
    assert "not reachable by logins alone" in str(cost.whatsapp_sensitivity(counted))


def test_a_ktp_photo_at_the_cards_size_lowers_storage_and_transfer(prices: dict[str, Any], deployment: Any) -> None:
    # Given the same month priced with every photo at a page's size, and with the KTP at its measured card size
    from dataclasses import replace

    counted = _counted()
    counted.per_letter.attachment_views = 3.0
    pages = cost.estimate(cost.sinjai(), counted, prices, replace(deployment, card_photo_kb=None))
    cards = cost.estimate(cost.sinjai(), counted, prices, replace(deployment, card_photo_kb=30.0))
    # Then one of a letter's three files weighs 30 KB instead of a page's, in storage and in what staff download
    page_kb = deployment.attachment_kb or cost.ASSUMPTIONS["attachment_kb"][0]
    saved_gb = cost.sinjai().letters * (page_kb - 30.0) / 1024 / 1024
    assert pages.usage["s3_standard_gb"] - cards.usage["s3_standard_gb"] == pytest.approx(
        saved_gb * deployment.attachments_retention_days / 30.0)
    assert cards.by_service()["Data transfer out"] < pages.by_service()["Data transfer out"]


def test_point_in_time_recovery_bills_the_table_not_its_global_indexes(prices: dict[str, Any],
                                                                       deployment: Any) -> None:
    # Given a letter that keeps 6 KB in the table and 2 KB more in global secondary index copies
    counted = _counted()
    counted.storage = {"per_letter": {"request": {"items": 1, "table": 6144, "index": 2048, "kept": 8192,
                                                  "ttl": {}}},
                       "per_village_month": {}, "per_village_year": {}}
    est = cost.estimate(cost.sinjai(), counted, prices, deployment)
    # Then storage is billed on all 8 KB and point-in-time recovery on the table's 6 KB only
    letters_gb = 12 * cost.sinjai().letters * 1024 / 1024 ** 3
    assert est.usage["table_gb"] - est.usage["backup_gb"] == pytest.approx(2 * letters_gb)
    assert est.by_service()["DynamoDB PITR"] == pytest.approx(est.usage["backup_gb"]
                                                              * prices["prices"]["dynamodb_pitr_gb_month"]["usd"])


def test_the_counted_answer_bytes_price_the_transfer_and_the_assumption_is_the_fallback(
        prices: dict[str, Any], deployment: Any) -> None:
    # Given the same letter's 26 answers, once without their bytes (counts saved before they were counted) and once
    # counted: 26 answers of 700 B as sent (gzip-coded where the browser accepted it; 1,800 B uncompressed)
    import dataclasses

    assumed = _counted()
    counted = dataclasses.replace(assumed, per_letter=dataclasses.replace(
        assumed.per_letter, answers=26.0, answer_bytes=26 * 700.0, answer_identity_bytes=26 * 1800.0))
    a = {k: v[0] for k, v in cost.ASSUMPTIONS.items()}
    usd = prices["prices"]["data_transfer_out_gb"]["usd"]
    rest = cost.estimate(cost.sinjai(), assumed, prices, deployment)
    est = cost.estimate(cost.sinjai(), counted, prices, deployment)
    u = cost.monthly_usage(cost.sinjai(), counted)
    others = (u.pdf_downloads * a["pdf_kb"] + u.attachment_views * float(deployment.attachment_kb or a["attachment_kb"])
              + u.preflights * a["preflight_kb"]) * 1024
    # Then the counted answers are priced at their bytes plus the headers the service adds (assumed), and only the
    # answers the counts lack (the verification's, the dashboard's, the staff logins' here) at api_response_kb
    uncounted = u.invocations["api"] - u.preflights - u.answers
    expected = u.answer_bytes + u.answers * a["service_header_bytes"] + uncounted * a["api_response_kb"] * 1024
    line = {x.service: x.usd for x in est.lines}["Data transfer out"]
    assert line == pytest.approx((expected + others) / 1024 ** 3 * usd)
    assert est.usage["api_answer_gb"] == pytest.approx(expected / 1024 ** 3)
    # And 1 KB per answer on the wire is less than the 3 KB the model assumed
    assert line < {x.service: x.usd for x in rest.lines}["Data transfer out"]
    # And the counts keep the figures through a save and a load
    again = cost.counted_from_json(cost.counted_to_json(counted))
    assert again.per_letter.answer_bytes == 26 * 700.0 and again.per_letter.answers == 26.0


def test_help_prints_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse formats help strings with %: a bare "70%" in one made `--help` raise instead of printing
    with pytest.raises(SystemExit) as exited:
        cost.main(["--help"])
    assert exited.value.code == 0
    assert "--whatsapp-share" in capsys.readouterr().out


def test_issued_pdfs_kept_as_a_cache_are_stored_for_their_days_and_late_downloads_render_again(
        prices: dict[str, Any], deployment: Any) -> None:
    from dataclasses import replace

    # Given the deployment read from the template: the PDFs under letters/ expire after LetterPdfCacheDays
    assert deployment.letter_pdf_days == 30
    counted = _counted()
    counted.pdf_bytes = 20 * 1024
    kept = cost.estimate(cost.sinjai(), counted, prices, replace(deployment, letter_pdf_days=None))
    cached = cost.estimate(cost.sinjai(), counted, prices, deployment)
    # Then a month's PDFs are held about a month (31 days with the old version's day, and the late copies)
    # instead of the 12 months priced
    late = cost.ASSUMPTIONS["late_pdf_downloads"][0]
    month_gb = cost.sinjai().letters * 20 / 1024 / 1024
    assert kept.usage["s3_standard_gb"] - cached.usage["s3_standard_gb"] == pytest.approx(
        month_gb * (12 - 31 / 30 * (1 + late)))
    # And each late download is a render in the API function and a PUT
    assert cached.usage["lambda_gb_s_api"] > kept.usage["lambda_gb_s_api"]
    assert "kept 30 days as a cache (1,000 rendered again)" in next(
        line.detail for line in cached.lines if line.service == "S3")
    assert cached.by_service()["S3"] < kept.by_service()["S3"]


def test_an_api_cold_start_stretches_its_first_call_imports_with_memory_but_not_its_init(deployment: Any) -> None:
    # Given one API call that is a cold start in every invocation (cold_start_share aside), at 1769 MB and at 512 MB
    import dataclasses

    usage = cost.Usage(invocations={"api": 1.0}, own_ms={"api": 0.0}, ddb_calls={"api": 0.0})
    share = cost.ASSUMPTIONS["cold_start_share"][0]

    def cold_ms(memory_mb: float, init_ms: float, first_call_ms: float) -> float:
        dep = dataclasses.replace(deployment, memory_mb={**deployment.memory_mb, "api": memory_mb},
                                  api_init_ms=init_ms, api_first_call_ms=first_call_ms)
        return cost.lambda_ms("api", usage, dep) / share

    # When only INIT is measured, Then a smaller function bills it as measured: INIT runs on a full vCPU
    assert cold_ms(512, 400.0, 0.0) == pytest.approx(cold_ms(1769, 400.0, 0.0)) == pytest.approx(400.0)
    # When a route defers imports to its first call, Then they run in the invoke phase at memory/1769 of a vCPU
    assert cold_ms(1769, 400.0, 100.0) == pytest.approx(500.0)
    assert cold_ms(512, 400.0, 100.0) == pytest.approx(400.0 + 100.0 * 1769 / 512)


def test_measurements_tell_init_from_first_call_imports() -> None:
    pytest.importorskip("yaml")
    # Given measurements with both figures, and older ones holding their sum as init_ms
    split = cost.read_deployment(ROOT, {"functions": {"api": {"init_ms": 400.0, "first_call_imports_ms": 190.0}}})
    old = cost.read_deployment(ROOT, {"functions": {"api": {"init_ms": 597.0}}})
    # Then each is priced in its phase; the older file's sum stays INIT, as it was priced before
    assert (split.api_init_ms, split.api_first_call_ms) == (400.0, 190.0)
    assert (old.api_init_ms, old.api_first_call_ms) == (597.0, 0.0)
