"""moto's DynamoDB server on loopback, with a journal of successful writes and a snapshot, so data
survives restarts and a restart takes seconds however long local mode has been used.

moto keeps everything in memory. Its own recorder logs every request (reads and stream polls too),
so its replay grows with use. Here:
- every successful write is appended to .balai/dynamodb-journal.jsonl (timestamps and ids are made by
  the client, so the requests are deterministic and replay to the same state);
- on start the snapshot (.balai/dynamodb-snapshot.jsonl: table definitions, then one line per item)
  is loaded straight into moto's tables, the journal written since is replayed, and the two are
  compacted into a new snapshot and an empty journal; a clean stop compacts too.
The journal's first line names it; the snapshot names the journal that continues it. A crash between
writing a snapshot and starting the next journal leaves a journal the snapshot already contains, which
its name shows, so it is never applied twice. Both files are readable by the owner only (they hold
NIKs and phone numbers).
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

WRITE_OPERATIONS = {"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive", "PutItem", "UpdateItem",
                    "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_REPLAY_HEADERS = ("Authorization", "Host", "Content-Type", "X-Amz-Target", "X-Amz-Date")
# Lines [table, hash key, range key or null, {index hash key attribute: value}, attributes]; earlier ones:
# /2 [table, hash key, range key, attributes] and /1 [table, attributes] (their indexes are rebuilt on load).
SNAPSHOT_FORMAT = "balai-dynamodb-snapshot/4"
SNAPSHOT_FORMATS = (SNAPSHOT_FORMAT, "balai-dynamodb-snapshot/3", "balai-dynamodb-snapshot/2",
                    "balai-dynamodb-snapshot/1")
TTL_SWEEP_SECONDS = 60.0  # DynamoDB deletes expired items "within a few days"; local mode within a minute
SWEEP_CHUNK = 2_000  # items looked at per hold of the store lock
TTL_MAX_AGE_SECONDS = 5 * 365 * 24 * 3600  # DynamoDB leaves items whose TTL is more than five years past
DEFAULT_ACCOUNT = "123456789012"  # moto's account for any access key it does not know


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def open_private(path: Path, mode: str = "a") -> io.TextIOWrapper:
    """Open a text file for writing, created 0600 (and tightened to 0600 if it existed)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return open(fd, mode, encoding="utf-8")


class Journal:
    """The write journal and the snapshot it continues, in one directory."""

    def __init__(self, directory: Path, name: str = "dynamodb") -> None:
        self.directory = directory
        self.path = directory / f"{name}-journal.jsonl"
        self.snapshot_path = directory / f"{name}-snapshot.jsonl"
        self._lock = threading.Lock()
        self._fh: io.TextIOWrapper | None = None
        self.entries = 0  # written to the current journal

    def journal_id(self) -> str | None:
        """The id on the journal's first line (None for a journal from before snapshots, or none)."""
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as fh:
            first = fh.readline()
        try:
            header = json.loads(first)
        except ValueError:
            return None
        return str(header["journal"]) if isinstance(header, dict) and "journal" in header else None

    def entries_to_replay(self, continued_by: str | None, has_snapshot: bool) -> Iterator[dict[str, Any]]:
        """The journal's writes, unless a snapshot exists that this journal does not continue."""
        if not self.path.exists() or (has_snapshot and self.journal_id() != continued_by):
            return
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if "journal" not in entry:
                    yield entry

    def start_new(self, journal_id: str) -> None:
        """Replace the journal by an empty one named `journal_id` (after a snapshot that it continues)."""
        self.close()
        tmp = self.path.with_suffix(".tmp")
        with open_private(tmp, "w") as fh:
            fh.write(json.dumps({"journal": journal_id}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)
        self.entries = 0

    def append(self, entry: dict[str, Any]) -> None:
        if self._fh is None:
            self._fh = open_private(self.path, "a")
        self._fh.write(json.dumps(entry) + "\n")
        self._fh.flush()
        self.entries += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    @property
    def lock(self) -> threading.Lock:
        """Held across each write (and a compaction) so the journal order is the order moto applied them."""
        return self._lock


class JournalMiddleware:
    """WSGI middleware that appends each successful DynamoDB write to the journal."""

    def __init__(self, app: Callable[..., Iterable[bytes]], journal: Journal) -> None:
        self.app = app
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if operation not in WRITE_OPERATIONS:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        seen: dict[str, str] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info)

        with self.journal.lock:
            result = list(self.app(environ, capture))
            if seen.get("status", "").startswith("200"):
                headers = {h: environ.get("HTTP_" + h.upper().replace("-", "_"), "") for h in _REPLAY_HEADERS}
                headers["Content-Type"] = environ.get("CONTENT_TYPE", "application/x-amz-json-1.0")
                self.journal.append({"path": environ.get("PATH_INFO", "/"), "headers": headers,
                                     "body": body.decode()})
        return result


def replay(app: Callable[..., Iterable[bytes]], entries: Iterable[dict[str, Any]]) -> int:
    """Apply journal entries to the server app, in order; returns the number of writes replayed."""
    from werkzeug.test import Client

    client = Client(app)
    count = 0
    for entry in entries:
        client.post(entry["path"], data=entry["body"].encode(), headers=entry["headers"])
        count += 1
    return count


def _tables() -> Iterator[tuple[str, str, Any]]:
    from moto.dynamodb.models import dynamodb_backends

    for account_id in list(dynamodb_backends.keys()):
        for region, backend in list(dynamodb_backends[account_id].items()):
            for table in list(backend.tables.values()):
                yield account_id, region, table


def _table_definition(account_id: str, region: str, table: Any) -> dict[str, Any]:
    def index(i: Any, with_throughput: bool) -> dict[str, Any]:
        d = {"IndexName": i.name, "KeySchema": i.schema, "Projection": i.projection}
        if with_throughput and getattr(i, "throughput", None) and table.billing_mode != "PAY_PER_REQUEST":
            d["ProvisionedThroughput"] = {k: i.throughput[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")}
        return d

    spec = table.stream_specification or {}
    return {
        "account": account_id, "region": region, "name": table.name, "schema": table.schema, "attr": table.attr,
        "billing_mode": table.billing_mode,
        "throughput": ({k: table.throughput[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")}
                       if table.billing_mode != "PAY_PER_REQUEST" else None),
        "global_indexes": [index(i, True) for i in table.global_indexes],
        "indexes": [index(i, False) for i in table.indexes],
        "streams": ({"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}
                    if spec.get("StreamEnabled") else None),
        "ttl": dict(table.ttl),
    }


def write_snapshot(path: Path, continued_by: str) -> int:
    """Write every table of this process's moto to `path` (atomically); returns the item count.

    Items are written in their stored form as they are (no unpacking or re-encoding), base64, with the
    dictionaries that form needs (localmode/item_text.py)."""
    from localmode import item_text, moto_patches

    count = 0
    tmp = path.with_suffix(".tmp")
    compress_plain()
    with moto_patches.store_lock, open_private(tmp, "w") as fh:
        moto_patches.settle()
        tables = list(_tables())
        used = {n for _, _, table in tables for item in _stored_items(table)
                if (n := item_text.dictionary_id(moto_patches.stored_form(item))) is not None}
        fh.write(json.dumps({"format": SNAPSHOT_FORMAT, "journal": continued_by,
                             "tables": [_table_definition(a, r, t) for a, r, t in tables],
                             "dictionaries": {str(n): base64.b64encode(item_text.dictionary(n)).decode()
                                              for n in sorted(used)}}) + "\n")
        for position, (_, _, table) in enumerate(tables):
            indexes = moto_patches.index_map(table)
            for item in _stored_items(table):
                range_key = json.dumps(item.range_key.to_json()) if item.range_key is not None else "null"
                index_values = indexes.index_values((item.hash_key, item.range_key)) if indexes else {}
                fh.write(f"[{position},{json.dumps(item.hash_key.to_json())},{range_key},"
                         f"{json.dumps(index_values, separators=(',', ':'))},"
                         f"\"{base64.b64encode(moto_patches.stored_form(item)).decode()}\"]\n")
                count += 1
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return count


def compress_plain() -> int:
    """Give every item still kept as plain text its compressed form (training a dictionary on them first
    if none is in use); returns how many. Items are plain after a format 1-3 snapshot, and for a new
    store's first writes (before the first dictionary was trained)."""
    from localmode import item_text, moto_patches

    with moto_patches.store_lock:
        moto_patches.settle()
        plain = [item for _, _, table in _tables() for item in _stored_items(table)
                 if item._balai_attrs is None and item_text.is_plain(item._balai_packed)]
        if not plain:
            return 0
        for item in plain[-20_000:]:
            item_text.learn(item._balai_packed)
        if not item_text.ensure_dictionary():
            return 0
        for item in plain:
            item._balai_packed = item_text.pack(item._balai_packed)
        return len(plain)


def _stored_items(table: Any) -> Iterator[Any]:
    """The table's items in storage order (moto's all_items() also sorts them: a snapshot need not)."""
    for partition in list(table.items.values()):
        if table.range_key_attr is None:
            yield partition
        else:
            yield from list(partition.values())


def load_snapshot(path: Path) -> tuple[str | None, int]:
    """Create the snapshot's tables in this process's moto and put its items back; (journal id, items).

    Each line is `[table position,hash key,range key,{index hash keys},"stored form, base64"]` (format 3:
    the attributes' JSON text in its place): only the keys are decoded (into moto's DynamoType, and into
    the index map); the stored form (or text) becomes the stored item as it is."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from localmode import item_text, moto_patches

    if not path.exists():
        return None, 0
    count = 0
    with path.open(encoding="utf-8") as fh, moto_patches.store_lock:
        header = json.loads(fh.readline())
        if header.get("format") not in SNAPSHOT_FORMATS:
            raise ValueError(f"{path} is not a {SNAPSHOT_FORMAT} file")
        tables = []
        for d in header["tables"]:
            backend = dynamodb_backends[d["account"]][d["region"]]
            table = backend.create_table(
                d["name"], schema=d["schema"], throughput=d["throughput"], attr=d["attr"],
                global_indexes=d["global_indexes"], indexes=d["indexes"], streams=d["streams"],
                billing_mode=d["billing_mode"], sse_specification=None, tags=[], deletion_protection_enabled=False,
                warm_throughput=None)
            table.ttl = d["ttl"]
            tables.append(table)
        keys_first = header["format"] != "balai-dynamodb-snapshot/1"
        with_indexes = header["format"] in (SNAPSHOT_FORMAT, "balai-dynamodb-snapshot/3")
        encoded = header["format"] == SNAPSHOT_FORMAT
        # The file's dictionary numbers -> this process's (a process may hold others already).
        ids = {int(n): item_text.register(base64.b64decode(d)) for n, d in header.get("dictionaries", {}).items()}
        if ids:
            item_text.use(ids[max(ids)])  # the newest: trained on the latest shapes
        b64decode = base64.b64decode
        indexes: list[Any] = [moto_patches.index_map(table, scan=False) if with_indexes else None for table in tables]
        # Items were validated when first written: no per-attribute checks, no DynamoType per value.
        raw_decode = json.JSONDecoder().raw_decode
        new_dynamo, new_item = DynamoType.__new__, Item.__new__

        kinds = {"S": "S", "N": "N", "B": "B"}  # one type string for all keys, not one per item

        def key_value(value: dict[str, Any]) -> Any:
            made = new_dynamo(DynamoType)
            (kind, made.value), = value.items()  # key attributes are S, N or B: no nesting
            made.type = kinds.get(kind, kind)
            return made

        last_table, last_hash, hash_key, partition = None, None, None, None
        for line in fh:
            comma = line.index(",")
            position = int(line[1:comma])
            table = tables[position]
            if keys_first:
                hash_value, end = raw_decode(line, comma + 1)
                range_value, end = raw_decode(line, end + 1)
                if with_indexes:
                    index_values, end = raw_decode(line, end + 1)
                raw = line[end + 1:line.rindex("]")]
            else:
                raw = line[comma + 1:line.rindex("]")]
                attrs = json.loads(raw)
                hash_value = attrs[table.hash_key_attr]
                range_value = attrs.get(table.range_key_attr) if table.range_key_attr else None
            if table is not last_table or hash_value != last_hash:
                # A partition's items are written together: they share one hash key object and one lookup.
                last_table, last_hash, hash_key = table, hash_value, key_value(hash_value)
                partition = table.items[hash_key] if table.range_key_attr else None
            item: Any = new_item(Item)
            item.hash_key = hash_key
            item.range_key = range_key = key_value(range_value) if range_value is not None else None
            item._balai_attrs = None
            item._balai_packed = item_text.renumbered(b64decode(raw[1:-1]), ids) if encoded else raw.encode()
            if partition is not None:
                partition[range_key] = item
            else:
                table.items[hash_key] = item
            if with_indexes and index_values:
                indexes[position].place_values((hash_key, range_key), item, index_values)
            count += 1
    if not encoded:
        compress_plain()  # a snapshot from before item_text: kept compressed from now on
    return header.get("journal"), count


def expired_items(now: float) -> list[tuple[str, str, dict[str, Any], str, dict[str, str]]]:
    """Items whose TTL has passed, as DynamoDB picks them: (region, table, key, TTL attribute, its value).

    Only tables with TTL enabled; only a Number attribute; not one more than five years in the past.
    Reads the stored items (no unpacking) under the store lock, SWEEP_CHUNK items at a time: at 135 000 items
    the whole look takes ~0.6 s, which DynamoDB calls would otherwise all wait for once a minute. An item
    changed or deleted between two chunks is harmless: the sweep's delete is conditional on the value found."""
    from localmode import moto_patches

    found = []
    with moto_patches.store_lock:
        moto_patches.settle()
        work = []
        for account_id, region, table in _tables():
            ttl = table.ttl or {}
            attr = ttl.get("AttributeName")
            if account_id != DEFAULT_ACCOUNT or ttl.get("TimeToLiveStatus") != "ENABLED" or not attr:
                continue
            work.append((region, table, attr, list(_stored_items(table))))
    for region, table, attr, items in work:
        for start in range(0, len(items), SWEEP_CHUNK):
            with moto_patches.store_lock:
                found.extend(_expired_in(region, table, attr, items[start:start + SWEEP_CHUNK], now))
    return found


def _expired_in(region: str, table: Any, attr: str, items: list[Any], now: float) -> list[Any]:
    """The expired items among `items` (call with the store lock held)."""
    from localmode import moto_patches

    found = []
    for item in items:
        value = moto_patches.attribute(item, attr)
        if not value or "N" not in value:
            continue
        try:
            expires = float(value["N"])
        except ValueError:
            continue
        if now - TTL_MAX_AGE_SECONDS <= expires < now:
            key = {table.hash_key_attr: item.hash_key.to_json()}
            if table.range_key_attr:
                key[table.range_key_attr] = item.range_key.to_json()
            found.append((region, table.name, key, attr, value))
    return found


def _stream_ends() -> dict[str, dict[str, str | None]]:
    ends: dict[str, dict[str, str | None]] = {}
    for _, _, table in _tables():
        shard = getattr(table, "stream_shard", None)
        if shard is not None:
            last = shard.starting_sequence_number + len(shard.items) - 1 if shard.items else None
            ends[table.name] = {shard.id: None if last is None else str(last)}
    return ends


class LocalDynamoDB:
    """Start/stop the server in a thread. `data_dir=None` keeps nothing (tests of other things)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, data_dir: Path | None = None,
                 ttl_sweep_seconds: float | None = TTL_SWEEP_SECONDS) -> None:
        self.host = host
        self.port = port
        self.journal = Journal(data_dir) if data_dir is not None else None
        self.ttl_sweep_seconds = ttl_sweep_seconds
        self._server: Any = None
        self._app: Any = None
        self._thread: threading.Thread | None = None
        self._sweeper: threading.Thread | None = None
        self._restorer: threading.Thread | None = None
        self._raw_app: Any = None
        self._stopping = threading.Event()
        self.has_snapshot = False
        self.restore_seconds = 0.0
        self.restore_error: BaseException | None = None
        # table name -> {shard id: sequence number of its last record, or None for an empty shard}, as the
        # restore left them: a stream reader starting there misses nothing written after the restore.
        self.stream_positions: dict[str, dict[str, str | None]] = {}
        self.replayed = 0
        self.restored_items = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def app(self) -> Any:
        """The WSGI app the server answers with (journaling writes when it has a data folder)."""
        return self._app

    def start(self, background: bool = False) -> LocalDynamoDB:
        """Serve; with a data folder, first restore it (in a thread with `background`: see wait_restored)."""
        from moto.server import DomainDispatcherApplication, create_backend_app

        from localmode import moto_patches

        moto_patches.apply()
        app: Any = _dispatcher(DomainDispatcherApplication)(create_backend_app)
        self._raw_app = app
        if self.journal is not None:
            private_dir(self.journal.directory)
            self.has_snapshot = self.journal.snapshot_path.exists()
            app = JournalMiddleware(app, self.journal)
            if background:
                # Restore in a thread that holds the journal and store locks from before the server answers
                # until the data is back: DynamoDB calls wait for it, other services (SQS) answer at once.
                gated = threading.Event()
                self._restorer = threading.Thread(target=self._restore, args=(gated,), name="local-dynamodb-restore",
                                                  daemon=True)
                self._restorer.start()
                gated.wait()
            else:
                self._restore(None)
        self._app = app
        self._server = _http_server(app, self.host, self.port)
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="local-dynamodb", daemon=True)
        self._thread.start()
        if self.ttl_sweep_seconds:
            self._sweeper = threading.Thread(target=self._sweep_forever, args=(self.ttl_sweep_seconds,),
                                             name="local-dynamodb-ttl", daemon=True)
            self._sweeper.start()
        return self

    def _restore(self, gated: threading.Event | None) -> None:
        """Load the snapshot, replay the journal, compact if needed; note where each stream then ends."""
        from localmode import moto_patches

        assert self.journal is not None
        try:
            with self.journal.lock, moto_patches.store_lock:
                if gated is not None:
                    gated.set()
                began = time.monotonic()
                continued_by, self.restored_items = load_snapshot(self.journal.snapshot_path)
                self.replayed = replay(self._raw_app, self.journal.entries_to_replay(continued_by, self.has_snapshot))
                if self.replayed or not self.has_snapshot or self.journal.journal_id() != continued_by:
                    self._compact_locked()
                for _, _, table in _tables():  # from an older snapshot: built now, not on the first Query
                    moto_patches.index_map(table)
                self.stream_positions = _stream_ends()
                self.restore_seconds = time.monotonic() - began
        except BaseException as exc:
            self.restore_error = exc
            raise
        finally:
            if gated is not None:
                gated.set()

    def wait_restored(self) -> LocalDynamoDB:
        """Wait for a background restore (start(background=True)); re-raises what made it fail."""
        if self._restorer is not None:
            self._restorer.join()
        if self.restore_error is not None:
            raise RuntimeError("restoring the local DynamoDB data failed") from self.restore_error
        return self

    def sweep_expired(self, now: float | None = None) -> int:
        """Delete the items whose TTL has passed, as DynamoDB's TTL process does; returns how many.

        Each is a DeleteItem through the server (so it is journaled and leaves a REMOVE stream record naming the
        DynamoDB service as `userIdentity`, as a TTL delete's record does), conditional on the TTL value it was found
        with: an item given a new expiry meanwhile stays."""
        from werkzeug.test import Client

        from localmode import moto_patches

        client = Client(self._app)
        deleted = 0
        for region, table, key, attr, value in expired_items(time.time() if now is None else now):
            headers = {"X-Amz-Target": "DynamoDB_20120810.DeleteItem", "Content-Type": "application/x-amz-json-1.0",
                       "Host": f"{self.host}:{self.port}",
                       "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/dynamodb/aws4_request, "
                                        "SignedHeaders=host;x-amz-target, Signature=0"}
            body = json.dumps({"TableName": table, "Key": key, "ConditionExpression": "#ttl = :expires",
                               "ExpressionAttributeNames": {"#ttl": attr},
                               "ExpressionAttributeValues": {":expires": value}})
            with moto_patches.ttl_deletes():
                status = client.post("/", data=body.encode(), headers=headers).status_code
            if status == 200:
                deleted += 1
        return deleted

    def _sweep_forever(self, every: float) -> None:
        while not self._stopping.wait(every):
            try:
                self.sweep_expired()
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again; the server keeps serving
                print(f"[balai] TTL sweep failed: {exc!r}", file=sys.stderr, flush=True)
            release_free_memory()

    def compact(self) -> int:
        """Snapshot the current state, then start an empty journal that continues it; returns the items."""
        assert self.journal is not None
        with self.journal.lock:
            return self._compact_locked()

    def _compact_locked(self) -> int:
        assert self.journal is not None
        journal_id = uuid.uuid4().hex
        count = write_snapshot(self.journal.snapshot_path, journal_id)
        self.journal.start_new(journal_id)
        return count

    def stop_serving(self) -> bool:
        """Stop answering, nothing more (what a crash leaves: no compaction, the journal as it is). False
        when it was not serving."""
        if self._server is None:
            return False
        _close_http_server(self._server, self._thread)
        self._server = None
        return True

    def stop(self, compact: bool = True) -> None:
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=30)
            self._sweeper = None
        if self.stop_serving():
            if self.journal is not None:
                if compact and self.journal.entries:
                    self.compact()
                self.journal.close()


# Worker threads for DynamoDB calls: the API's pool, the stream poller, the outbox sender's pool, the schedules
# and the issuing queue's long poll (which holds one thread for up to 20 s) all call at once.
HTTP_THREADS = 16


def _http_server(app: Any, host: str, port: int) -> Any:
    """waitress, not werkzeug's development server: werkzeug answers every call with `Connection: close`,
    so each DynamoDB call cost a new TCP connection and a new thread (thousands a minute under load: the
    connect alone was ~8 % of the server's CPU), and a stalled accept loop left clients in SYN retries.
    waitress keeps connections alive and runs calls on a fixed pool of threads."""
    import logging

    from waitress.server import create_server

    # "Serving on ..." and the queue-depth warning are for production servers; local mode prints its own.
    logging.getLogger("waitress").setLevel(logging.ERROR)
    return create_server(app, host=host, port=port, threads=HTTP_THREADS, ident="balai-local-dynamodb",
                         connection_limit=1_000, channel_timeout=300, clear_untrusted_proxy_headers=False)


def _close_http_server(server: Any, thread: threading.Thread | None) -> None:
    """Close every connection from inside waitress's loop (its trigger runs the call there), so the loop
    ends with nothing left in its map; then stop its worker threads."""
    from waitress import wasyncore

    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError:  # the trigger is already closed (its loop is ending): close what is left from here
        wasyncore.close_all(server._map)
    if thread is not None:
        thread.join(timeout=10)
    server.task_dispatcher.shutdown(timeout=5)


def _dispatcher(base: Any) -> Any:
    """moto's dispatcher finds the backend for every call by listing moto's package folder and matching
    ~250 URL patterns, under one lock; the answer depends on the host alone, so keep it."""

    class CachedDispatcher(base):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backends:
                self._backends[host] = super().get_backend_for_host(host)
            return self._backends[host]

    return CachedDispatcher


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim; elsewhere nothing).

    Every write frees an item's old stored form and the objects a call unpacked; glibc keeps those pages
    mapped, scattered between live items, so a long run's RSS grew with everything ever freed rather than
    with what is kept. malloc_trim returns whole free pages inside the heap too (madvise), not only at its top."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None
