"""Demo data for local mode: Kabupaten Sinjai, its first roll-out stage, and demo staff accounts."""

from __future__ import annotations

from chalicelib.auth import hash_password
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.regions import is_village
from chalicelib.ops.region_data import kabupaten_regions
from chalicelib.storage import people, regions

DEMO_KABUPATEN = "73.07"
# Sinjai's own first stage (2021): kecamatan Sinjai Timur and Pulau Sembilan.
DEMO_ACTIVE_KECAMATAN = ("73.07.03", "73.07.09")
DEMO_PASSWORD = "balai-demo"


def _demo_email(username: str) -> str:
    """Demo staff get a mailbox on a reserved domain, so local mode's staff e-mails land in
    .balai/outbox/email.jsonl instead of failing for want of an address."""
    return f"{username.replace('.', '-')}@demo.balai.invalid"


def seed_demo() -> dict[str, int]:
    """Import Sinjai, activate the first stage, and create `admin`, `operator.<desa>`, `kades.<desa>`
    and `camat.<kecamatan>` accounts, all with the password `balai-demo` (local mode only)."""
    items = kabupaten_regions(DEMO_KABUPATEN)
    for region in items:
        if region.code.startswith(DEMO_ACTIVE_KECAMATAN):
            region.active = True
    imported = regions.put_many(items, overwrite=True)
    regions.register_kabupaten(DEMO_KABUPATEN, iso(utcnow()))
    # One hash for every demo account: scrypt is deliberately slow and they share a password.
    password_hash = hash_password(DEMO_PASSWORD)
    staff = [people.Staff("admin", password_hash, "admin", DEMO_KABUPATEN, "Admin Diskominfo Sinjai",
                          position="Admin Kabupaten", email=_demo_email("admin"))]
    for region in items:
        if is_village(region.code):
            head = "Lurah" if region.level == "kelurahan" else "Kepala Desa"
            staff.append(people.Staff(f"operator.{region.code}", password_hash, "operator", region.code,
                                      f"Operator {region.name}", position=f"Operator {region.name}",
                                      email=_demo_email(f"operator.{region.code}")))
            staff.append(people.Staff(f"kades.{region.code}", password_hash, "kades", region.code,
                                      f"{head} {region.name}", position=f"{head} {region.name}",
                                      email=_demo_email(f"kades.{region.code}")))
        elif region.level == "kecamatan":
            staff.append(people.Staff(f"camat.{region.code}", password_hash, "camat", region.code,
                                      f"Camat {region.name}", position=f"Camat {region.name}",
                                      email=_demo_email(f"camat.{region.code}")))
    people.create_staff_many(staff, iso(utcnow()))
    return {"regions": imported, "staff": len(staff)}
