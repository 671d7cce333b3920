"""Render N realistic letters in one process and print median/p95 ms per letter, PDF size and peak RSS."""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_sample import sample_document

TARGET_MEDIAN_MS = 25.0
TARGET_RSS_MB = 120.0

NAMES = [
    "Andi Baso Tenri",
    "Sitti Nurhaeda",
    "Muhammad Arfah",
    "Hj. Andi Besse Tenriawaru",
    "Rahmatia Daeng Ngai",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from chalicelib.adapters.pdf import render_letter
    from chalicelib.adapters.signing import generate_keyring, sign_letter
    from chalicelib.domain.letters import signed_facts

    base = sample_document()
    keyring = generate_keyring()
    first = render_letter(
        base
    )  # pays fpdf2/segno/Pillow imports once, like a warm Lambda would have
    cold_ms = (time.perf_counter() - t0) * 1000

    times: list[float] = []
    cpu_times: list[float] = []
    sizes: list[int] = []
    for i in range(args.n):
        name = NAMES[i % len(NAMES)]
        start = time.perf_counter()
        cpu_start = time.process_time()
        # Each letter gets its own number, applicant and signed token, as issuing does.
        number = f"470/{i + 1:03}/DS-2001/XI/2026"
        facts = signed_facts(
            letter_id=f"01JD8Z3Q5X7N2K4P9R1T6V{i:04}",
            number=number,
            letter_type="SKD",
            village_code="73.07.09.2001",
            issued_date=base.issued_date,
            signer_name=base.signer_name,
            applicant_name=name,
        )
        token = sign_letter(keyring, facts)
        doc = replace(
            base,
            number=number,
            applicant_rows=[
                (label, name if label == "Nama" else value)
                for label, value in base.applicant_rows
            ],
            verify_url=f"http://127.0.0.1:8000/v1/letters/verify/{token}",
        )
        pdf = render_letter(doc)
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
        sizes.append(len(pdf))

    times.sort()
    median = statistics.median(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    peak_mb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )  # Linux reports KiB
    print(f"letters rendered      : {args.n} (+1 warm-up, {len(first)} bytes)")
    print(f"first letter incl. imports: {cold_ms:.0f} ms")
    print(f"median ms/letter      : {median:.1f} (target <= {TARGET_MEDIAN_MS:.0f})")
    print(f"p95 ms/letter         : {p95:.1f}")
    # CPU time is what a Lambda pays; on a shared, loaded machine it is far steadier than wall time.
    print(f"median CPU ms/letter  : {statistics.median(cpu_times):.1f}")
    print(f"max ms/letter         : {times[-1]:.1f}")
    print(
        f"PDF size              : median {statistics.median(sizes) / 1024:.1f} KiB, max {max(sizes) / 1024:.1f} KiB"
    )
    print(f"peak RSS              : {peak_mb:.0f} MB (target <= {TARGET_RSS_MB:.0f})")
    ok = median <= TARGET_MEDIAN_MS and peak_mb <= TARGET_RSS_MB
    print("result                : " + ("OK" if ok else "OVER TARGET"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
