"""Does a local mode that holds a village's volume answer as fast as a new one? Measured side by side.

bench/local_volume.py reports submit latency per thousand requests over an hour; on a shared machine the
load around it changes in that hour, so its first and last thousand are not measured under the same
conditions. This bench takes the data a long run left (its `--data-dir`), copies it, and starts two local
modes at once: one on that copy, one new (demo data only). It then submits the same SKD request to each in
turn, N times, so both see the same machine at the same moments, and prints each one's p50/p99 and their
ratio: a ratio near 1 means the held volume costs a submit nothing.

    .venv/bin/python bench/local_trend.py /tmp/r10k/balai --rounds 300
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_volume import SKD, VILLAGE, Actors, Local, percentile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="a local mode's data folder (left by bench/local_volume.py)")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--port", type=int, default=8430, help="the copy's API port; the new one uses +10")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="balai-trend-"))
    held_dir = work / "held" / "balai"
    shutil.copytree(args.data_dir, held_dir, ignore=shutil.ignore_patterns("*.tmp"))
    held = Local(held_dir, args.port, args.port + 1, args.port + 2)
    new = Local(work / "new" / "balai", args.port + 10, args.port + 11, args.port + 12)
    new.data_dir.parent.mkdir(parents=True)
    try:
        for name, local in (("held", held), ("new", new)):
            began = time.monotonic()
            local.start()
            print(f"{name}: up in {time.monotonic() - began:.1f} s ({local.data_dir})", flush=True)
        actors = {id(local): Actors(local, 5) for local in (held, new)}
        for each in actors.values():
            each.refresh()
        timings: dict[str, list[float]] = {"held": [], "new": []}
        for n in range(args.rounds):
            for name, local in (("held", held), ("new", new)) if n % 2 == 0 else (("new", new), ("held", held)):
                who = actors[id(local)]
                nik = who.niks[n % len(who.niks)]
                began = time.perf_counter()
                status, answer = local.call("POST", f"/v1/villages/{VILLAGE}/requests",
                                            {**SKD, "attachments": who.uploads[nik]}, who.tokens[nik])
                timings[name].append((time.perf_counter() - began) * 1000)
                assert status == 201, answer
        p50 = {name: statistics.median(values) for name, values in timings.items()}
        p99 = {name: percentile(values, 0.99) for name, values in timings.items()}
        for name in ("held", "new"):
            print(f"{name:>4}: {len(timings[name])} submits, p50 {p50[name]:.1f} ms, p99 {p99[name]:.1f} ms, "
                  f"RSS {sum((held if name == 'held' else new).rss_each()):.0f} MB", flush=True)
        print(f"held / new: p50 x{p50['held'] / p50['new']:.2f}, p99 x{p99['held'] / p99['new']:.2f}", flush=True)
    finally:
        for local in (held, new):
            if local.proc is not None:
                local.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
