"""Command line for operators: `python -m chalicelib.ops <command> ...`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from chalicelib.auth import hash_password
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.regions import validate_code


def _create_table(_: argparse.Namespace) -> int:
    from chalicelib.storage.table import create_table

    create_table()
    print("table ready")
    return 0


def _import_regions(args: argparse.Namespace) -> int:
    from chalicelib.ops.region_data import ATTRIBUTION, kabupaten_regions
    from chalicelib.storage import regions

    items = kabupaten_regions(args.kabupaten)
    written = regions.put_many(items, overwrite=args.overwrite)
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


def _create_staff(args: argparse.Namespace) -> int:
    from chalicelib.storage import people

    validate_code(args.region)
    password = args.password or getpass.getpass("Password: ")
    if len(password) < 10:
        print("password must have at least 10 characters", file=sys.stderr)
        return 2
    staff = people.Staff(args.username.lower(), hash_password(password), args.role, args.region, args.name,
                         position=args.position, phone=args.phone, email=args.email)
    if not people.create_staff(staff, iso(utcnow())):
        print(f"username {args.username} exists", file=sys.stderr)
        return 1
    print(f"created {args.role} {args.username} for {args.region}")
    return 0


def _seed_demo(_: argparse.Namespace) -> int:
    from chalicelib.ops.demo import seed_demo

    print(json.dumps(seed_demo()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ops", description=__doc__)
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
        p.add_argument("--position")
        p.add_argument("--phone")
        p.add_argument("--email")
        p.add_argument("--password", help="prompted for when omitted")
        p.set_defaults(fn=_create_staff)
    sub.add_parser("seed-demo", help="local mode: Sinjai demo data and accounts").set_defaults(fn=_seed_demo)
    args = parser.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
