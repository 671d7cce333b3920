"""Outbox sender: the logic of the stream handler and the retry schedule (claim, fan out, render, send, record).

Idempotency: every send happens under a claim of the outbox row, a conditional update that only one
sender can win (pending and due -> sending, with a random token and a lease). A row holds every message of
one change (its parts: a submission's to the citizen and to the operators). The deliveries made
("{channel}:{recipient}", a later part's prefixed "{part}/") are written to the row together with its outcome,
under the same token. A replayed stream batch therefore finds the row `sent` (or held, or waiting for its
retry time) and sends nothing; a retry after a partial failure skips the recipients already served, in
every part. The row's outcome is the worst of its parts'. The only window left is a
process dying between the provider's acceptance and the outcome write, which no exactly-once scheme
over SMS/email providers can close; the lease then expires and the row is retried once.
The row itself is the idempotency record, so the guard lives as long as the row (Powertools' separate
idempotency items would expire, while stream records can be replayed for 24 hours).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import channels
from chalicelib.channels import Outgoing, Senders
from chalicelib.domain.clock import utcnow
from chalicelib.domain.message_policy import DIGESTIBLE, Policy, policy_from_overrides
from chalicelib.domain.notifications import (
    FAILED,
    PENDING,
    SENT,
    Delivery,
    Recipient,
    citizen_recipient,
    deliveries,
    retry_delay,
    staff_recipient,
)
from chalicelib.domain.outbox import MessagePart, part_key, part_message_id, part_of
from chalicelib.domain.phones import mask_phone
from chalicelib.domain.regions import timezone_for
from chalicelib.observability import count_metric, logger
from chalicelib.storage import outbox as repo
from chalicelib.storage.bill import Usage
from chalicelib.storage.codec import stream_records

LEASE = timedelta(minutes=5)  # longer than a Lambda run: a live sender never loses its claim
MAX_WORKERS = 8  # provider calls take 50-150 ms; a 100-record batch must fit the function's timeout
HELD_FOR_DIGEST = "Ditampung untuk ringkasan harian (pilihan petugas)."
NO_RECIPIENTS = "Tidak ada penerima: belum ada petugas dengan nomor HP/email, atau nomor warga kosong."


def default_senders() -> Senders:
    """Each registered channel's sender as the stage's settings choose, built on first use."""
    return Senders()


def prepare_container() -> None:
    """Load at INIT what the stream function's first batch needs: Lambda runs INIT on a full vCPU whatever the
    memory, the batch at memory/1769 of one (docs/operations.md 1.8), and that batch may carry a login code. The
    retention worker, the message templates and the Web Push adapter's modules, and the SMS and e-mail providers'
    clients (built once per container; a client connects on its first request, so nothing here calls out)."""
    import chalicelib.adapters.webpush  # noqa: F401
    import chalicelib.templates.messages  # noqa: F401
    import chalicelib.workers.retention  # noqa: F401

    senders = default_senders()
    for name in ("sms", "email"):
        senders.for_channel(name)


@dataclass
class RunResult:
    """What one run did, per outcome: sent, retrying (transient error), deferred (quiet hours),
    failed, skipped (not claimable: already sent, held by another sender, not yet due)."""

    rows: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed_ids: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return self.outcomes.get(outcome, 0)

    def add(self, outcome: str, outbox_id: str) -> None:
        self.rows += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == FAILED:
            self.failed_ids.append(outbox_id)


class StaffDirectory:
    """Staff of a (region, role), looked up once per run (one Query each on GSI1 STAFF_IN#{region})."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], list[Recipient]] = {}
        self._lock = threading.Lock()

    def recipients(self, region: str, role: str, opd: str | None = None) -> list[Recipient]:
        """Active staff of the region and role; for role `opd`, only the officers of that OPD."""
        key = (region, role if opd is None else f"{role}:{opd}")
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        from chalicelib.storage.people import staff_in_region

        found = [staff_recipient(s.username, s.phone, s.email, s.preferences)
                 for s in staff_in_region(region, role) if s.active and (opd is None or s.opd == opd)]
        with self._lock:
            self._cache[key] = found
        return found


class CitizenDirectory:
    """What reaches a citizen, looked up when their row is sent: the e-mail they gave (GetItem on their
    profile), their Web Push subscriptions (one Query) and a live refresh session (Query on GSI1)."""

    def recipient(self, audience: Mapping[str, Any]) -> Recipient:
        nik_hash = audience.get("nik_hash")
        phone = audience.get("phone")
        if not nik_hash:
            return citizen_recipient(phone, None)
        from chalicelib.storage import push_subscriptions
        from chalicelib.storage.people import get_citizen

        citizen = get_citizen(str(nik_hash))
        email = citizen.email if citizen is not None else None
        push = bool(push_subscriptions.list_for(str(nik_hash)))
        return citizen_recipient(phone, str(nik_hash), email=email, push=push)


class PolicyBook:
    """Each kabupaten's message policy, read once per run (GetItem MESSAGE_POLICY#{kabupaten})."""

    def __init__(self) -> None:
        self._cache: dict[str, Policy] = {}
        self._lock = threading.Lock()

    def policy(self, kabupaten: str) -> Policy:
        with self._lock:
            if kabupaten in self._cache:
                return self._cache[kabupaten]
        from chalicelib.storage import message_policy

        found = policy_from_overrides(message_policy.get_overrides(kabupaten))
        with self._lock:
            self._cache[kabupaten] = found
        return found


def _recipients(part: MessagePart, directory: StaffDirectory,
                citizens: CitizenDirectory | None = None) -> list[Recipient]:
    audience = part.audience
    if audience.get("kind") == "citizen":
        return [(citizens or CitizenDirectory()).recipient(audience)]
    if audience.get("kind") == "staff":
        opd = audience.get("opd")
        return directory.recipients(str(audience["region"]), str(audience["role"]), str(opd) if opd else None)
    raise ValueError(f"unknown audience kind {audience.get('kind')!r}")


def _contact_of() -> dict[str, str]:
    return {name: channel.contact for name, channel in channels.registry().items()}


def _send(delivery: Delivery, row: repo.OutboxRow, index: int, part: MessagePart, senders: Senders) -> Usage:
    """Render the part's message in the channel's template form and hand it to the channel's sender;
    returns what it costs (for the village's bill)."""
    from chalicelib.config import get_settings
    from chalicelib.templates.messages import render_message

    channel = channels.get(delivery.channel)
    payload = _with_signin_link(delivery, part)
    message = render_message(part.event, channel.form, payload)
    outgoing = Outgoing(address=delivery.address, message=message,
                        message_id=f"{part_message_id(row.id, index)}:{delivery.key}", event=part.event,
                        village=row.village, payload=payload, created_at=row.created_at)
    units = senders.for_channel(delivery.channel).deliver(outgoing)
    return Usage(count=1 if units else 0, units=units,
                 cost_micros=round(units * channel.price(get_settings()) * 1_000_000))


def _with_signin_link(delivery: Delivery, part: MessagePart) -> Mapping[str, Any]:
    """A citizen's SMS that brings them back to the portal (letter issued, revision needed) carries a one-time
    sign-in link, so the return visit costs no login code (services/signin_links.py). Other deliveries, and parts
    without a citizen or request, keep their payload."""
    from chalicelib.services.signin_links import LINK_EVENTS, link_for

    audience = part.audience
    request_id = part.payload.get("request_id")
    if (delivery.channel != "sms" or part.event not in LINK_EVENTS or audience.get("kind") != "citizen"
            or not audience.get("nik_hash") or not request_id):
        return part.payload
    url = link_for(str(audience["nik_hash"]), delivery.address, str(request_id), part.event)
    return {**part.payload, "signin_url": url}


@dataclass
class _Outcome:
    """What the sends of one claim came to, summed over the row's parts."""

    delivered: set[str] = field(default_factory=set)
    usage: dict[str, Usage] = field(default_factory=dict)
    deferred: list[datetime] = field(default_factory=list)
    transient: str | None = None
    permanent: str | None = None
    held: str | None = None
    attempted: bool = False

    def fail(self, text: str) -> None:
        self.permanent = self.permanent or text

    def bill(self, channel: str, cost: Usage) -> None:
        before = self.usage.get(channel, Usage(0, 0, 0))
        self.usage[channel] = Usage(before.count + cost.count, before.units + cost.units,
                                    before.cost_micros + cost.cost_micros)


def _send_part(row: repo.OutboxRow, index: int, part: MessagePart, now: datetime, senders: Senders,
               directory: StaffDirectory, policy: Policy, citizens: CitizenDirectory | None,
               outcome: _Outcome) -> None:
    """Send what one part still owes (its deliveries not in the row's `delivered`), into `outcome`."""
    from chalicelib.adapters.messaging import SendError

    # A one-part row's notes read as they did before parts existed; a later part's name their event.
    label = "" if not row.more else f"{part.event}: "
    try:
        recipients = _recipients(part, directory, citizens)
        planned = deliveries(recipients, now, timezone_for(row.village), part.event, _contact_of(), policy)
    except (ValueError, KeyError) as exc:  # a malformed part: retrying cannot help
        outcome.fail(f"{label}Data notifikasi tidak valid: {exc}")
        return
    if not planned and not any(part_of(key) == index for key in row.delivered):
        if part.event in DIGESTIBLE and any(r.reach.digest_only and r.contacts for r in recipients):
            # Everyone reachable chose the daily digest, which counts this event: nothing is owed now.
            outcome.held = outcome.held or f"{label}{HELD_FOR_DIGEST}"
            return
        outcome.fail(f"{label}{NO_RECIPIENTS}")
        return
    for delivery in planned:
        key = part_key(index, delivery.key)
        if key in row.delivered:
            continue
        if delivery.not_before is not None:
            outcome.deferred.append(delivery.not_before)
            continue
        outcome.attempted = True
        try:
            cost = _send(delivery, row, index, part, senders)
            outcome.delivered.add(key)
            if cost.count:
                outcome.bill(delivery.channel, cost)
        except ValueError as exc:  # the template lacks data: a programming or data error, not the provider
            outcome.permanent = f"{key}: {exc}"
        except SendError as exc:
            text = f"{key}: {exc} ({getattr(exc, 'provider_code', None) or type(exc).__name__})"
            if exc.retryable:
                outcome.transient = outcome.transient or text
            else:
                outcome.fail(text)
        # Anything else propagates: the claim's lease expires and the retry schedule takes the row again.


def send_row(row_id: str, now: datetime, senders: Senders, directory: StaffDirectory,
             max_attempts: int, backoff_seconds: int, policies: PolicyBook | None = None,
             citizens: CitizenDirectory | None = None) -> str:
    """Claim one row, send what each of its parts still owes, record the outcome (the worst of its parts':
    failed, then retrying, then deferred, else sent). Returns the outcome name."""
    row = repo.claim(row_id, now, now + LEASE)
    if row is None:
        return "skipped"
    try:
        policy = (policies or PolicyBook()).policy(row.kabupaten)
    except (ValueError, KeyError) as exc:  # a malformed policy: retrying cannot help
        return _finish_failed(row, now, row.attempts, set(), f"Data notifikasi tidak valid: {exc}")
    outcome = _Outcome()
    for index, part in enumerate(row.parts):
        _send_part(row, index, part, now, senders, directory, policy, citizens, outcome)
    attempts = row.attempts + (1 if outcome.attempted else 0)
    delivered, usage = outcome.delivered, outcome.usage
    _log_deliveries(row, delivered)
    if outcome.permanent is not None:
        return _finish_failed(row, now, attempts, delivered, outcome.permanent, usage)
    if outcome.transient is not None:
        if attempts >= max_attempts:
            return _finish_failed(row, now, attempts, delivered, outcome.transient, usage)
        retry_at = now + retry_delay(attempts, backoff_seconds)
        if outcome.deferred:
            retry_at = min([retry_at, *outcome.deferred])
        repo.finish(row, now, status=PENDING, attempts=attempts, delivered=delivered, next_try_at=retry_at,
                    last_error=outcome.transient, usage=usage)
        return "retrying"
    if outcome.deferred:
        repo.finish(row, now, status=PENDING, attempts=attempts, delivered=delivered,
                    next_try_at=min(outcome.deferred), last_error=outcome.held, usage=usage)
        return "deferred"
    repo.finish(row, now, status=SENT, attempts=attempts, delivered=delivered, last_error=outcome.held, usage=usage)
    return SENT


def _finish_failed(row: repo.OutboxRow, now: datetime, attempts: int, delivered: set[str], error: str,
                   usage: Mapping[str, Usage] | None = None) -> str:
    repo.finish(row, now, status=FAILED, attempts=attempts, delivered=delivered, last_error=error, usage=usage)
    logger.warning("notification failed", extra={"outbox_id": row.id, "events": [p.event for p in row.parts],
                                                  "village": row.village, "attempts": attempts,
                                                  "error": error})
    return FAILED


def _log_deliveries(row: repo.OutboxRow, delivered: set[str]) -> None:
    if not delivered:
        return
    phone = next((p.audience["phone"] for p in row.parts if p.audience.get("phone")), None)
    logger.info("notification sent", extra={
        "outbox_id": row.id, "events": [p.event for p in row.parts], "deliveries": sorted(delivered),
        **({"phone": mask_phone(str(phone))} if phone else {})})


def send_rows(row_ids: Iterable[str], *, senders: Senders | None = None, now: datetime | None = None,
              max_workers: int = MAX_WORKERS) -> RunResult:
    """Send each row (in parallel: the providers, not DynamoDB, are the slow part); emit the
    NotificationFailed metric for rows that ended failed."""
    from chalicelib.config import get_settings

    settings = get_settings()
    senders = senders or default_senders()
    now = now or utcnow()
    directory = StaffDirectory()
    policies = PolicyBook()
    citizens = CitizenDirectory()
    ids = list(dict.fromkeys(row_ids))  # a batch may carry the same row twice (insert + resend)
    result = RunResult()

    def one(row_id: str) -> tuple[str, str]:
        try:
            return row_id, send_row(row_id, now, senders, directory, settings.outbox_max_attempts,
                                    settings.outbox_backoff_seconds, policies, citizens)
        except Exception:
            # Never fail the batch for one row: a failed stream batch blocks its shard. The row keeps its
            # lease in the retry index and the retry schedule sends it once the lease has expired.
            logger.exception("outbox row error", extra={"outbox_id": row_id})
            return row_id, "error"

    if len(ids) <= 1 or max_workers <= 1:
        outcomes = [one(i) for i in ids]
    else:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(ids))) as pool:
            outcomes = list(pool.map(one, ids))
    for row_id, outcome in outcomes:
        result.add(outcome, row_id)
    if result.failed_ids:
        _emit_failed_metric(len(result.failed_ids))
    return result


def _emit_failed_metric(count: int) -> None:
    count_metric("NotificationFailed", count)


def _attr(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name) or {}
    return value.get("S") if isinstance(value, Mapping) else None


def wanted(record: Mapping[str, Any]) -> str | None:
    """The outbox id when a stream record asks for sending: a new pending row (INSERT), or a row a
    staff member put back from failed to pending (resend). Every other change is ignored: retries are
    driven by the retry schedule at their time, not by the update that scheduled them."""
    ddb = record.get("dynamodb") or {}
    new = ddb.get("NewImage") or {}
    if _attr(new, "entity") != "outbox" or _attr(new, "status") != PENDING:
        return None
    name = record.get("eventName")
    if name == "INSERT" or (name == "MODIFY" and _attr(ddb.get("OldImage") or {}, "status") == FAILED):
        return _attr(new, "id")
    return None


def handle_stream(event: Any, *, senders: Senders | None = None, now: datetime | None = None,
                  max_workers: int = MAX_WORKERS) -> RunResult:
    """The stream handler: send the outbox rows a batch of table changes announces."""
    ids = [i for i in (wanted(r) for r in stream_records(event)) if i]
    if not ids:
        return RunResult()
    result = send_rows(ids, senders=senders, now=now, max_workers=max_workers)
    logger.info("outbox batch", extra={"rows": result.rows, **result.outcomes})
    return result


def retry_due(*, senders: Senders | None = None, now: datetime | None = None,
              kabupaten: Iterable[str] | None = None) -> RunResult:
    """The retry schedule: rows whose retry time, quiet-hours deferral, lease or grace period has come."""
    from chalicelib.services.regions import served_kabupaten

    now = now or utcnow()
    ids: list[str] = []
    for kab in kabupaten or served_kabupaten():
        ids += list(repo.due_for_retry(kab, now))
    if not ids:
        return RunResult()
    result = send_rows(ids, senders=senders, now=now)
    logger.info("outbox retries", extra={"rows": result.rows, **result.outcomes})
    return result
