"""Demo data for local mode: Kabupaten Sinjai, its first roll-out stage, and demo staff accounts."""

from __future__ import annotations

from chalicelib.auth import hash_password
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.complaints import default_config as default_complaint_config
from chalicelib.domain.regions import Region, is_village
from chalicelib.ops.region_data import kabupaten_regions
from chalicelib.storage import complaints as complaints_repo
from chalicelib.storage import people, regions

DEMO_KABUPATEN = "73.07"
# Sinjai's own first stage (2021): kecamatan Sinjai Timur and Pulau Sembilan.
DEMO_ACTIVE_KECAMATAN = ("73.07.03", "73.07.09")
DEMO_PASSWORD = "balai-demo"


def _demo_email(username: str) -> str:
    """Demo staff get a mailbox on a reserved domain, so local mode's staff e-mails land in
    .balai/outbox/email.jsonl instead of failing for want of an address."""
    return f"{username.replace('.', '-')}@demo.balai.invalid"


# Names as they are common in Sinjai (Bugis and Makassar): a realistic demo, every person fictional.
_MEN = ("Andi Muhammad Yusuf", "Baharuddin", "Syamsul Alam", "Abdul Rahman", "Muhammad Arsyad", "Hasanuddin",
        "Andi Baso Mappiasse", "Syahrir", "Mustari", "Irwan Saputra", "Jamaluddin", "Ahmad Fauzi",
        "Sudirman", "Muh. Idris", "Andi Tenri Sessu", "Kamaruddin", "Nasrullah", "Ilham Syarif")
_WOMEN = ("Nurhaedah", "Sitti Rahmawati", "Andi Besse Tenriawaru", "Nurjannah", "Jumriati", "Asriani",
          "Rosmiati", "Hasnawati", "Sitti Aminah", "Andi Nurul Fadhilah", "Harmawati", "Suriani")


def _person(index: int, salt: int) -> tuple[str, int]:
    """A deterministic name and sex (1 man, 2 woman) for a demo account."""
    pool, sex = ((_WOMEN, 2) if (index + salt) % 3 == 0 else (_MEN, 1))
    return pool[(index * 7 + salt) % len(pool)], sex


def _demo_nip(index: int, sex: int) -> str:
    """An 18-digit number shaped like a NIP: birth date, appointment year and month, sex, serial."""
    born_year, born_month, born_day = 1970 + index % 19, 1 + index % 12, 1 + index % 28
    appointed = born_year + 26 + index % 5
    return f"{born_year}{born_month:02d}{born_day:02d}{appointed}{1 + index % 12:02d}{sex}{index % 997 + 1:03d}"


def _office(region: Region, index: int) -> dict[str, str]:
    """A default office address per demo village (street, postcode, phone, website), all fictional."""
    slug = "".join(c for c in region.name.lower() if c.isalnum())
    kecamatan = int(region.code.split(".")[2])
    return {"address": f"Jl. Poros {region.name} No. {1 + index % 40}", "postcode": f"926{60 + kecamatan:02d}",
            "phone": f"(0482) 2{index:04d}1", "website": f"{slug}.desa.id"}


def seed_demo(with_residents: bool = True) -> dict[str, int]:
    """Import Sinjai, activate the first stage, and create `admin`, `operator.<desa>`, `kades.<desa>`
    and `camat.<kecamatan>` accounts, all with the password `balai-demo` (local mode only), each with a
    realistic staff profile (full name, jabatan, NIP for civil servants); every village gets an office
    address for its kop surat, and every active village a resident register."""
    items = kabupaten_regions(DEMO_KABUPATEN)
    for index, region in enumerate(items):
        if region.code.startswith(DEMO_ACTIVE_KECAMATAN):
            region.active = True
        if is_village(region.code):
            region.settings = {**region.settings, "letters": _office(region, index)}
    imported = regions.put_many(items, overwrite=True)
    regions.register_kabupaten(DEMO_KABUPATEN, iso(utcnow()))
    # One hash for every demo account: scrypt is deliberately slow and they share a password.
    password_hash = hash_password(DEMO_PASSWORD)
    staff = [people.Staff("admin", password_hash, "admin", DEMO_KABUPATEN, "Muhammad Ridwan, S.Kom.",
                          position="Pranata Komputer Ahli Muda, Dinas Komunikasi dan Informatika",
                          email=_demo_email("admin"), nip=_demo_nip(0, 1))]
    for index, region in enumerate(items):
        if is_village(region.code):
            # A lurah is a civil servant (NIP); a kepala desa is elected and has none; operators are
            # contract staff without one.
            kelurahan = region.level == "kelurahan"
            head = "Lurah" if kelurahan else "Kepala Desa"
            op_name, _ = _person(index, 1)
            staff.append(people.Staff(f"operator.{region.code}", password_hash, "operator", region.code, op_name,
                                      position=f"Operator {'Kelurahan' if kelurahan else 'Desa'} {region.name}",
                                      email=_demo_email(f"operator.{region.code}")))
            head_name, sex = _person(index, 2)
            staff.append(people.Staff(f"kades.{region.code}", password_hash, "kades", region.code,
                                      f"{head_name}, S.STP" if kelurahan else head_name,
                                      position=f"{head} {region.name}", email=_demo_email(f"kades.{region.code}"),
                                      nip=_demo_nip(index, sex) if kelurahan else None))
        elif region.level == "kecamatan":
            name, sex = _person(index, 3)
            staff.append(people.Staff(f"camat.{region.code}", password_hash, "camat", region.code,
                                      f"Drs. {name}, M.Si.", position=f"Camat {region.name}",
                                      email=_demo_email(f"camat.{region.code}"), nip=_demo_nip(index, sex)))
    # Complaints (issue 12): the kabupaten's OPDs and categories, and one officer per OPD (`opd.<code>`).
    config = default_complaint_config(DEMO_KABUPATEN, iso(utcnow()))
    if complaints_repo.get_config(DEMO_KABUPATEN, consistent=True) is None:  # an admin's changes are kept
        complaints_repo.put_config(config, None, "demo")
    for index, opd in enumerate(config.opds):
        name, sex = _person(index, 4)
        staff.append(people.Staff(f"opd.{opd.code}", password_hash, "opd", DEMO_KABUPATEN, name,
                                  position=f"Staf Pengaduan, {opd.name}"[:120], email=_demo_email(f"opd.{opd.code}"),
                                  nip=_demo_nip(index + 40, sex), opd=opd.code))
    people.create_staff_many(staff, iso(utcnow()))
    result = {"regions": imported, "staff": len(staff)}
    if with_residents:
        result["residents"] = seed_demo_residents(items)
    return result


def seed_demo_residents(items: list[Region]) -> int:
    """Resident registers (data penduduk) for the active villages, the README walk-through's citizen included."""
    from chalicelib.config import get_secrets
    from chalicelib.ops.demo_residents import demo_residents
    from chalicelib.storage import residents

    found = demo_residents(items, get_secrets().nik_hash_key)
    residents.put_many(found)
    return len(found)
