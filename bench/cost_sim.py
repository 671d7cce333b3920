"""A sample of a month's work driven through Balai's real code on in-process moto, counted call by call.

`python bench/cost.py` imports this (not the unit tests: it needs moto). What it does, in order:
1. In-process moto (mock_aws), the table and the Sinjai demo data (regions, staff, resident registers),
   with the local file channels for SMS and e-mail. Setup work is not counted.
2. Counting hooks on every botocore DynamoDB client (`before-parameter-build` and `after-call`): each
   call's operation, the item sizes it read (RRU from the returned items: 4 KB units, half for eventually
   consistent reads, double in a transaction), the keys it wrote (WRU from the table's NEW_AND_OLD_IMAGES
   stream records: 1 KB units of the larger image, double in a transaction, plus one write per GSI the
   item is in and two where an index key changed), and the time spent inside moto.
3. For each sample letter, the citizen's and the staff's usual path over HTTP through Chalice's test
   client (`LETTER_FLOW` below), the table's stream handed to the real stream handler after each step,
   the issuing queue drained into the real `issue_letters` handler, verifications of a share of the
   letters, and at the end one run of each scheduled handler.
4. Messages per channel are the lines the local SMS and e-mail adapters wrote (login codes included).
5. The items the letters left in the table, read back (a Scan of moto: the bench's, not the app's), and the
   bytes of each PDF stored; then a complaint for every 4 letters, worked to the end, read back the same way
   (its work is kept out of the letters' counts). Each village sets its lambang first, as districts do.

Each invocation's billed duration is estimated from what was measured: the time spent outside moto (one
full core of this machine, scaled to the function's share of a vCPU) plus an assumed in-region DynamoDB
latency per call and an assumed provider latency per message (ASSUMPTIONS in bench/cost.py).
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def _environment(data_dir: str) -> None:
    os.environ.update({
        "BALAI_STAGE": "test", "BALAI_TABLE": "balai-cost", "BALAI_DATA_DIR": data_dir,
        "BALAI_SMS_CHANNEL": "local", "BALAI_EMAIL_CHANNEL": "local",
        "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_REGION": "ap-southeast-3",
        "AWS_ACCESS_KEY_ID": "cost", "AWS_SECRET_ACCESS_KEY": "cost",
        "POWERTOOLS_SERVICE_NAME": "balai", "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
        # Every sample citizen calls from one address: lift the per-client OTP limits.
        "BALAI_OTP_PER_CLIENT_HOUR": "1000000", "BALAI_OTP_PER_CLIENT_DAY": "1000000",
        # Sinjai's WhatsApp Business number: login by WhatsApp message is on (SHARES["whatsapp_login"] use it).
        "BALAI_WHATSAPP_NUMBERS": f"73.07={WHATSAPP_NUMBER}",
    })
    for var in ("BALAI_DYNAMODB_ENDPOINT", "BALAI_SECRETS_ARN", "BALAI_LETTER_KEYS_ARN"):
        os.environ.pop(var, None)


WHATSAPP_NUMBER = "6281100007307"
# What Chromium sends on every fetch (it sets the header itself; a page cannot change it).
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br"

# --------------------------------------------------------------------------------------------- tallies
STAFF_LOGIN_PREFLIGHT = "OPTIONS /v1/auth/login (CORS preflight)"


@dataclass
class Tally:
    """What one kind of invocation (an API route, the stream handler, a schedule) did in the sample."""

    invocations: int = 0
    own_ms: float = 0.0  # wall time outside moto, on this machine
    ddb_calls: Counter[str] = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0
    stream_records: int = 0
    log_bytes: int = 0
    sms: int = 0
    email: int = 0
    push: int = 0
    # Calls that reached the app through API Gateway (REST: Open311 clients, a QR code's first request) rather than
    # the API function's URL, where the web calls it; and the browser's CORS preflights the function URL answered
    # from its own configuration (no invocation, nothing billed), counted on the call that needed them.
    rest_requests: int = 0
    url_preflights: int = 0
    # The answers' bytes on the wire, as sent (gzip-coded where the browser-like request accepted it and the app
    # compressed it), uncompressed, and the app's own response headers ("Name: value\r\n"); the status line and the
    # headers the Lambda service or API Gateway add are bench/cost.py's assumption (service_header_bytes).
    answers: int = 0
    answer_body_bytes: int = 0
    answer_identity_bytes: int = 0
    answer_header_bytes: int = 0
    # WRU by item kind and where they go: "{kind} table" (the item itself, "tx" when transactional) or
    # "{kind} GSIn" (the index copy); bench/cost_breakdown.py prints it.
    wru_parts: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"invocations": self.invocations, "own_ms": round(self.own_ms, 2), "ddb_calls": dict(self.ddb_calls),
                "rru": self.rru, "wru": self.wru, "stream_records": self.stream_records,
                "log_bytes": self.log_bytes, "sms": self.sms, "email": self.email, "push": self.push,
                "rest_requests": self.rest_requests, "url_preflights": self.url_preflights,
                "answers": self.answers, "answer_body_bytes": self.answer_body_bytes,
                "answer_identity_bytes": self.answer_identity_bytes, "answer_header_bytes": self.answer_header_bytes}


@dataclass
class _Write:
    key: tuple[str, str]
    transactional: bool
    bucket: str


class Meter:
    """Counts DynamoDB calls, request units, time inside moto and log bytes into the current bucket."""

    def __init__(self, item_size: Callable[[dict[str, Any]], int], read_units: Callable[..., float],
                 write_units: Callable[..., float], gsis: list[tuple[str, str, Any]]) -> None:
        self.tallies: dict[str, Tally] = {}
        self.bucket: str | None = None
        self.in_moto_ms = 0.0
        self._local = threading.local()
        self._writes: list[_Write] = []
        self._item_size, self._read_units, self._write_units = item_size, read_units, write_units
        self.gsis = gsis

    def tally(self, name: str) -> Tally:
        return self.tallies.setdefault(name, Tally())

    # -- botocore hooks
    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._local.call = (model.name, params, time.thread_time())

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name, params, started = getattr(self._local, "call", (model.name, {}, time.thread_time()))
        # CPU time of this thread inside moto, not wall time: a shared machine's load must not count as work
        self.in_moto_ms += (time.thread_time() - started) * 1000
        if self.bucket is None:
            return
        tally = self.tally(self.bucket)
        tally.ddb_calls[name] += 1
        tally.rru += self._reads(name, params, parsed)
        for key, transactional in self._written_keys(name, params):
            self._writes.append(_Write(key, transactional, self.bucket))
        if "Error" in parsed and name in ("PutItem", "UpdateItem", "DeleteItem"):
            tally.wru += 1.0  # a failed conditional write still costs a write unit

    def _reads(self, name: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        consistent = bool(params.get("ConsistentRead"))
        if name == "GetItem":
            return self._read_units([self._item_size(parsed.get("Item") or {})], consistent=consistent)
        if name == "Query":
            return self._read_units([sum(self._item_size(i) for i in parsed.get("Items") or [])], consistent=consistent)
        if name == "TransactGetItems":
            sizes = [self._item_size(r.get("Item") or {}) for r in parsed.get("Responses") or []]
            return self._read_units(sizes, transactional=True)
        if name == "BatchGetItem":
            items = [i for rows in (parsed.get("Responses") or {}).values() for i in rows]
            return self._read_units([self._item_size(i) for i in items], consistent=consistent)
        if name == "TransactWriteItems":
            checks = [i for i in params.get("TransactItems") or [] if "ConditionCheck" in i]
            return 0.0 if not checks else 0.0  # a condition check is billed as a write (see _written_keys)
        return 0.0

    @staticmethod
    def _key(item: dict[str, Any]) -> tuple[str, str]:
        return (str(item.get("PK", {}).get("S")), str(item.get("SK", {}).get("S")))

    def _written_keys(self, name: str, params: dict[str, Any]) -> list[tuple[tuple[str, str], bool]]:
        if name == "PutItem":
            return [(self._key(params["Item"]), False)]
        if name in ("UpdateItem", "DeleteItem"):
            return [(self._key(params["Key"]), False)]
        if name == "TransactWriteItems":
            out = []
            for entry in params.get("TransactItems") or []:
                if "Put" in entry:
                    out.append((self._key(entry["Put"]["Item"]), True))
                elif "Update" in entry:
                    out.append((self._key(entry["Update"]["Key"]), True))
                elif "Delete" in entry:
                    out.append((self._key(entry["Delete"]["Key"]), True))
                elif "ConditionCheck" in entry and self.bucket is not None:
                    self.tally(self.bucket).wru += 2.0  # at most 1 KB checked, in a transaction
            return out
        if name == "BatchWriteItem":
            out = []
            for rows in (params.get("RequestItems") or {}).values():
                for row in rows:
                    if "PutRequest" in row:
                        out.append((self._key(row["PutRequest"]["Item"]), False))
                    elif "DeleteRequest" in row:
                        out.append((self._key(row["DeleteRequest"]["Key"]), False))
            return out
        return []

    # -- stream records: the write units of the writes, from both images
    def account_stream_records(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            ddb = record.get("dynamodb") or {}
            key = self._key(ddb.get("Keys") or {})
            match = next((w for w in self._writes if w.key == key), None)
            if match is None:
                continue  # a write made outside any bucket (setup)
            self._writes.remove(match)
            old, new = ddb.get("OldImage"), ddb.get("NewImage")
            tally = self.tally(match.bucket)
            tally.wru += self._write_units(old, new, self.gsis, transactional=match.transactional)
            tally.stream_records += 1
            kind = _kind(new or old or {}, key)
            base = self._write_units(old, new, [], transactional=match.transactional)
            tally.wru_parts[f"{kind} table{' tx' if match.transactional else ''}"] += base
            for gsi in self.gsis:
                extra = self._write_units(old, new, [gsi], transactional=match.transactional) - base
                if extra:
                    tally.wru_parts[f"{kind} {gsi[0][:4]}"] += extra

    def forget_unmatched_writes(self) -> None:
        """Writes that left no stream record changed nothing (a failed condition, an identical put)."""
        for write in self._writes:
            self.tally(write.bucket).wru += 1.0
        self._writes.clear()


def _kind(image: dict[str, Any], key: tuple[str, str]) -> str:
    """An item's kind: its `entity` attribute, else the first part of its key (INBOX META, a counter)."""
    entity = (image.get("entity") or {}).get("S")
    return str(entity) if entity else f"{key[0].split('#', 1)[0]}/{key[1].split('#', 1)[0]}"


class _CountingStream:
    """Stands in for the log handler's stdout: counts the bytes a Lambda would ship to CloudWatch Logs."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def write(self, text: str) -> int:
        if self.meter.bucket is not None:
            self.meter.tally(self.meter.bucket).log_bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


# ---------------------------------------------------------------------------------------- the driver


@dataclass
class CitizenTraits:
    """What the message policy may use: an e-mail given, the PWA installed, a live refresh session."""

    email: bool
    pwa: bool
    returning_session: bool
    whatsapp: bool = False  # logs in by sending a WhatsApp message instead of an SMS code


@dataclass
class SampleResult:
    letters: int
    villages: list[str]
    tallies: dict[str, Tally]
    per_letter_calls: dict[str, float]
    verifications: int
    sms_by_event: Counter[str]
    email_by_event: Counter[str]
    schedules: dict[str, Tally]
    seconds: float
    policy: str
    traits: dict[str, float]
    # Every counted answer's bucket, Content-Type and uncompressed body (bench/answer_gzip.py measures gzip on them)
    answer_bodies: list[tuple[str, str, bytes]] = field(default_factory=list)
    # The items the letters left in the table (DynamoDB JSON, new since the sample began), when they were
    # read (epoch seconds), the table's indexes, and the bytes of each stored PDF.
    stored: list[dict[str, Any]] = field(default_factory=list)
    stored_at: float = 0.0
    # The same for the complaints driven after the letters (for their storage only: see _complaints)
    complaints: int = 0
    complaint_stored: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[tuple[str, str, Any]] = field(default_factory=list)
    pdf_sizes: list[int] = field(default_factory=list)


class Simulation:
    """The running sample: app, client, meter, stream position."""

    def __init__(self, meter: Meter, app: Any, client: Any, data_dir: Path) -> None:
        from tests.function_url_support import FunctionUrlClient

        self.meter, self.app, self.client, self.data_dir = meter, app, client, data_dir
        # The web's calls: payload-2.0 events through the function URL adapter (chalicelib/api/function_url.py)
        self.web = FunctionUrlClient(client, app)
        self._stream_position: dict[str, str] = {}
        self._sms_seen = 0
        self._email_seen = 0
        self._push_seen = 0
        self._ttl_keys: set[str] = set()
        self._preflighted: set[tuple[str, str, bool]] = set()
        self.browsers: dict[str, str] = {}  # a staff token -> its browser; every other call is the citizen's
        self.sms_by_event: Counter[str] = Counter()
        self.email_by_event: Counter[str] = Counter()
        self.stream_bucket = "stream"  # where the stream handler's invocations are counted
        self.answer_bodies: list[tuple[str, str, bytes]] = []

    # -- timing an invocation
    @contextmanager
    def invocation(self, bucket: str) -> Iterator[None]:
        """One Lambda invocation, timed; then the stream records it caused are delivered."""
        with self.invocation_no_pump(bucket):
            yield
        self.pump_stream()

    @contextmanager
    def uncounted(self) -> Iterator[None]:
        previous, self.meter.bucket = self.meter.bucket, None
        try:
            yield
        finally:
            self.meter.bucket = previous

    def _outbox_lines(self, name: str) -> list[dict[str, Any]]:
        path = self.data_dir / "outbox" / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def _count_messages(self, tally: Tally) -> None:
        sms = self._outbox_lines("sms.jsonl")
        emails = self._outbox_lines("email.jsonl")
        new_sms, new_email = sms[self._sms_seen:], emails[self._email_seen:]
        pushes = self._outbox_lines("push.jsonl")
        tally.push += len(pushes) - self._push_seen
        self._push_seen = len(pushes)
        tally.sms += len(new_sms)
        tally.email += len(new_email)
        for message in new_sms:
            self.sms_by_event[_event_of(message)] += 1
        for message in new_email:
            self.email_by_event[_event_of(message)] += 1
        self._sms_seen, self._email_seen = len(sms), len(emails)

    # -- the stream: records after the last position, each poll one batch for the stream handler
    def _stream_records(self) -> list[dict[str, Any]]:
        """New records of the table's stream shard, read from moto's backend (in-process moto routes no
        DynamoDB Streams calls), by sequence number (a cancelled transaction swaps moto's shard object)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodbstreams.models import ShardIterator, dynamodbstreams_backends

        from chalicelib.config import get_settings

        settings = get_settings()
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.aws_region].get_table(settings.table_name)
        streams = dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][settings.aws_region]
        records: list[dict[str, Any]] = []
        shard = table.stream_shard
        assert shard is not None, "the table has no stream"
        while True:
            position = self._stream_position.get("seq")
            iterator = (ShardIterator(streams, shard, "AFTER_SEQUENCE_NUMBER", int(position))
                        if position else ShardIterator(streams, shard, "TRIM_HORIZON"))
            items = iterator.stream_shard.get(iterator.sequence_number, 1000)
            if not items:
                return records
            records += items
            self._stream_position["seq"] = str(max(int(i["dynamodb"]["SequenceNumber"]) for i in items))

    def skip_stream(self) -> None:
        """Forget what setup wrote: the sample starts from here."""
        self._stream_records()
        self.meter._writes.clear()

    def pump_stream(self) -> None:
        """Hand the new stream records to the real stream handler, one batch per poll, until none are left
        (the handler's own updates are records too: the event source mapping invokes it for them)."""
        from chalicelib.workers.stream import matches

        for _ in range(5):
            records = self._stream_records()
            if not records:
                return
            self.meter.account_stream_records(_plain_records(records))
            # The event source mapping's filter (python -m chalicelib.ops stream-filter): Lambda drops the
            # records no part of the handler reads and invokes it only when some are left.
            event = {"Records": [r for r in (self._by_ttl(_lambda_record(r)) for r in records) if matches(r)]}
            if not event["Records"]:
                continue
            with self.invocation_no_pump(self.stream_bucket):
                self.client.lambda_.invoke("on_table_stream", event)

    def expire_by_ttl(self, pk: str) -> None:
        """What DynamoDB's TTL does to the item PK/META once it expires: a free delete whose stream record names the
        service (userIdentity), delivered to the stream function as Lambda would."""
        import boto3

        from chalicelib.config import get_settings

        settings = get_settings()
        with self.uncounted():
            boto3.client("dynamodb", region_name=settings.aws_region).delete_item(
                TableName=settings.table_name, Key={"PK": {"S": pk}, "SK": {"S": "META"}})
        self._ttl_keys.add(pk)
        self.pump_stream()

    def _by_ttl(self, record: dict[str, Any]) -> dict[str, Any]:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        if record.get("eventName") == "REMOVE" and (keys.get("PK") or {}).get("S") in self._ttl_keys:
            return {**record, "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"}}
        return record

    @contextmanager
    def invocation_no_pump(self, bucket: str) -> Iterator[None]:
        self.meter.bucket = bucket
        before_moto = self.meter.in_moto_ms
        # CPU time of the process (the sender's threads included), not wall time, so the figure does not grow with
        # the load of the machine the bench runs on; the code under test waits on nothing but moto, in-process
        started = time.process_time()
        try:
            yield
        finally:
            cpu = (time.process_time() - started) * 1000
            tally = self.meter.tally(bucket)
            tally.invocations += 1
            tally.own_ms += max(0.0, cpu - (self.meter.in_moto_ms - before_moto))
            self._count_messages(tally)
            self.meter.bucket = None

    # -- HTTP through the Chalice app, one Lambda invocation each
    # -- the browser's CORS preflights. The portal and the console call the API on another origin, so a browser
    # sends an OPTIONS before every call that is not a "simple" request (a JSON body, an Authorization or
    # Idempotency-Key header, PUT/PATCH/DELETE) and keeps its answer per URL for Access-Control-Max-Age. On the
    # API function's URL (where the web calls) the Lambda service answers it from the URL's CORS configuration
    # (MaxAge 86400, infra/chalice-prod-merge.json): no invocation, no charge; it is counted, not priced. On the
    # REST API it is an API Gateway request and a Lambda invocation of the OPTIONS view (chalicelib/api/cors.py,
    # 2 hours).
    def visit(self, *browsers: str) -> None:
        """These browsers come back hours or days after their last call: nothing of their preflights is kept."""
        self._preflighted = {seen for seen in self._preflighted if seen[0] not in browsers}

    def _preflight(self, browser: str, method: str, path: str, headers: dict[str, str], bucket: str,
                   rest: bool) -> None:
        if (browser, path, rest) in self._preflighted:
            return
        self._preflighted.add((browser, path, rest))
        if not rest:
            self.meter.tally(bucket).url_preflights += 1
            return
        from chalicelib.config import get_settings

        origins = get_settings().cors_origins
        asked = sorted(k.lower() for k in headers if k.lower() != "accept")
        # A staff login's preflight is priced with the login (per working day), not per letter.
        name = STAFF_LOGIN_PREFLIGHT if bucket == "POST /v1/auth/login" else "OPTIONS (CORS preflight)"
        with self.invocation(name):
            self.meter.tally(name).rest_requests += 1
            self.client.http.request("OPTIONS", path, headers={
                "Origin": origins[0] if origins else "http://127.0.0.1:8080",
                "Access-Control-Request-Method": method, "Access-Control-Request-Headers": ", ".join(asked)})

    def http(self, method: str, bucket: str, path: str, token: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None, rest: bool = False) -> Any:
        """One call as the web makes it (through the function URL), or with `rest` through API Gateway. Every call
        carries the Accept-Encoding Chromium sends (the browser sets it itself: it never needs a preflight)."""
        h = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        simple = method in ("GET", "HEAD", "POST") and not set(h) - {"Accept"}
        if not simple:
            self._preflight(self.browsers.get(token or "", "citizen"), method, path, h, bucket, rest)
        h["Accept-Encoding"] = BROWSER_ACCEPT_ENCODING
        with self.invocation(bucket):
            if rest:
                self.meter.tally(bucket).rest_requests += 1
            call = getattr((self.client if rest else self.web).http, method.lower())
            response = call(path, headers=h, body=json.dumps(body) if body is not None else None) \
                if method in ("POST", "PUT") else call(path, headers=h)
        self.count_answer(bucket, response, None if rest else self.web.http.last_answer)
        return response

    def count_answer(self, bucket: str, response: Any, sent: dict[str, Any] | None = None) -> None:
        """The bytes an answer puts on the wire: `sent` is the function URL's answer as the app returned it (its body
        base64 when binary or gzip-coded); without it, Chalice's REST answer as API Gateway passes it on."""
        identity = bytes(response.body or b"")
        headers: list[tuple[str, Any]] = list((response.headers or {}).items())
        wire = identity
        if sent is not None:
            raw = sent.get("body") or ""
            wire = base64.b64decode(raw) if sent.get("isBase64Encoded") else str(raw).encode()
            headers = [*(sent.get("headers") or {}).items(), *(("Set-Cookie", c) for c in sent.get("cookies") or [])]
        tally = self.meter.tally(bucket)
        tally.answers += 1
        tally.answer_body_bytes += len(wire)
        tally.answer_identity_bytes += len(identity)
        tally.answer_header_bytes += sum(len(f"{k}: {v}\r\n".encode()) for k, v in headers)
        content_type = str(next((v for k, v in headers if k.lower() == "content-type"), ""))
        self.answer_bodies.append((bucket, content_type, identity))

    def drain_issuing(self) -> int:
        import boto3

        from chalicelib.config import get_settings

        settings = get_settings()
        sqs = boto3.client("sqs", region_name=settings.aws_region)
        handled = 0
        while True:
            messages = sqs.receive_message(QueueUrl=settings.issue_queue_url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=30).get("Messages", [])
            if not messages:
                return handled
            event = self.client.events.generate_sqs_event(message_bodies=[m["Body"] for m in messages],
                                                          queue_name="balai-test-issuing.fifo")
            with self.invocation("issue_letters"):
                self.client.lambda_.invoke("issue_letters", event)
            for m in messages:
                sqs.delete_message(QueueUrl=settings.issue_queue_url, ReceiptHandle=m["ReceiptHandle"])
            handled += len(messages)


def _event_of(message: dict[str, Any]) -> str:
    """login code (sent directly, no outbox row), or the kind of recipient of an outbox delivery."""
    if "kode verifikasi" in str(message.get("text", "")).lower():
        return "login_code"
    message_id = str(message.get("message_id") or "")
    recipient = message_id.rsplit(":", 1)[-1] if ":" in message_id else "?"
    return "status_to_citizen" if recipient == "citizen" else "to_staff"


def _plain_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return records


def _lambda_record(record: dict[str, Any]) -> dict[str, Any]:
    """A boto3 GetRecords record as the Lambda event carries it (ApproximateCreationDateTime as a number)."""
    out = dict(record)
    ddb = dict(out.get("dynamodb") or {})
    created: Any = ddb.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        ddb["ApproximateCreationDateTime"] = created.timestamp()
    out["dynamodb"] = ddb
    return out


def _newest_in_outbox(data_dir: Path, name: str, to: str, pattern: str) -> str | None:
    """The first group of `pattern` in the newest message of outbox file `name` to `to` that matches it."""
    import re

    path = data_dir / "outbox" / name
    for line in reversed(path.read_text().splitlines() if path.exists() else []):
        message = json.loads(line)
        match = re.search(pattern, message["text"]) if message.get("to") == to else None
        if match:
            return match.group(1)
    return None


def _newest_in_sms(data_dir: Path, phone_e164: str, pattern: str) -> str | None:
    return _newest_in_outbox(data_dir, "sms.jsonl", phone_e164, pattern)


def _otp_code(data_dir: Path, phone_e164: str) -> str:
    code = _newest_in_sms(data_dir, phone_e164, r"\b(\d{6})\b")
    if code is None:
        raise AssertionError("no login code sent")
    return code


def _signin_link(data_dir: Path, phone_e164: str) -> str | None:
    """The secret of the sign-in link in the newest SMS to this phone that carries one (a status SMS)."""
    return _newest_in_sms(data_dir, phone_e164, r"#masuk/([A-Za-z0-9_-]{22})")


def run_sample(letters: int, villages: int, shares: dict[str, float], seed: int = 7,
               verification_share: float = 0.4, revision_share: float = 0.15,
               log: Callable[[str], None] = lambda _: None, whatsapp_polls: int = 2) -> SampleResult:
    """Drive `letters` letters spread over `villages` active villages; returns the counted tallies.
    `whatsapp_polls`: the portal's pending polls of a WhatsApp login before the one that logs in."""
    import importlib.util

    started = time.perf_counter()
    data_dir = Path(tempfile.mkdtemp(prefix="balai-cost-"))
    _environment(str(data_dir))
    sys.path.insert(0, str(ROOT))
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    try:
        import boto3

        # The issuing queue (SQS FIFO), as the infra stack makes it; moto's fixes local mode also uses.
        os.environ["BALAI_ISSUE_QUEUE_URL"] = boto3.client("sqs", region_name="ap-southeast-3").create_queue(
            QueueName="balai-test-issuing.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        from localmode import moto_patches

        moto_patches.apply()
        import botocore.session

        spec = importlib.util.spec_from_file_location("balai_bench_cost_units", HERE / "cost.py")
        assert spec and spec.loader
        units = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(spec.name, units)
        spec.loader.exec_module(units)
        meter = Meter(units.item_size, units.read_units, units.write_units, table_indexes())
        original = botocore.session.Session.create_client

        def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(self, service_name, *args, **kwargs)
            if service_name == "dynamodb":
                client.meta.events.register("before-parameter-build.dynamodb.*", meter.before)
                client.meta.events.register("after-call.dynamodb.*", meter.after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        return _drive(meter, data_dir, letters, villages, shares, seed, verification_share, revision_share,
                      started, log, whatsapp_polls)
    finally:
        mock.stop()
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


def table_indexes() -> list[tuple[str, str, Any]]:
    """The table's GSIs as the models declare them (the table is created from them): hash key, range key and
    projection ("ALL", "KEYS_ONLY" or the attribute names an INCLUDE adds), so index writes are priced as built."""
    from pynamodb.indexes import GlobalSecondaryIndex

    from chalicelib.storage.table import BaseItem

    out: list[tuple[str, str, Any]] = []
    for index in vars(BaseItem).values():
        if not isinstance(index, GlobalSecondaryIndex):
            continue
        attrs = index.Meta.attributes.values()
        hash_key = next(a.attr_name for a in attrs if a.is_hash_key)
        range_key = next(a.attr_name for a in attrs if a.is_range_key)
        projection = index.Meta.projection
        kind = projection.projection_type
        out.append((hash_key, range_key,
                    kind if kind in ("ALL", "KEYS_ONLY") else tuple(projection.non_key_attributes or ())))
    return sorted(out)


def _table_items() -> list[dict[str, Any]]:
    """Every item of the sample's table (a Scan of moto, outside any bucket: the bench's reading, not the app's)."""
    import boto3

    from chalicelib.config import get_settings

    settings = get_settings()
    client = boto3.client("dynamodb", region_name=settings.aws_region)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": settings.table_name}
    while True:
        page = client.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _key_of(item: dict[str, Any]) -> tuple[str, str]:
    return (str(item["PK"]["S"]), str(item["SK"]["S"]))


def _count_file_store(meter: Meter, pdf_sizes: dict[str, int] | None = None) -> None:
    """Count the S3 requests the cloud's file store would make, at the local store that stands in for it:
    put/copy (PUT), the browser's presigned POST (PUT), read/probe (GET/HEAD), every presigned link the
    API hands out (a GET by the browser that opens it) and deletes (DELETE: counted, not billed by S3).
    The bytes of each PDF stored go to `pdf_sizes` by key."""
    from chalicelib.adapters.files import LocalFileStore

    original_put = LocalFileStore.put

    def put(self: Any, key: str, data: bytes, content_type: str) -> None:
        if pdf_sizes is not None and content_type == "application/pdf":
            pdf_sizes[key] = len(data)  # a PDF rendered again replaces the object: its last size counts
        original_put(self, key, data, content_type)

    LocalFileStore.put = put  # type: ignore[method-assign]

    depth = threading.local()

    def counted(name: str, kind: str) -> None:
        original = getattr(LocalFileStore, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            outer = not getattr(depth, "n", 0)  # accept_post stores with put(): one request, not two
            if outer:
                bucket = meter.bucket or "browser"
                key = str(args[0]) if args and isinstance(args[0], str) else ""
                prefix = key.split("/", 1)[0] if "/" in key else ""
                meter.tally(bucket).ddb_calls[f"S3 {kind}{' ' + prefix if kind == 'LINK' else ''}"] += 1
            depth.n = getattr(depth, "n", 0) + 1
            try:
                return original(self, *args, **kwargs)
            finally:
                depth.n -= 1

        setattr(LocalFileStore, name, wrapper)

    for name, kind in (("put", "PUT"), ("copy", "PUT"), ("accept_post", "PUT"), ("read", "GET"),
                       ("probe", "GET"), ("exists", "GET"), ("link", "LINK"), ("delete", "DELETE")):
        counted(name, kind)


def _drive(meter: Meter, data_dir: Path, letters: int, n_villages: int, shares: dict[str, float], seed: int,
           verification_share: float, revision_share: float, started: float,
           log: Callable[[str], None], whatsapp_polls: int = 2) -> SampleResult:
    from chalice.test import Client

    from app import app
    from chalicelib.observability import logger
    from chalicelib.ops.demo import seed_demo
    from chalicelib.storage import regions
    from chalicelib.storage.table import create_table
    from tests import helpers as fx

    rng = random.Random(seed)
    random.seed(seed)
    create_table()
    seed_demo()
    pdf_sizes: dict[str, int] = {}
    _count_file_store(meter, pdf_sizes)
    # The logs the functions would ship: the Powertools handler writes into a byte counter.
    handler = logger.registered_handler
    handler.setStream(_CountingStream(meter))  # type: ignore[attr-defined]
    client = Client(app)
    sim = Simulation(meter, app, client, data_dir)
    active = [r.code for k in ("73.07.03", "73.07.09") for r in regions.children(k) if r.active]
    villages = active[:max(1, n_villages)]
    policy = "today's notification rules (chalicelib/domain/notifications.py: citizens by SMS only)"
    has_refresh = any("/v1/auth/refresh" in path for path in app.routes)
    if has_refresh:
        policy = ("the message policy (chalicelib/domain/message_policy.py: SMS for login codes and as the "
                  "citizen's last resort), 30-day refresh sessions")

    # Staff tokens (their logins are counted separately, per working day: see cost.py)
    staff: dict[str, dict[str, str]] = {}
    for village in villages:
        with sim.uncounted():
            staff[village] = {role: fx.staff_token(client, f"{role}.{village}") for role in ("operator", "kades")}
        sim.browsers.update({token: f"{role}.{village}" for role, token in staff[village].items()})
    # Each village has set its lambang for the kop surat once (docs/letters.md), so the letters carry it.
    from render_sample import sample_logo

    for village in villages:
        with sim.uncounted():
            shown = client.http.put(f"/v1/villages/{village}/letter-settings/logo", body=sample_logo(),
                                    headers={"Authorization": f"Bearer {staff[village]['kades']}",
                                             "Content-Type": "image/jpeg"})
        assert shown.status_code == 200, shown.body
    meter.tallies.pop("browser", None)  # the logo's store call is setup, not a browser's
    login = sim.http("POST", "POST /v1/auth/login", "/v1/auth/login", None,
                     {"username": f"operator.{villages[0]}", "password": fx.PASSWORD})
    assert login.status_code == 200, login.body
    sim.skip_stream()
    meter.tallies.pop("stream", None)
    before_sample = {_key_of(i) for i in _table_items()}

    calls_before: Counter[str] = Counter()
    issued: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    for n in range(letters):
        village = villages[n % len(villages)]
        traits = CitizenTraits(email=rng.random() < shares["email"], pwa=rng.random() < shares["pwa"],
                               returning_session=rng.random() < shares["returning_session"])
        # WhatsApp login: exactly the share, spread evenly over the sample (not drawn: 20 letters would make a
        # drawn share jump by 5 points with the seed, and the SMS bar with it)
        share = shares.get("whatsapp_login", 0.0)
        traits.whatsapp = int((n + 1) * share + 1e-9) > int(n * share + 1e-9)
        phone = fx.random_phone()
        citizen = {"nik": fx.random_nik(village.replace(".", "")[:6]), "phone": phone,
                   "whatsapp": traits.whatsapp, "polls": whatsapp_polls}
        with sim.uncounted():  # the village register holds most applicants (issue 8); setup, not counted
            fx.register_resident(citizen, village, phone=fx.e164(phone))
        sim.skip_stream()
        sim.visit("citizen")  # a new citizen's browser
        token = _citizen_login(sim, data_dir, citizen)
        citizen["token"] = token
        if has_refresh and traits.email:  # the portal asks once for an e-mail for status messages
            citizen["email"] = f"warga{n}@contoh.id"
            saved = sim.http("PUT", "PUT /v1/me/contact", "/v1/me/contact", token, {"email": citizen["email"]})
            if saved.json_body.get("confirmation_sent"):  # and for the code it sends there, in the same form
                code = _newest_in_outbox(data_dir, "email.jsonl", citizen["email"], r"\b(\d{6})\b")
                confirmed = sim.http("POST", "POST /v1/me/contact/confirm", "/v1/me/contact/confirm", token,
                                     {"code": code})
                assert confirmed.status_code == 200, confirmed.body
        if has_refresh and traits.pwa:  # an installed PWA subscribes to Web Push
            sim.http("GET", "GET /v1/push/vapid-public-key", "/v1/push/vapid-public-key")
            sub = sim.http("POST", "POST /v1/me/push-subscriptions", "/v1/me/push-subscriptions", token,
                           {"endpoint": f"https://push.example.id/sub/{n}",
                            "keys": {"p256dh": P256DH, "auth": PUSH_AUTH}})
            assert sub.status_code == 201, sub.body
        # The portal after a login lists her requests (web/assets/citizen.js viewList), unless the login said she
        # has none: then it opens "Ajukan surat", which reads the profile unless the login said it is complete,
        # then her own kecamatan with its villages and, as its siblings, the kabupaten's kecamatan (one answer),
        # then the village's letter types (the form's second read of them is answered by the browser cache:
        # Cache-Control max-age=300).
        if citizen["has_requests"]:
            sim.http("GET", "GET /v1/me/requests", "/v1/me/requests?limit=50", token)
        if not citizen["profile_complete"]:
            sim.http("GET", "GET /v1/me/profile", "/v1/me/profile", token)
        sim.http("GET", "GET /v1/regions/{code} (portal)",  # not the dashboard's bucket
                 f"/v1/regions/{village.rsplit('.', 1)[0]}?siblings=true")
        sim.http("GET", "GET /v1/villages/{desa}/letter-types", f"/v1/villages/{village}/letter-types")
        refs = {}
        from chalicelib.domain import catalog

        for spec in catalog.DEFAULT_CATALOG["SKD"].attachments:
            if not spec.required:
                continue
            form = sim.http("POST", "POST /v1/villages/{desa}/uploads", f"/v1/villages/{village}/uploads", token,
                            {"letter_type": "SKD", "attachment": spec.name, "filename": "ktp.jpg",
                             "content_type": "image/jpeg", "size": len(fx.JPEG)})
            assert form.status_code == 201, form.body
            # In the cloud the browser posts the file straight to S3: no function runs, one S3 PUT.
            meter.bucket = "s3"
            assert fx.send_form(client, form.json_body, fx.JPEG).status_code == 204
            meter.bucket = None
            refs[spec.name] = form.json_body["upload_id"]
        response = sim.http("POST", "POST /v1/villages/{desa}/requests", f"/v1/villages/{village}/requests", token,
                            {"letter_type": "SKD", "fields": fx.SKD_FIELDS, "attachments": refs},
                            {"Idempotency-Key": f"form-{n}"})
        assert response.status_code == 201, response.body
        request = response.json_body
        sim.http("GET", "GET /v1/track/{code}", f"/v1/track/{request['tracking_code']}")
        op, kades = staff[village]["operator"], staff[village]["kades"]
        sim.visit(f"operator.{village}", f"kades.{village}")  # each letter's work is a visit of its own (upper bound)
        sim.http("GET", "GET /v1/villages/{desa}/requests", f"/v1/villages/{village}/requests?status=submitted", op)
        sim.http("GET", "GET /v1/requests/{id}", f"/v1/requests/{request['id']}", op)
        # "Tampilkan semua lampiran": every file's link in one answer, drawn in the page (web/assets/staff.js)
        shown = sim.http("GET", "GET /v1/requests/{id}/attachments", f"/v1/requests/{request['id']}/attachments", op)
        assert shown.status_code == 200 and len(shown.json_body["items"]) == len(refs), shown.body
        request = _act(sim, op, request, "review")
        if rng.random() < revision_share:
            request = _act(sim, op, request, "request_revision", "Foto KTP kurang jelas.")
            sim.visit("citizen")  # she comes back days later
            sim.http("GET", "GET /v1/requests/{id}", f"/v1/requests/{request['id']}", token)
            # the revision form is drawn from the letter type's schema (read days after the submission)
            sim.http("GET", "GET /v1/villages/{desa}/letter-types", f"/v1/villages/{village}/letter-types")
            request = _act(sim, token, request, "resubmit")
            request = _act(sim, op, request, "review")
        if not request.get("identity_verified", True):
            request = _act(sim, op, request, "verify_identity", document="KTP-el")
        request = _act(sim, op, request, "approve")
        sim.http("GET", "GET /v1/villages/{desa}/requests", f"/v1/villages/{village}/requests?status=approved", kades)
        sim.http("GET", "GET /v1/requests/{id}", f"/v1/requests/{request['id']}", kades)
        decided = _act(sim, kades, request, "issue", expect=202)
        sim.drain_issuing()
        # The console shows "Sedang diterbitkan" and reads the request again 1.5 s later (refreshWhileIssuing)
        sim.http("GET", "GET /v1/requests/{id}", f"/v1/requests/{request['id']}", kades)
        sim.http("GET", "GET /v1/track/{code}", f"/v1/track/{decided['tracking_code']}")
        # The citizen comes back for the PDF: a new login code, unless a live refresh session remains
        sim.visit("citizen")
        straight_to_request = False
        if has_refresh and traits.returning_session:
            refreshed = sim.http("POST", "POST /v1/auth/refresh", "/v1/auth/refresh", None,
                                 {"refresh_token": citizen["refresh_token"]})
            assert refreshed.status_code == 200, refreshed.body
            citizen["token"] = refreshed.json_body["token"]
        elif (secret := _signin_link(data_dir, fx.e164(citizen["phone"]))) is not None:
            # No session left, but the status SMS carried a one-time sign-in link: opening it is the login, and the
            # portal opens the request it names (citizen.js viewLinkSignIn)
            opened = sim.http("POST", "POST /v1/auth/link", "/v1/auth/link", None, {"token": secret})
            assert opened.status_code == 200, opened.body
            citizen["token"] = opened.json_body["token"]
            straight_to_request = True
        else:
            citizen["token"] = _citizen_login(sim, data_dir, citizen)
        # A tap on the Web Push notification opens the request too (its url is /#permohonan/{id}, sw.js); the
        # others open the portal on her list. The inbox is read only when she opens "Kotak pesan" herself.
        straight_to_request = straight_to_request or (has_refresh and traits.pwa)
        if not straight_to_request:
            sim.http("GET", "GET /v1/me/requests", "/v1/me/requests?limit=50", citizen["token"])
        # Her request, whose answer carries the PDF's link for "Unduh surat" (no GET .../letter: web/assets/citizen.js)
        mine = sim.http("GET", "GET /v1/requests/{id}", f"/v1/requests/{request['id']}", citizen["token"])
        assert mine.status_code == 200 and mine.json_body["letter"]["download"]["url"], mine.body
        issued.append((citizen, request, str(mine.json_body["letter"]["download"].get("verify_url") or "")))
        if (n + 1) % 10 == 0:
            log(f"  {n + 1}/{letters} letters driven ({time.perf_counter() - started:.0f} s)")
    verifications = 0
    for _, _, url in issued:
        if url and rng.random() < verification_share:
            token = url.rsplit("/", 1)[-1]
            # The QR code holds the REST API's address (PublicBaseUrl, printed on paper): the phone's browser gets
            # a redirect to the verification page there, whose script asks the API (the function URL) for the JSON.
            qr = sim.http("GET", "GET /v1/letters/verify/{token} (QR code, REST)", f"/v1/letters/verify/{token}",
                          headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, rest=True)
            assert qr.status_code == 302, qr.body
            sim.http("GET", "GET /v1/letters/verify/{token}", f"/v1/letters/verify/{token}",
                     headers={"Accept": "application/json"})
            verifications += 1
    # 30 days on, DynamoDB's TTL removes each closed request's retention item and the stream function deletes its
    # attachments (one invocation per letter here: TTL deletions arrive spread out, so batches are not assumed).
    from chalicelib.storage import keys as table_keys

    for _, request, _ in issued:
        sim.expire_by_ttl(table_keys.retention_pk(request["id"]))
    # A public page view: the region tree (the transparency pages' own API is not on this branch yet).
    sim.http("GET", "GET /v1/regions/{code}", "/v1/regions/73.07")
    meter.forget_unmatched_writes()
    del calls_before
    # What the letters left in the table (before the schedules, whose digests are per village and day)
    stored_at = time.time()
    stored = [i for i in _table_items() if _key_of(i) not in before_sample]
    before_complaints = {_key_of(i) for i in stored} | before_sample
    complaints = _complaints(sim, [(c, r) for c, r, _ in issued[:max(1, letters // 4)]], staff)
    complaint_stored = [i for i in _table_items() if _key_of(i) not in before_complaints]

    # One run of each scheduled handler over the sample's data.
    schedules: dict[str, Tally] = {}
    for name in ("outbox_retry", "sla_escalation", "daily_digest"):
        before = Tally(**{k: v for k, v in meter.tally(name).__dict__.items()})
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
        with sim.invocation(name):
            client.lambda_.invoke(name, event)
        schedules[name] = meter.tally(name)
        del before
    per_letter = {name: t.invocations / letters for name, t in meter.tallies.items()
                  if name.startswith(("GET ", "POST ", "PUT ", "OPTIONS "))}
    return SampleResult(letters=letters, villages=villages, tallies=dict(meter.tallies), per_letter_calls=per_letter,
                        verifications=verifications, sms_by_event=sim.sms_by_event, email_by_event=sim.email_by_event,
                        schedules=schedules, seconds=time.perf_counter() - started, policy=policy, traits=shares,
                        stored=stored, stored_at=stored_at, indexes=meter.gsis, pdf_sizes=list(pdf_sizes.values()),
                        complaints=complaints, complaint_stored=complaint_stored, answer_bodies=sim.answer_bodies)


COMPLAINT = "complaint: "  # the buckets of the complaint phase: left out of the letters' counts


def _complaints(sim: Simulation, citizens: list[tuple[dict[str, Any], dict[str, Any]]],
                staff: dict[str, dict[str, str]]) -> int:
    """A complaint from some of the sample's citizens, each with one photo, worked to the end (acknowledge,
    start, resolve by the village's operator; rated and closed by the citizen), with the stream handler
    sending its messages: only to count what a complaint leaves in the table. Its work is counted in buckets
    named "complaint: ..." that bench/cost.py does not price (a complaint's work is priced from the letter's,
    ASSUMPTIONS), and its messages are kept out of the letters' messages by kind."""
    from tests import helpers as fx

    saved = (Counter(sim.sms_by_event), Counter(sim.email_by_event))
    sim.stream_bucket = COMPLAINT + "stream"
    for n, (citizen, request) in enumerate(citizens):
        village, token = str(request["village"]), str(citizen["token"])
        form = sim.http("POST", COMPLAINT + "upload", f"/v1/villages/{village}/complaint-uploads", token,
                        {"filename": "jalan.jpg", "content_type": "image/jpeg", "size": len(fx.JPEG)})
        assert form.status_code == 201, form.body
        sim.meter.bucket = COMPLAINT + "s3"
        assert fx.send_form(sim.client, form.json_body, fx.JPEG, "jalan.jpg", "image/jpeg").status_code == 204
        sim.meter.bucket = None
        filed = sim.http("POST", COMPLAINT + "file", f"/v1/villages/{village}/complaints", token,
                         {"kind": "complaint", "category": "pelayanan_desa", "title": "Lampu jalan mati",
                          "text": "Lampu jalan di depan masjid sudah mati dua minggu, jalan gelap di malam hari.",
                          "public": True, "photos": [form.json_body["upload_id"]]},
                         {"Idempotency-Key": f"complaint-{n}"})
        assert filed.status_code == 201, filed.body
        complaint = filed.json_body
        steps: list[tuple[str, dict[str, Any]]] = [
            (staff[village]["operator"], {"action": "acknowledge"}), (staff[village]["operator"], {"action": "start"}),
            (staff[village]["operator"], {"action": "resolve", "note": "Lampu sudah diganti."}),
            (token, {"action": "rate", "rating": 5}), (token, {"action": "close"})]
        for who, body in steps:
            done = sim.http("POST", COMPLAINT + "transition", f"/v1/complaints/{complaint['id']}/transitions", who,
                            {**body, "version": complaint["version"]})
            assert done.status_code == 200, (body, done.body)
            complaint = done.json_body
    sim.stream_bucket = "stream"
    sim.sms_by_event, sim.email_by_event = saved
    return len(citizens)


# A valid P-256 public key and auth secret, as a browser's PushSubscription carries them.
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
PUSH_AUTH = "tBHItJI5svbpez7KI4CCXg"


def _whatsapp_login(sim: Simulation, citizen: dict[str, Any]) -> Any:
    """The portal's "Masuk lewat WhatsApp" (web/assets/citizen.js viewLogin): is it offered (one GET, cached an
    hour by the browser: counted on every login page, an upper bound), start with the NIK and phone she typed,
    the pending polls while she is in WhatsApp (the page polls while it is visible; `polls`, ASSUMPTIONS), Meta's
    signed webhook delivery of her message (an invocation of its own, no preflight: not a browser), the last poll."""
    from chalicelib.config import get_secrets
    from chalicelib.domain.whatsapp_login import sign
    from tests import helpers as fx

    sim.http("GET", "GET /v1/auth/whatsapp", "/v1/auth/whatsapp")
    started = sim.http("POST", "POST /v1/auth/whatsapp", "/v1/auth/whatsapp", None,
                       {"nik": citizen["nik"], "phone": citizen["phone"]})
    assert started.status_code == 201, started.body
    login_id = started.json_body["login_id"]
    for _ in range(int(citizen.get("polls", 2))):
        pending = sim.http("POST", "POST /v1/auth/whatsapp/verify", "/v1/auth/whatsapp/verify", None,
                           {"login_id": login_id})
        assert pending.status_code == 202, pending.body
    sender = fx.e164(citizen["phone"]).lstrip("+")
    raw = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                      "value": {"messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": WHATSAPP_NUMBER, "phone_number_id": "1"},
                                "contacts": [{"profile": {"name": "Warga"}, "wa_id": sender}],
                                "messages": [{"from": sender, "id": f"wamid.{login_id[-8:]}", "timestamp": "1",
                                              "type": "text", "text": {"body": started.json_body["text"]}}]}}]}]})
    with sim.invocation("POST /v1/webhooks/whatsapp"):
        # Meta calls the callback URL set in its app: the REST API's domain (docs/operations.md 1.4a).
        sim.meter.tally("POST /v1/webhooks/whatsapp").rest_requests += 1
        delivered = sim.client.http.post("/v1/webhooks/whatsapp", body=raw.encode(), headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(str(get_secrets().whatsapp_app_secret), raw.encode())})
    sim.count_answer("POST /v1/webhooks/whatsapp", delivered)
    assert delivered.status_code == 200 and delivered.json_body["proven"] == 1, delivered.body
    return sim.http("POST", "POST /v1/auth/whatsapp/verify", "/v1/auth/whatsapp/verify", None, {"login_id": login_id})


def _citizen_login(sim: Simulation, data_dir: Path, citizen: dict[str, Any]) -> str:
    from tests import helpers as fx

    if citizen.get("whatsapp"):
        response = _whatsapp_login(sim, citizen)
        assert response.status_code == 200, response.body
        citizen["whatsapp_logins"] = int(citizen.get("whatsapp_logins", 0)) + 1
        if response.json_body.get("refresh_token"):
            citizen["refresh_token"] = response.json_body["refresh_token"]
        citizen["profile_complete"] = bool(response.json_body.get("profile_complete"))
        citizen["has_requests"] = response.json_body.get("has_requests") is not False
        return str(response.json_body["token"])
    body = {"nik": citizen["nik"], "phone": citizen["phone"]}
    response = sim.http("POST", "POST /v1/auth/otp", "/v1/auth/otp", None, body)
    assert response.status_code == 202, response.body
    if response.json_body.get("via") == "email":  # a returning citizen with a confirmed e-mail
        code = _newest_in_outbox(data_dir, "email.jsonl", citizen["email"], r"\b(\d{6})\b")
        assert code is not None, "no login code e-mailed"
    else:
        code = _otp_code(data_dir, fx.e164(citizen["phone"]))
    response = sim.http("POST", "POST /v1/auth/otp/verify", "/v1/auth/otp/verify", None, {**body, "code": code})
    assert response.status_code == 200, response.body
    if response.json_body.get("refresh_token"):
        citizen["refresh_token"] = response.json_body["refresh_token"]
    citizen["profile_complete"] = bool(response.json_body.get("profile_complete"))
    citizen["has_requests"] = response.json_body.get("has_requests") is not False
    return str(response.json_body["token"])


def _act(sim: Simulation, token: str, request: dict[str, Any], action: str, note: str | None = None,
         expect: int = 200, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action, "version": request["version"], **extra}
    if note:
        body["note"] = note
    response = sim.http("POST", "POST /v1/requests/{id}/transitions", f"/v1/requests/{request['id']}/transitions",
                        token, body)
    assert response.status_code == expect, (action, response.status_code, response.body)
    return dict(response.json_body)
