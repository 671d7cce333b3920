#!/usr/bin/env bash
# Lint the infra template and the packaged Chalice app; print the deployment package sizes.
# Needs no AWS credentials: `chalice package` only needs a region. Exits non-zero on any lint error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The project's venv when there is one, else whatever is on PATH (CI installs into its own).
if [[ -x "$ROOT/.venv/bin/cfn-lint" ]]; then PATH="$ROOT/.venv/bin:$PATH"; fi
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-ap-southeast-3}"
STAGE="${STAGE:-prod}"
OUT="${OUT:-build/package}"

echo "== cfn-lint infra/balai.yaml"
cfn-lint infra/balai.yaml
echo "ok"

if [[ ! -f app.py || ! -f .chalice/config.json ]]; then
  echo "== app.py or .chalice/config.json missing: skipping chalice package"
  exit 0
fi

# What Chalice's config cannot express (API Gateway throttling, the API function's URL) is merged into the SAM output.
MERGE="infra/chalice-$STAGE-merge.json"
merge_args=()
if [[ -f "$MERGE" ]]; then merge_args=(--merge-template "$MERGE"); fi
# The prod stage names a written IAM policy (autogen_policy false); packaging fails without it.
POLICY=".chalice/$(python3 -c "import json,sys; print(json.load(open('.chalice/config.json'))['stages'].get(sys.argv[1], {}).get('iam_policy_file', ''))" "$STAGE")"
if [[ "$POLICY" != ".chalice/" && ! -f "$POLICY" ]]; then
  echo "$POLICY missing: render it with python infra/outputs_to_config.py (see docs/operations.md)" >&2
  exit 1
fi

echo "== chalice package --pkg-format cloudformation --stage $STAGE ${merge_args[*]} $OUT"
rm -rf "$OUT"
# Dummy credentials keep botocore from looking for real ones; packaging makes no AWS calls.
# Chalice only warns when a dependency has no wheel for the Lambda runtime and leaves it out of the layer;
# a layer without it would fail at the first import in the cloud, so that warning fails the check.
pkg_log="$(mktemp)"
AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-packaging}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-packaging}" \
  chalice package --pkg-format cloudformation --stage "$STAGE" "${merge_args[@]}" "$OUT" 2>&1 | tee "$pkg_log"
if grep -q "Could not install dependencies" "$pkg_log"; then
  echo "chalice package left dependencies out of the layer (no wheel for the Lambda runtime): pin versions that have one" >&2
  exit 1
fi

echo "== cfn-lint $OUT/sam.json"
# No check is ignored: Chalice's SAM output lints clean with cfn-lint 1.58 (STACK-NOTES). If a future
# Chalice needs an exception, add `--ignore-checks CODE` here with the reason beside it.
cfn-lint "$OUT/sam.json"
echo "ok"

echo "== deployment packages (zipped)"
shopt -s nullglob
zips=("$OUT"/*.zip)
if (( ${#zips[@]} == 0 )); then
  echo "no zip in $OUT" >&2
  exit 1
fi
for zip in "${zips[@]}"; do
  bytes=$(stat -c %s "$zip")
  unzipped=$(python3 -c "import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))" "$zip")
  awk -v f="$zip" -v b="$bytes" -v u="$unzipped" \
    'BEGIN { printf "%-40s %8.2f MB zipped, %6.1f MB unzipped (Lambda limit 250 MB for function + layers)\n", f, b / 1048576, u / 1048576 }'
done
