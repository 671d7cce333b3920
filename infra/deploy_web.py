"""`make deploy-web`: upload web/ to the stack's web bucket with the right caching, write config.json
(the API base URL) beside it, remove what a previous deploy left, and invalidate CloudFront's cache.

Reads the infra stack's outputs (WebBucketName, WebDistributionId, WebApiBaseUrl, PublicBaseUrl) from CloudFormation, or
from a saved `aws cloudformation describe-stacks` answer. Runs on an operator's machine with their AWS
credentials (never in Lambda). `--dry-run` prints the plan and the config.json without touching AWS.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from outputs_to_config import stack_outputs  # noqa: E402

DEFAULT_STACK = "balai-prod-infra"  # as in docs/operations.md
REQUIRED_OUTPUTS = ("WebBucketName", "WebDistributionId", "PublicBaseUrl", "WebBaseUrl")
# A file name with a content hash in it (app.3f9a2c1b.js, chunk-DZ4X8Q2M.js) never changes content:
# browsers and CloudFront keep it a year. Everything else must show a new deploy quickly.
HASHED = re.compile(r"[.-][0-9A-Za-z_]{8,}\.(js|mjs|css|png|jpg|jpeg|svg|webp|woff2?|ico)$")
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=60, must-revalidate"
# The service worker and config.json are read on every start; a stale one would pin an old front end.
NO_CACHE = "no-cache"
NO_CACHE_FILES = ("sw.js", "config.json", "manifest.webmanifest")
TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript; charset=utf-8",
         ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
         ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2"}
SKIP = re.compile(r"(^|/)(\.|node_modules/|__pycache__/)|\.map$")


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path | None  # None: generated content (config.json)
    content_type: str
    cache_control: str
    body: bytes | None = None


def api_base(outputs: dict[str, str], rest: bool = False) -> str:
    """Where the web calls the API: the stack's WebApiBaseUrl (the API function's URL once the stack's
    ApiFunctionUrl parameter is set, else the REST API), or PublicBaseUrl (the REST API) when `rest` asks for
    the fallback. No trailing slash: the pages add paths that start with one."""
    key = "PublicBaseUrl" if rest or "WebApiBaseUrl" not in outputs else "WebApiBaseUrl"
    api = outputs[key].rstrip("/")
    if not api.startswith("https://"):
        raise ValueError(f"{key} must be https: {api!r}")
    return api


def web_config(outputs: dict[str, str], rest: bool = False) -> dict[str, str]:
    """The front end's /config.json: where the API is (see api_base)."""
    return {"apiBase": api_base(outputs, rest)}


def cache_control(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if name in NO_CACHE_FILES:
        return NO_CACHE
    if HASHED.search(name):
        return LONG_CACHE
    return SHORT_CACHE


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def plan(web_dir: Path, outputs: dict[str, str], rest: bool = False) -> list[Upload]:
    """Every file of web_dir (but dotfiles, source maps, a config.json of local mode), then config.json.

    Hashed assets go first and HTML last, so a page never names an asset that is not there yet."""
    if not (web_dir / "index.html").is_file():
        raise ValueError(f"{web_dir} has no index.html: build the front end first")
    uploads = []
    for path in sorted(p for p in web_dir.rglob("*") if p.is_file()):
        key = path.relative_to(web_dir).as_posix()
        if SKIP.search(key) or key == "config.json":
            continue
        uploads.append(Upload(key, path, content_type(key), cache_control(key)))
    order = {LONG_CACHE: 0, SHORT_CACHE: 1, NO_CACHE: 2}
    uploads.sort(key=lambda u: (order[u.cache_control], u.key.endswith(".html"), u.key))
    config = json.dumps(web_config(outputs, rest), indent=2).encode() + b"\n"
    uploads.append(Upload("config.json", None, "application/json", NO_CACHE, config))
    return uploads


def sync(s3: Any, cloudfront: Any, outputs: dict[str, str], uploads: list[Upload]) -> dict[str, Any]:
    """Upload every planned file, delete the bucket's other objects, invalidate the distribution."""
    bucket = outputs["WebBucketName"]
    for u in uploads:
        body = u.body if u.body is not None else u.path.read_bytes()  # type: ignore[union-attr]
        s3.put_object(Bucket=bucket, Key=u.key, Body=body, ContentType=u.content_type, CacheControl=u.cache_control)
    keep = {u.key for u in uploads}
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in keep]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]]})
    # One wildcard path counts as one invalidation (the first 1,000 a month are free).
    answer = cloudfront.create_invalidation(
        DistributionId=outputs["WebDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"balai-{time.time_ns()}"})
    return {"uploaded": len(uploads), "deleted": len(stale), "invalidation": answer["Invalidation"]["Id"]}


def load_outputs(args: argparse.Namespace) -> dict[str, str]:
    if args.outputs:
        raw = sys.stdin.read() if args.outputs == "-" else Path(args.outputs).read_text()
        outputs = stack_outputs(json.loads(raw), args.stack_name)
    else:
        import boto3

        name = args.stack_name or DEFAULT_STACK
        outputs = stack_outputs(boto3.client("cloudformation").describe_stacks(StackName=name), name)
    missing = [o for o in REQUIRED_OUTPUTS if o not in outputs]
    if missing:
        raise ValueError(f"stack outputs missing: {', '.join(missing)} (update the infra stack first)")
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-name", help="the infra stack (default balai-prod-infra; with --outputs: the only one)")
    parser.add_argument("--outputs", help="describe-stacks JSON file (or - for stdin) instead of asking AWS")
    parser.add_argument("--web-dir", type=Path, default=ROOT / "web")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and config.json, change nothing")
    parser.add_argument("--rest-api", action="store_true",
                        help="the fallback: the web calls the REST API (PublicBaseUrl), not the API function's URL")
    args = parser.parse_args(argv)
    try:
        outputs = load_outputs(args)
        uploads = plan(args.web_dir, outputs, args.rest_api)
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for u in uploads:
            print(f"{u.cache_control:38} {u.content_type:34} {u.key}")
        print(f"config.json: {uploads[-1].body.decode().strip()}")  # type: ignore[union-attr]
        print(f"site: {outputs['WebBaseUrl']}  (the API must allow this origin: BALAI_WEB_BASE_URL)")
        if "WebApiBaseUrl" in outputs and outputs["WebApiBaseUrl"] == outputs["PublicBaseUrl"] and not args.rest_api:
            print("note: the infra stack has no ApiFunctionUrl yet, so the web calls the REST API (1.7b)")
        return 0
    import boto3

    result = sync(boto3.client("s3"), boto3.client("cloudfront"), outputs, uploads)
    print(f"uploaded {result['uploaded']} files to s3://{outputs['WebBucketName']}, removed {result['deleted']}, "
          f"invalidation {result['invalidation']}; site: {outputs['WebBaseUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
