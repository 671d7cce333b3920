"""Command line for operators: `python -m chalicelib.ops <command> ...`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.regions import validate_code


def _create_table(_: argparse.Namespace) -> int:
    from chalicelib.storage.table import create_table

    create_table()
    print("table ready")
    return 0


def _import_regions(args: argparse.Namespace) -> int:
    from chalicelib.domain.clock import iso, utcnow
    from chalicelib.ops.region_data import ATTRIBUTION, kabupaten_regions
    from chalicelib.storage import regions

    items = kabupaten_regions(args.kabupaten)
    written = regions.put_many(items, overwrite=args.overwrite)
    # The scheduled work (SLA sweep, outbox retries, digests) walks the kabupaten registered here.
    regions.register_kabupaten(args.kabupaten, iso(utcnow()))
    print(f"{len(items)} regions read, {written} written ({ATTRIBUTION})")
    return 0


def _activate(args: argparse.Namespace) -> int:
    from chalicelib.storage import regions

    targets = [args.code]
    parent = regions.get(args.code)
    if parent is None:
        print(f"unknown region {args.code}", file=sys.stderr)
        return 2
    if parent.level == "kecamatan":
        targets += [c.code for c in regions.children(args.code)]
    for code in targets:
        regions.set_active(code, not args.off)
    print(f"{len(targets)} regions {'deactivated' if args.off else 'activated'}")
    return 0


def _whatsapp_message(args: argparse.Namespace) -> int:
    """POST a Cloud API `messages` delivery with one text message to the running local mode's webhook, signed with
    the local app secret (X-Hub-Signature-256): what Meta does when a citizen sends the portal's prefilled
    message. Only with --local: in the cloud the messages come from Meta."""
    import urllib.error
    import urllib.request

    from chalicelib.config import get_secrets, get_settings
    from chalicelib.domain.phones import normalize_phone
    from chalicelib.domain.whatsapp_login import sign

    api = getattr(args, "api", None)
    if not api:
        print("whatsapp-message needs --local (a running `make run`)", file=sys.stderr)
        return 2
    numbers = get_settings().whatsapp_number_map
    to = args.to or next(iter(numbers.values()), None)
    secret = get_secrets().whatsapp_app_secret
    if not to or not secret:
        print("WhatsApp login is off in this local mode (BALAI_WHATSAPP_NUMBERS unset)", file=sys.stderr)
        return 2
    sender = normalize_phone(args.sender).lstrip("+")
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "local", "changes": [{"field": "messages",
               "value": {"messaging_product": "whatsapp",
                         "metadata": {"display_phone_number": to.lstrip("+"), "phone_number_id": "local"},
                         "contacts": [{"profile": {"name": "Warga"}, "wa_id": sender}],
                         "messages": [{"from": sender, "id": f"wamid.local.{int(utcnow().timestamp() * 1000)}",
                                       "timestamp": str(int(utcnow().timestamp())), "type": "text",
                                       "text": {"body": args.text}}]}}]}]}
    raw = json.dumps(payload).encode()
    request = urllib.request.Request(f"{api}/v1/webhooks/whatsapp", data=raw, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, raw)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as exc:
        print(f"{exc.code}: {exc.read().decode()}", file=sys.stderr)
        return 1
    return 0


def _create_staff(args: argparse.Namespace) -> int:
    """Create an account after the same checks as the API: the region exists, the role suits its level
    (admin/opd: kabupaten, camat: kecamatan, operator/kades: desa/kelurahan), name, jabatan, NIP, password."""
    from chalicelib.errors import AppError
    from chalicelib.services.staff import new_account
    from chalicelib.storage import people

    password = args.password or getpass.getpass("Password: ")
    try:
        staff = new_account(args.username, password, args.role, args.region, args.name,
                            args.position or _default_position(args.role), args.nip, phone=args.phone,
                            email=args.email)
    except AppError as exc:
        print(f"refused ({exc.code}): {exc.message}", file=sys.stderr)
        return 2
    if not people.create_staff(staff, iso(utcnow())):
        print(f"username {args.username} exists", file=sys.stderr)
        return 1
    print(f"created {args.role} {staff.username} for {args.region}")
    return 0


def _default_position(role: str) -> str:
    return {"admin": "Admin Kabupaten", "opd": "Staf OPD", "camat": "Camat", "operator": "Operator Desa",
            "kades": "Kepala Desa"}.get(role, role)


def _seed_demo(_: argparse.Namespace) -> int:
    from chalicelib.ops.demo import seed_demo

    print(json.dumps(seed_demo()))
    return 0


def _vapid_keys(_: argparse.Namespace) -> int:
    from chalicelib.ops.vapid_keys import init_vapid_keys

    created, where, public = init_vapid_keys()
    print(f"{'created' if created else 'kept the existing'} VAPID key pair in {where}; public key {public}")
    return 0


def _init_letter_keys(_: argparse.Namespace) -> int:
    from chalicelib.ops.letter_keys import init_keys, store_for

    store = store_for()
    created, kid = init_keys(store)
    print(f"{'created' if created else 'kept the existing'} letter keyring in {store.where} (active key {kid})")
    return 0


def _rotate_letter_keys(_: argparse.Namespace) -> int:
    from chalicelib.ops.letter_keys import rotate_keys, store_for

    store = store_for()
    try:
        old, new, kids = rotate_keys(store)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"active key {old} -> {new} in {store.where}; letters signed by {', '.join(kids)} keep verifying "
          "(the functions see the new key within 5 minutes)")
    return 0


def _export_village(args: argparse.Namespace) -> int:
    from chalicelib.config import get_settings
    from chalicelib.ops.backup import backup_target, export_village, write_backup

    validate_code(args.village)
    settings = get_settings()
    destination = args.destination or (f"s3://{settings.letters_bucket}/backups" if settings.letters_bucket
                                       else str(settings.data_dir / "backups"))
    target = backup_target(destination, args.village)
    try:
        lines = export_village(args.village, table=args.table)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    write_backup(target, lines)
    print(f"{len(lines) - 1} items of {args.village} written to {target}")
    return 0


def _restore_village(args: argparse.Namespace) -> int:
    from chalicelib.ops.backup import parse_backup, read_backup, restore_items

    try:
        header, items = parse_backup(read_backup(args.source))
    except ValueError as exc:
        print(f"{args.source}: {exc}", file=sys.stderr)
        return 2
    if args.village and args.village != header["village"]:
        print(f"{args.source} holds {header['village']}, not {args.village}", file=sys.stderr)
        return 2
    written = restore_items(items, table=args.table)
    print(f"{written} items of {header['village']} (exported {header['exported_at']}) restored")
    return 0


def _recompute_stats(args: argparse.Namespace) -> int:
    from chalicelib.ops.stats import recompute

    if args.kabupaten:
        validate_code(args.kabupaten)
    for kab, (written, deleted) in recompute(args.kabupaten).items():
        print(f"{kab}: {written} aggregate items written, {deleted} stale ones deleted")
    return 0


def _expire_outbox(args: argparse.Namespace) -> int:
    from chalicelib.ops.outbox_retention import expire_finished
    from chalicelib.services.regions import served_kabupaten

    if args.kabupaten:
        validate_code(args.kabupaten)
    for kab in [args.kabupaten] if args.kabupaten else served_kabupaten():
        done = expire_finished(kab)
        print(f"{kab}: TTL set on {done['sent']} sent and {done['failed']} failed outbox rows")
    return 0


def _stream_filter(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import ClientError

    from chalicelib.config import get_settings
    from chalicelib.ops.stream_filter import apply, function_name

    settings = get_settings()
    stage = args.stage or settings.stage
    try:
        uuids = apply(boto3.client("lambda", region_name=settings.aws_region), function_name(stage),
                      settings.table_stream_arn)
    except ClientError as exc:
        print(f"{function_name(stage)}: {exc}", file=sys.stderr)
        return 1
    except LookupError as exc:
        print(f"{exc}: deploy the app first (chalice deploy --stage {stage})", file=sys.stderr)
        return 1
    print(f"stream filter set on {', '.join(uuids)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ops", description=__doc__)
    parser.add_argument("--local", action="store_true",
                        help="act on the running `make run` (found through .balai/local-mode.json)")
    parser.add_argument("--data-dir", type=Path, help="with --local: local mode's data folder (default .balai)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-table", help="create the table (local or a test account)").set_defaults(fn=_create_table)
    p = sub.add_parser("import-regions", help="import a kabupaten from data/idn-area-data")
    p.add_argument("kabupaten", help="kabupaten/kota code, e.g. 73.07")
    p.add_argument("--overwrite", action="store_true", help="replace existing regions and their settings")
    p.set_defaults(fn=_import_regions)
    p = sub.add_parser("activate", help="activate a village, or a kecamatan and all its villages")
    p.add_argument("code")
    p.add_argument("--off", action="store_true", help="deactivate instead")
    p.set_defaults(fn=_activate)
    for name, role_default in (("create-admin", "admin"), ("create-staff", None)):
        p = sub.add_parser(name, help=f"create a {'kabupaten admin' if role_default else 'staff'} account")
        p.add_argument("username")
        p.add_argument("--region", required=True)
        p.add_argument("--name", required=True)
        if role_default:
            p.set_defaults(role=role_default)
        else:
            p.add_argument("--role", required=True, choices=["operator", "kades", "camat", "opd", "admin"])
        p.add_argument("--position", help="jabatan, printed under the signature")
        p.add_argument("--nip", help="18-digit NIP, where the person has one")
        p.add_argument("--phone")
        p.add_argument("--email")
        p.add_argument("--password", help="prompted for when omitted")
        p.set_defaults(fn=_create_staff)
    sub.add_parser("seed-demo", help="local mode: Sinjai demo data and accounts").set_defaults(fn=_seed_demo)
    sub.add_parser("vapid-keys", help="Web Push: generate the VAPID key pair once (never replaces one)"
                   ).set_defaults(fn=_vapid_keys)
    sub.add_parser("init-letter-keys", help="write the first letter-signing key (never replaces one)").set_defaults(
        fn=_init_letter_keys)
    sub.add_parser("rotate-letter-keys", help="new active signing key; old public keys stay").set_defaults(
        fn=_rotate_letter_keys)
    p = sub.add_parser("export-village", help="one village's items as JSON Lines (Queries on known keys only)")
    p.add_argument("village", help="desa/kelurahan code, e.g. 73.07.03.1001")
    p.add_argument("destination", nargs="?",
                   help="s3://bucket/prefix, a folder, or a .jsonl file/key (default: the letters bucket's backups/)")
    p.add_argument("--table", help="read this table instead of BALAI_TABLE (e.g. a point-in-time restore)")
    p.set_defaults(fn=_export_village)
    p = sub.add_parser("restore-village", help="write a village backup back (batch writes, idempotent)")
    p.add_argument("source", help="s3://bucket/key.jsonl or a local .jsonl file")
    p.add_argument("--village", help="refuse the file unless it holds this village")
    p.add_argument("--table", help="write into this table instead of BALAI_TABLE")
    p.set_defaults(fn=_restore_village)
    p = sub.add_parser("recompute-stats", help="rebuild the transparency aggregates from the records (reads all)")
    p.add_argument("kabupaten", nargs="?", help="only this kabupaten, e.g. 73.07 (default: every one found)")
    p.set_defaults(fn=_recompute_stats)
    p = sub.add_parser("expire-outbox", help="once, after upgrading: give finished outbox rows kept from before "
                       "BALAI_OUTBOX_RETENTION_DAYS their TTL (Queries per village and status)")
    p.add_argument("kabupaten", nargs="?", help="only this kabupaten, e.g. 73.07 (default: every one served)")
    p.set_defaults(fn=_expire_outbox)
    p = sub.add_parser("whatsapp-message", help="local mode: deliver a citizen's WhatsApp message to the webhook, "
                       "signed as Meta signs it (try WhatsApp login without Meta)")
    p.add_argument("--from", dest="sender", required=True, help="the sender's phone, e.g. 081234567890")
    p.add_argument("--text", required=True, help='the message, e.g. "Kode masuk Balai: K7QX-3M9P"')
    p.add_argument("--to", help="the business number it is sent to (default: the one configured)")
    p.set_defaults(fn=_whatsapp_message)
    p = sub.add_parser("stream-filter", help="after chalice deploy: set the stream function's event filter")
    p.add_argument("--stage", help="the Chalice stage (default: BALAI_STAGE)")
    p.set_defaults(fn=_stream_filter)
    args = parser.parse_args(argv)
    if args.local:
        from chalicelib.config import get_settings
        from chalicelib.ops.local import LocalModeNotRunningError, use_running_local_mode

        try:
            api = use_running_local_mode(args.data_dir or get_settings().data_dir)
        except LocalModeNotRunningError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(f"local mode at {api}", file=sys.stderr)
        args.api = api
    elif args.data_dir:
        parser.error("--data-dir goes with --local")
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
