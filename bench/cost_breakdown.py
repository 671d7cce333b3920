"""Where a letter's DynamoDB write units go: by item kind, table or index copy, and by route or handler.

Usage:
    python bench/cost_breakdown.py [--sample-letters N] [--sample-villages N] [--json]

Drives the same sample as bench/cost.py (bench/cost_sim.py: the real code on in-process moto) and prints, per
issued letter, the write request units (WRU) of each kind of item (its `entity`, else its key's prefix),
split into the item's own write ("table", "table tx" when in a transaction, which bills twice) and each
global secondary index copy ("GSI1".."GSI4"); then the DynamoDB calls per letter by operation, and the WRU of
each route or handler by item kind. Verifications, dashboard views, staff logins and the schedules are
left out, as bench/cost.py prices them separately. Last, the bytes a letter leaves in the table by item kind
(the item and each index copy by its projection, 100 B overhead each; kept for good, or expiring after the
days its TTL gives) and the bytes of its stored PDF.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOT_PER_LETTER = ("GET /v1/letters/verify", "GET /v1/regions/", "POST /v1/auth/login", "OPTIONS /v1/auth/login",
                  "outbox_retry", "sla_escalation", "daily_digest", "complaint: ")


def breakdown(tallies: dict[str, Any], letters: int) -> dict[str, Any]:
    """Per-letter figures from cost_sim tallies: WRU by kind and part, calls by operation, WRU by bucket."""
    parts: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    by_bucket: dict[str, Counter[str]] = {}
    for name, tally in tallies.items():
        if name.startswith(NOT_PER_LETTER) or name in ("s3", "browser"):
            continue
        for part, wru in tally.wru_parts.items():
            parts[part] += wru / letters
            by_bucket.setdefault(name, Counter())[part.split(" ", 1)[0]] += wru / letters
        for op, n in tally.ddb_calls.items():
            if not op.startswith("S3 "):
                calls[op] += n / letters
    return {"wru_parts": dict(parts), "calls": dict(calls), "by_bucket": {k: dict(v) for k, v in by_bucket.items()}}


def render(figures: dict[str, Any]) -> str:
    parts: dict[str, float] = figures["wru_parts"]
    total = sum(parts.values())
    kinds: Counter[str] = Counter()
    for part, wru in parts.items():
        kinds[part.split(" ", 1)[0]] += wru
    where: Counter[str] = Counter()
    for part, wru in parts.items():
        where[part.split(" ", 1)[1]] += wru
    out = [f"WRU per issued letter: {total:.1f} (stream-record based, as bench/cost.py counts them)", "",
           f"{'item kind':<34} {'WRU':>7} {'share':>6}  table / index copies"]
    for kind, wru in kinds.most_common():
        detail = ", ".join(f"{p.split(' ', 1)[1]} {v:.1f}" for p, v in sorted(parts.items(), key=lambda kv: -kv[1])
                           if p.split(" ", 1)[0] == kind)
        out.append(f"{kind:<34} {wru:>7.1f} {100 * wru / total:>5.1f}%  {detail}")
    out += ["", "by destination: " + ", ".join(f"{k} {v:.1f}" for k, v in where.most_common()), "",
            "DynamoDB calls per letter: " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                      sorted(figures["calls"].items(), key=lambda kv: -kv[1])),
            f"  total {sum(figures['calls'].values()):.1f}", "", "WRU per letter by route / handler and item kind:"]
    for name, counter in sorted(figures["by_bucket"].items(), key=lambda kv: -sum(kv[1].values())):
        out.append(f"  {name[:48]:<48} {sum(counter.values()):>6.1f}  "
                   + ", ".join(f"{k} {v:.1f}" for k, v in Counter(counter).most_common()))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sample-letters", type=int, default=20)
    parser.add_argument("--sample-villages", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import cost
    import cost_sim

    result = cost_sim.run_sample(args.sample_letters, args.sample_villages, cost.SHARES)
    figures = breakdown(result.tallies, result.letters)
    counted = cost.counted_from_sample(result)
    if args.json:
        print(json.dumps({**figures, "storage": counted.storage, "pdf_bytes": counted.pdf_bytes}, indent=1))
    else:
        print(render(figures))
        print()
        print("\n".join(cost.render_storage(counted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
