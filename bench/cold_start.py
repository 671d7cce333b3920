"""Cold start: a fresh `python -c "import app"` against the floor of a bare Chalice app importing the
same libraries (chalice, pynamodb, powertools Logger). Median of several alternating runs, as a ratio.

Run by hand: `.venv/bin/python bench/cold_start.py [--runs 9] [--prod]`. Target: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = """
from chalice import Chalice
from pynamodb.models import Model
from aws_lambda_powertools import Logger
app = Chalice(app_name="floor")
logger = Logger(service="floor")
"""


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--prod", action="store_true", help="environment as the prod stage sets it")
    args = parser.parse_args()
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-3", "POWERTOOLS_SERVICE_NAME": "balai",
           "BALAI_STAGE": "prod" if args.prod else "local", "BALAI_TABLE": "balai-bench",
           "PYTHONDONTWRITEBYTECODE": "0"}
    if args.prod:
        env.update({"BALAI_SMS_CHANNEL": "sns", "BALAI_EMAIL_CHANNEL": "ses", "POWERTOOLS_TRACE_DISABLED": "false",
                    "BALAI_SECRETS_ARN": "arn:aws:secretsmanager:ap-southeast-3:000000000000:secret:balai"})
    with tempfile.TemporaryDirectory() as tmp:
        floor_dir = Path(tmp)
        (floor_dir / "floor_app.py").write_text(FLOOR)
        app_cmd = [sys.executable, "-c", "import app"]
        floor_cmd = [sys.executable, "-c", "import floor_app"]
        # Warm the file-system cache and bytecode once, as a deployed package would be.
        timed(app_cmd, ROOT, env)
        timed(floor_cmd, floor_dir, env)
        app_ms, floor_ms = [], []
        for _ in range(args.runs):
            app_ms.append(timed(app_cmd, ROOT, env))
            floor_ms.append(timed(floor_cmd, floor_dir, env))
    a, f = statistics.median(app_ms), statistics.median(floor_ms)
    print(f"stage: {'prod' if args.prod else 'local'}, runs: {args.runs} (alternating)")
    print(f"import app          median {a:7.1f} ms  (min {min(app_ms):.1f}, max {max(app_ms):.1f})")
    print(f"floor (bare Chalice) median {f:7.1f} ms  (min {min(floor_ms):.1f}, max {max(floor_ms):.1f})")
    print(f"ratio app/floor: {a / f:.2f}  (target <= 1.30)")
    heavy = subprocess.run([sys.executable, "-c", "import sys, app; print(sorted(m for m in ('fpdf', 'segno', "
                            "'cryptography', 'pydantic', 'jwt', 'holidays', 'phonenumbers', 'boto3', "
                            "'aws_xray_sdk') if m in sys.modules))"], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    print(f"heavy modules imported by `import app`: {heavy}")


if __name__ == "__main__":
    main()
