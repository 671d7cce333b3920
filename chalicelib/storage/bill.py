"""Repository of message bills: per region (a village; a kecamatan for login codes) and month, the messages
sent per channel, their billable units and cost, kept by an ADD written just before a sender records its outcome
(storage/outbox.finish; login codes, which have no outbox row, when the code is sent)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import GetError, UpdateError

from chalicelib.storage import keys
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import BillItem

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
FIGURES = ("count", "units", "cost_micros")


@dataclass(frozen=True)
class Usage:
    """What one write adds for one channel: messages, billable units (SMS parts), cost in micro-USD."""

    count: int
    units: int
    cost_micros: int


def _attr(channel: str, figure: str) -> NumberAttribute:
    if not _NAME.match(channel):
        raise ValueError(f"bad channel name {channel!r}")
    return NumberAttribute(attr_name=f"{channel}_{figure}")


def add_actions(usage: Mapping[str, Usage]) -> list[Any]:
    """The ADD actions for a bill item (one attribute per channel and figure, so a new channel needs no model
    change)."""
    actions: list[Any] = []
    for channel, u in sorted(usage.items()):
        actions += [_attr(channel, "count").add(u.count), _attr(channel, "units").add(u.units),
                    _attr(channel, "cost_micros").add(u.cost_micros)]
    return actions


def bill_item(region: str, month: str) -> BillItem:
    return BillItem(keys.bill_pk(region), keys.bill_sk(month))


def base_actions(region: str, month: str) -> list[Any]:
    return [BillItem.region.set(region), BillItem.month.set(month), BillItem.entity.set("bill")]


def record(region: str, month: str, usage: Mapping[str, Usage]) -> None:
    """One UpdateItem ADD (a plain write: a transaction would bill it twice)."""
    if not usage:
        return
    try:
        bill_item(region, month).update(actions=base_actions(region, month) + add_actions(usage))
    except UpdateError as exc:
        raise translate_errors(exc) from exc


def _figures(item: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for name, value in item.items():
        for figure in FIGURES:
            suffix = f"_{figure}"
            if name.endswith(suffix) and isinstance(value, dict) and "N" in value:
                channel = name[: -len(suffix)]
                if _NAME.match(channel):
                    result.setdefault(channel, {f: 0 for f in FIGURES})[figure] = int(value["N"])
    return result


def get(region: str, month: str) -> dict[str, dict[str, int]]:
    """{channel: {count, units, cost_micros}} of one region and month (GetItem, raw attributes)."""
    return get_many([region], month).get(region, {})


Figures = dict[str, dict[str, int]]


def get_many(regions: list[str], month: str) -> dict[str, Figures]:
    """The bills of many regions for one month: BatchGetItem on their known keys, 100 a call."""
    table = BillItem._get_connection()
    found: dict[str, Figures] = {}
    wanted = list(dict.fromkeys(regions))
    for start in range(0, len(wanted), 100):
        keys_ = [{"PK": keys.bill_pk(r), "SK": keys.bill_sk(month)} for r in wanted[start:start + 100]]
        while keys_:
            try:
                answer = table.batch_get_item(keys_, consistent_read=True)  # type: ignore[arg-type]
            except GetError as exc:
                raise translate_errors(exc) from exc
            for item in answer.get("Responses", {}).get(BillItem.Meta.table_name, []):
                region = str(item.get("region", {}).get("S", ""))
                found[region] = _figures(item)
            unprocessed = answer.get("UnprocessedKeys", {}).get(BillItem.Meta.table_name, {}).get("Keys", [])
            keys_ = [{"PK": k["PK"]["S"], "SK": k["SK"]["S"]} for k in unprocessed]
    return found
