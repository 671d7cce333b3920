"""Local mode's event sources: a DynamoDB stream poller and a scheduler that run the cloud's handlers' logic."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any]], Any]


def aws_client(service: str, endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="local", aws_secret_access_key="local")


class StreamPoller:
    """Reads the table's stream from the local server (moto answers the DynamoDB Streams API) and hands
    each batch to `handler` as a Lambda event {"Records": [...]}, the way the event source mapping would.

    Iterators start at LATEST when `start()` returns: what a journal replay wrote before is history and
    is not sent again; what the API writes afterwards is. Like the event source mapping, the poller keeps
    its place as a sequence number, not as an iterator: each poll asks for a new iterator after the last
    record it handed on, so nothing the server does to its iterator objects can leave it reading a stale
    shard. A failing batch is retried (as Lambda does), up to `max_retries`, then skipped with a log line:
    the outbox's retry schedule still finds its rows. If the table is recreated (a new stream label),
    the poller follows the new stream from its start.
    """

    def __init__(self, endpoint: str, table: str, region: str, handler: Handler, *, interval: float = 0.5,
                 batch_size: int = 100, max_retries: int = 3) -> None:
        self.endpoint, self.table, self.region = endpoint, table, region
        self.handler = handler
        self.interval = interval
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.batches = 0
        self.records = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._positions: dict[str, str] = {}  # shard id -> sequence number of the last record handed on
        self._iterators: dict[str, str | None] = {}  # shard id -> iterator, until a first record is seen
        self._stream_arn = ""
        self._stream_label = ""
        self._streams: Any = None

    def start(self, after: dict[str, str | None] | None = None) -> StreamPoller:
        """Start reading at LATEST or, for the shards in `after`, after the given sequence number (from the
        shard's start for None): where a restore left the stream, however long ago that was."""
        self._streams = aws_client("dynamodbstreams", self.endpoint, self.region)
        self._refresh_shards(initial="LATEST", after=after or {})
        self._thread = threading.Thread(target=self._run, name="balai-stream-poller", daemon=True)
        self._thread.start()
        return self

    def _refresh_shards(self, initial: str, after: dict[str, str | None] | None = None) -> None:
        table = aws_client("dynamodb", self.endpoint, self.region).describe_table(TableName=self.table)["Table"]
        if table["LatestStreamArn"] != self._stream_arn:  # first start, or the table was recreated
            self._stream_arn = table["LatestStreamArn"]
            self._stream_label = table.get("LatestStreamLabel", "")
            self._positions.clear()
            self._iterators.clear()
        shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._iterators or shard_id in self._positions:
                continue
            if after and after.get(shard_id) is not None:
                self._positions[shard_id] = str(after[shard_id])
                continue
            kind = "TRIM_HORIZON" if after and shard_id in after else initial
            self._iterators[shard_id] = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=kind)["ShardIterator"]

    def _iterator(self, shard_id: str) -> str | None:
        position = self._positions.get(shard_id)
        if position is None:
            return self._iterators.get(shard_id)
        return str(self._streams.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=position)["ShardIterator"])

    def poll_once(self) -> int:
        """One GetRecords per shard; returns the records handed to the handler."""
        handled = 0
        for shard_id in list(self._iterators.keys() | self._positions.keys()):
            iterator = self._iterator(shard_id)
            if iterator is None:
                continue
            if self._stream_label and f"/stream/{self._stream_label}|" not in iterator:
                raise StreamChangedError(self.table)
            response = self._streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = response.get("Records") or []
            if records:
                self._deliver({"Records": [_lambda_shape(r, self._stream_arn) for r in records]})
                handled += len(records)
                self._positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                self._iterators.pop(shard_id, None)
            elif shard_id not in self._positions:
                self._iterators[shard_id] = response.get("NextShardIterator")
        return handled

    def _deliver(self, event: dict[str, Any]) -> None:
        from chalicelib.observability import flush_metrics, logger

        for attempt in range(self.max_retries + 1):
            try:
                self.handler(event)
                self.batches += 1
                self.records += len(event["Records"])
                return
            except Exception:
                logger.exception("local stream batch failed", extra={"attempt": attempt + 1})
                if attempt < self.max_retries:
                    time.sleep(min(self.interval * 2 ** attempt, 5))
            finally:
                flush_metrics()  # as at the end of a Lambda invocation

    def _run(self) -> None:
        from chalicelib.observability import logger

        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(self.interval)
            except Exception as exc:  # the server restarting or the table being recreated: look again
                if not isinstance(exc, StreamChangedError):
                    logger.exception("local stream poll failed")
                    self._stop.wait(2)
                try:
                    self._refresh_shards(initial="TRIM_HORIZON")
                except Exception:  # noqa: BLE001 - logged on the next failure
                    pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class StreamChangedError(Exception):
    """The table behind the stream was recreated: its stream is a new one."""


def _lambda_shape(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: with eventSourceARN, times as epoch seconds."""
    shaped = dict(record)
    ddb = dict(shaped.get("dynamodb") or {})
    when = ddb.get("ApproximateCreationDateTime")
    if hasattr(when, "timestamp"):
        ddb["ApproximateCreationDateTime"] = when.timestamp()
    shaped["dynamodb"] = ddb
    shaped.setdefault("eventSourceARN", stream_arn)
    identity = shaped.get("userIdentity")
    if isinstance(identity, dict) and "PrincipalId" in identity:  # GetRecords' shape -> Lambda's
        shaped["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return shaped


@dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Any]
    next_at: float = 0.0


class Scheduler:
    """Runs the scheduled handlers' logic on their cloud rates (first run right after start)."""

    def __init__(self, jobs: list[Job], tick: float = 1.0) -> None:
        self.jobs = jobs
        self.tick = tick
        self.runs: dict[str, int] = {j.name: 0 for j in jobs}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        now = time.monotonic()
        for job in self.jobs:
            job.next_at = now
        self._thread = threading.Thread(target=self._run, name="balai-scheduler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from chalicelib.observability import flush_metrics, logger

        while not self._stop.is_set():
            for job in self.jobs:
                if time.monotonic() >= job.next_at and not self._stop.is_set():
                    try:
                        job.run()
                    except Exception:
                        logger.exception("local scheduled job failed", extra={"job": job.name})
                    finally:
                        flush_metrics()  # as at the end of a Lambda invocation
                    self.runs[job.name] += 1
                    job.next_at = time.monotonic() + job.every_seconds
            self._stop.wait(self.tick)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def cloud_jobs() -> list[Job]:
    """The jobs app.py schedules in the cloud, from their one declaration (chalicelib/workers/schedules.py)."""
    from chalicelib.workers.schedules import SCHEDULES

    return [Job(s.name, s.every_seconds, s.run) for s in SCHEDULES.values()]


# Local mode's message channels write files: sending in parallel (8 threads on Lambda, where providers take
# 50-150 ms) gains nothing here and kept up to 8 busy threads contending for this process's GIL with the
# API's DynamoDB calls. One thread: submit p50 145 -> 114 ms, CPU a request 335 -> 252 ms (A/B side by side,
# 400 requests each, bench/local_volume.py).
LOCAL_OUTBOX_WORKERS = 1


@dataclass
class LocalWorkers:
    poller: StreamPoller
    scheduler: Scheduler

    def stop(self) -> None:
        self.poller.stop()
        self.scheduler.stop()


def start_local_workers(endpoint: str, table: str, region: str,
                        after: dict[str, str | None] | None = None) -> LocalWorkers:
    """Start the stream poller (feeding app.py's on_table_stream logic) and the scheduler; the poller
    starts at `after` (StreamPoller.start) or LATEST."""
    from chalicelib.workers import outbox, retention

    # The transparency counters come with each request's or complaint's write (storage/stats.py), not from here.
    def on_table_stream(event: dict[str, Any]) -> None:
        outbox.handle_stream(event, max_workers=LOCAL_OUTBOX_WORKERS)
        retention.handle_stream(event)  # TTL removals: closed requests' attachments, unused uploads' files

    poller = StreamPoller(endpoint, table, region, on_table_stream).start(after)
    return LocalWorkers(poller=poller, scheduler=Scheduler(cloud_jobs()).start())
