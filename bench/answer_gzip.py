"""Gzip of the API's answers: bytes saved and CPU spent per answer, by compression level and size threshold.

Usage: python bench/answer_gzip.py [--sample-letters 5] [--repeat 30]

Runs the cost sample (bench/cost_sim.py: the real routes through the function URL adapter, in-process moto) and
takes every answer it counted, uncompressed; then, for the text ones, compresses each with the standard library's
gzip at levels 1, 6 and 9 and times it (CPU time of this process, best of five rounds of `--repeat` passes), and
prints for each level and for thresholds from 0 to 2 KB: the answers compressed, the bytes on the wire before and
after (with the ~24 bytes of `Content-Encoding: gzip` a compressed answer adds), and the CPU per answer, also as
the API function's billed time (memory 1,024 MB: 1024/1769 of a vCPU, so 1.73x this machine's core) and its price
against the data transfer it saves. chalicelib/api/compression.py's MIN_BYTES and LEVEL come from this.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

LEVELS = (1, 6, 9)
THRESHOLDS = (0, 256, 512, 1024, 2048)
ENCODING_HEADER = len(b"Content-Encoding: gzip\r\n")


def cpu_us(groups: dict[tuple[int, int], list[bytes]], repeat: int) -> dict[tuple[int, int], float]:
    """Mean CPU microseconds to gzip one body of each (level, threshold) group, best of five rounds; the groups take
    turns within each round, so a busy moment of the machine does not fall on one level only."""
    best = {key: float("inf") for key in groups}
    for _ in range(5):
        for (level, threshold), bodies in groups.items():
            if not bodies:
                best[(level, threshold)] = 0.0
                continue
            started = time.process_time_ns()
            for _ in range(repeat):
                for body in bodies:
                    gzip.compress(body, compresslevel=level, mtime=0)
            spent = (time.process_time_ns() - started) / 1000 / repeat / len(bodies)
            best[(level, threshold)] = min(best[(level, threshold)], spent)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sample-letters", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    import cost
    import cost_sim

    from chalicelib.api.compression import is_text

    result = cost_sim.run_sample(args.sample_letters, 1, dict(cost.SHARES))
    prices = json.loads((HERE / "prices.json").read_text())["prices"]
    gb_s = float(prices["lambda_gb_second_arm64"]["usd"])
    transfer = float(prices["data_transfer_out_gb"]["usd"])
    stretch = cost.ASSUMPTIONS["vcpu_mb"][0] / 1024
    bodies = [body for _, ctype, body in result.answer_bodies if body and is_text(ctype)]
    sizes = sorted(len(b) for b in bodies)
    print(f"{len(result.answer_bodies)} answers counted in a {args.sample_letters}-letter sample, {len(bodies)} text "
          f"with a body; body sizes: median {sizes[len(sizes) // 2]:,} B, 90th percentile "
          f"{sizes[int(len(sizes) * 0.9)]:,} B, largest {sizes[-1]:,} B; "
          f"{sum(1 for s in sizes if s >= 1024)} of {len(sizes)} at least 1 KB")
    print(f"{'level':>5} {'threshold':>9} {'compressed':>10} {'bytes before':>12} {'after':>9} {'saved':>6} "
          f"{'CPU us/answer':>13} {'Lambda ms/answer':>16}  per million answers: USD CPU : USD transfer saved")
    groups = {(level, threshold): [b for b in bodies if len(b) >= threshold]
              for level in LEVELS for threshold in THRESHOLDS}
    times = cpu_us(groups, args.repeat)
    for level in LEVELS:
        for threshold in THRESHOLDS:
            chosen = groups[(level, threshold)]
            before = sum(len(b) for b in bodies)
            after = before
            for body in chosen:
                packed = len(gzip.compress(body, compresslevel=level, mtime=0)) + ENCODING_HEADER
                after += min(0, packed - len(body))
            us = times[(level, threshold)]
            # per answer of this mix (the small ones cost nothing): CPU on Lambda (stretched); per million: USD
            cpu_ms = us * len(chosen) / len(bodies) * stretch / 1000
            usd_cpu = cpu_ms / 1000 * 1e6 * gb_s  # 1 GB of memory: GB-s = seconds
            usd_saved = (before - after) / len(bodies) * 1e6 / 1024 ** 3 * transfer
            print(f"{level:>5} {threshold:>9,} {len(chosen):>10} {before:>12,} {after:>9,} "
                  f"{1 - after / before:>6.0%} {us:>13.1f} {cpu_ms:>16.3f}  {usd_cpu:.4f} : {usd_saved:.4f}")
    band = [b for b in bodies if 512 <= len(b) < 1024]
    if band:
        saved = [len(b) - len(gzip.compress(b, compresslevel=6, mtime=0)) - ENCODING_HEADER for b in band]
        print(f"answers of 512-1023 B: {len(band)}, level 6 saves {sum(saved) / len(saved):,.0f} B each on average "
              f"(smallest saving {min(saved)} B)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
