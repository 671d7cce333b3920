"""Demo resident registers for local mode: a few dozen residents per active village, in families sharing a KK.

Generated from a fixed seed (the same people on every machine), with Bugis, Makassar and other Indonesian names,
NIKs whose birth date and sex agree with the person, and the README walk-through's citizen in Samataring.
"""

from __future__ import annotations

import random
from datetime import date

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.nik import nik_hash
from chalicelib.domain.regions import Region, is_village
from chalicelib.domain.residents import Resident

WALKTHROUGH_VILLAGE = "73.07.03.1001"  # Kelurahan Samataring
WALKTHROUGH_NIK = "7307035708900002"
WALKTHROUGH_PHONE = "+6281298765432"
WALKTHROUGH_KK = "7307031203150004"

MEN = ("Andi Baso", "Muhammad Arifin", "Abdul Rahman", "Syamsuddin", "Haris", "Ilham", "Nasrullah", "Sudirman",
       "Kamaruddin", "Hasanuddin", "Iskandar", "Amiruddin", "Syahrir", "Firman", "Rusdi", "Ambo Tang", "Lamba",
       "Muhammad Tahir", "Haerul", "Muhlis", "Saharuddin", "Bakri", "Ramli", "Jumadi", "Andi Mappiare", "Sappe",
       "Baharuddin", "Mansur", "Rahmat", "Akbar")
WOMEN = ("Nurhaedah", "Hasnah", "Sitti Aisyah", "Rahmawati", "Nurhayati", "Hadijah", "Marlina", "Sumarni",
         "Nurjannah", "Asmawati", "Rosmiati", "Husniah", "Andi Tenri", "Besse", "Fatmawati", "Jumriani", "Satriani",
         "Hasmawati", "Rahmatia", "Irmawati", "Nursiah", "St. Hajrah", "Megawati", "Darmawati", "Nurul Hikmah")
SURNAMES = ("Daeng Ngalle", "Tenri", "Mappa", "Rasyid", "Saleh", "Hamzah", "Ismail", "Latif", "Yusuf", "Mansyur",
            "Amir", "Abbas", "Bahtiar", "Makkulau", "Pallawa", "Sultan", "Jafar", "Side", "Lolo", "Daeng Sikki")
PLACES = ("Sinjai", "Sinjai", "Sinjai", "Bulukumba", "Bone", "Makassar", "Gowa", "Pulau Sembilan")
STREETS = ("Jl. Persatuan Raya", "Jl. Jenderal Sudirman", "Jl. Sultan Hasanuddin", "Jl. Teuku Umar",
           "Jl. Andi Mappanyukki", "Jl. Poros Sinjai-Bulukumba", "Jl. Lamatti", "Jl. Bulu Kamase")
DUSUN = ("Bontosalama", "Lappae", "Tanah Kongkong", "Balangnipa", "Samataring", "Biroro")
ADULT_JOBS = ("Petani/Pekebun", "Petani/Pekebun", "Wiraswasta", "Pedagang", "Guru", "Karyawan Swasta",
              "Pegawai Negeri Sipil (PNS)", "Buruh Harian Lepas", "Sopir")
ISLAND_JOBS = ("Nelayan/Perikanan", "Nelayan/Perikanan", "Nelayan/Perikanan", "Wiraswasta", "Pedagang")


def _nik(kecamatan6: str, born: date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return f"{kecamatan6}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def _date(rng: random.Random, first: int, last: int) -> date:
    return date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))


def village_residents(village: Region, key: str, now: str, per_village: int = 30) -> list[Resident]:
    """About `per_village` residents of one village, in families (head, spouse, children) sharing a KK number."""
    rng = random.Random(village.code)
    kecamatan6 = village.code.replace(".", "")[:6]
    island = village.code.startswith("73.07.09")
    serial = rng.randint(1, 400)
    people: list[Resident] = []

    seen: set[str] = set()

    def add(nik: str, data: dict[str, object]) -> None:
        if nik in seen:  # twins of one sex born the same day would share a NIK: keep the first
            return
        seen.add(nik)
        people.append(Resident(village=village.code, nik_hash=nik_hash(nik, key), nik=nik,
                               data={k: v for k, v in data.items() if v}, version=1, created_at=now,
                               updated_at=now, updated_by="seed"))

    if village.code == WALKTHROUGH_VILLAGE:
        add(WALKTHROUGH_NIK, {"kk_number": WALKTHROUGH_KK, "name": "Nurhaedah", "birth_place": "Sinjai",
                              "birth_date": "1990-08-17", "sex": "P", "religion": "Islam", "marital_status": "Kawin",
                              "occupation": "Wiraswasta", "address": "Jl. Persatuan Raya", "dusun": "SAMATARING",
                              "rt": "001", "rw": "002", "phone": WALKTHROUGH_PHONE})
        add("7307031304880001", {"kk_number": WALKTHROUGH_KK, "name": "Muhammad Arifin Mappa",
                                 "birth_place": "Sinjai", "birth_date": "1988-04-13", "sex": "L", "religion": "Islam",
                                 "marital_status": "Kawin", "occupation": "Petani/Pekebun",
                                 "address": "Jl. Persatuan Raya", "dusun": "SAMATARING", "rt": "001", "rw": "002"})
    while len(people) < per_village:
        serial += 1
        surname = rng.choice(SURNAMES)
        kk = f"{kecamatan6}{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(5, 22):02d}{serial:04d}"
        rt, rw = f"{rng.randint(1, 6):03d}", f"{rng.randint(1, 4):03d}"
        address = f"{rng.choice(STREETS)} No. {rng.randint(1, 120)}" if not island else f"Dusun {rng.choice(DUSUN)}"
        dusun = rng.choice(DUSUN).upper()
        common = {"kk_number": kk, "address": address, "dusun": dusun, "rt": rt, "rw": rw, "religion": "Islam"}
        head_born = _date(rng, 1958, 1994)
        head_nik = _nik(kecamatan6, head_born, False, serial)
        jobs = ISLAND_JOBS if island else ADULT_JOBS
        married = rng.random() < 0.85
        add(head_nik, {**common, "name": f"{rng.choice(MEN)} {surname}", "birth_place": rng.choice(PLACES),
                       "birth_date": head_born.isoformat(), "sex": "L", "occupation": rng.choice(jobs),
                       "marital_status": "Kawin" if married else "Cerai Mati",
                       "phone": f"+62813{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.6 else None})
        if married:
            wife_born = _date(rng, max(head_born.year - 2, 1958), min(head_born.year + 8, 1998))
            add(_nik(kecamatan6, wife_born, True, serial), {
                **common, "name": f"{rng.choice(WOMEN)}", "birth_place": rng.choice(PLACES),
                "birth_date": wife_born.isoformat(), "sex": "P", "marital_status": "Kawin",
                "occupation": rng.choice(("Mengurus Rumah Tangga", "Mengurus Rumah Tangga", "Pedagang", "Guru")),
                "phone": f"+62852{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.4 else None})
        for _ in range(rng.randint(0, 3)):
            female = rng.random() < 0.5
            born = _date(rng, max(head_born.year + 20, 1990), 2020)
            adult = born.year <= 2004
            add(_nik(kecamatan6, born, female, serial), {
                **common, "name": f"{rng.choice(WOMEN if female else MEN)} {surname}",
                "birth_place": "Sinjai", "birth_date": born.isoformat(), "sex": "P" if female else "L",
                "marital_status": "Belum Kawin",
                "occupation": rng.choice(("Pelajar/Mahasiswa", "Wiraswasta", "Karyawan Swasta")) if adult
                else "Pelajar/Mahasiswa"})
    return people


def demo_residents(regions: list[Region], key: str, per_village: int = 30) -> list[Resident]:
    """Registers for every active village of the demo."""
    now = iso(utcnow())
    return [r for v in regions if is_village(v.code) and v.active for r in village_residents(v, key, now, per_village)]
