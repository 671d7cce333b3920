"""Local mode's DynamoDB store: memory per item and snapshot load/write speed, on a real snapshot.

Loads a local-mode snapshot (e.g. the one bench/local_volume.py leaves, or `.balai/dynamodb-snapshot.jsonl`)
into this process's patched moto, `--copies` times (each copy's keys made distinct) to reach a larger
volume, and prints: items loaded per second, the memory each item takes packed (as local mode keeps it)
and unpacked (moto's own form: a DynamoType per value), where it goes, and the snapshot write speed.

    .venv/bin/python bench/local_store.py /tmp/balai-volume-x/balai/dynamodb-snapshot.jsonl --copies 3
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def multiplied(snapshot: Path, copies: int, out: Path) -> int:
    """A snapshot with every item `copies` times (copy n's key values get a #n suffix); returns the items."""
    from localmode import item_text

    count = 0
    with snapshot.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        header = json.loads(src.readline())
        key_names = [[k["AttributeName"] for k in sorted(t["schema"], key=lambda k: k["KeyType"])]
                     for t in header["tables"]]  # HASH, RANGE
        ids = {int(n): item_text.register(base64.b64decode(d)) for n, d in header.pop("dictionaries", {}).items()}
        # Written as text, keys first (format 2): loading it trains a dictionary on these items and
        # compresses them, as for any snapshot from before localmode/item_text.py.
        dst.write(json.dumps({**header, "format": "balai-dynamodb-snapshot/2"}) + "\n")
        lines = src.readlines()
        for n in range(copies):
            for line in lines:
                parsed = json.loads(line)
                position, attrs = parsed[0], parsed[-1]
                if isinstance(attrs, str):  # format 4: the stored form, base64
                    attrs = json.loads(item_text.text(item_text.renumbered(base64.b64decode(attrs), ids)))
                names = key_names[position]
                for name in names:
                    kind, value = next(iter(attrs[name].items()))
                    if n and kind == "S":
                        attrs[name] = {"S": f"{value}#{n}"}
                hash_key = json.dumps(attrs[names[0]])
                range_key = json.dumps(attrs[names[1]]) if len(names) > 1 else "null"
                dst.write(f"[{position},{hash_key},{range_key},{json.dumps(attrs, separators=(',', ':'))}]\n")
                count += 1
    return count


def clear_tables() -> None:
    from moto.dynamodb.models import dynamodb_backends

    for account in list(dynamodb_backends.keys()):
        for region in list(dynamodb_backends[account].keys()):
            dynamodb_backends[account][region].tables.clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    from localmode import moto_patches
    from localmode.dynamodb_server import _tables, load_snapshot, write_snapshot

    moto_patches.apply()
    work = Path(tempfile.mkdtemp(prefix="balai-store-"))
    source = work / "in.jsonl"
    items = multiplied(args.snapshot, args.copies, source)
    print(f"{items} items ({args.copies} x {args.snapshot}), {source.stat().st_size / 1e6:.1f} MB snapshot")

    # Creating the tables loads botocore's service models (~9 MB, once): not part of any item's cost.
    empty = work / "tables.jsonl"
    empty.write_text(source.open(encoding="utf-8").readline(), encoding="utf-8")
    load_snapshot(empty)
    clear_tables()
    gc.collect()
    tracemalloc.start()
    began = time.perf_counter()
    _, loaded = load_snapshot(source)
    traced_load = time.perf_counter() - began
    gc.collect()
    packed_bytes = tracemalloc.get_traced_memory()[0]
    stored = [item for _, _, table in _tables() for item in table.all_items()]
    data = sum(len(moto_patches.packed_attributes(item)) for item in stored)
    kept = sum(len(moto_patches.stored_form(item)) for item in stored)
    print(f"packed (as local mode keeps them): {packed_bytes / loaded:,.0f} B per item "
          f"({packed_bytes / 1e6:.0f} MB), of which the attributes {kept / loaded:,.0f} B deflated "
          f"({data / loaded:,.0f} B of JSON text)")
    for stat in tracemalloc.take_snapshot().statistics("lineno")[:4]:
        print(f"    {stat.size / loaded:7,.0f} B/item  {stat.traceback[0].filename.rsplit('/', 2)[-1]}:"
              f"{stat.traceback[0].lineno}")
    for item in stored:  # moto's own form: what every item cost before
        item.attrs  # noqa: B018 - unpacks
    gc.collect()
    unpacked_bytes = tracemalloc.get_traced_memory()[0]
    print(f"unpacked (moto's form, as moto kept every item): {(unpacked_bytes - packed_bytes) / loaded:,.0f}"
          f" B per item ({(unpacked_bytes - packed_bytes) / 1e6:.0f} MB)")
    with moto_patches.store_lock:
        moto_patches.settle(reencode=False)
    tracemalloc.stop()
    del stored
    began = time.perf_counter()
    written = write_snapshot(work / "out.jsonl", "bench")
    write_s = time.perf_counter() - began

    clear_tables()
    gc.collect()
    began = time.perf_counter()
    _, loaded = load_snapshot(work / "out.jsonl")
    load_s = time.perf_counter() - began
    print(f"load: {loaded} items in {load_s:.2f} s = {loaded / load_s:,.0f} items/s "
          f"(under tracemalloc {traced_load:.1f} s); write: {written / write_s:,.0f} items/s")
    for path in (source, empty, work / "out.jsonl"):
        path.unlink()
    work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
