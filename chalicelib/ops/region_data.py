"""Reads a kabupaten's regions from the idn-area-data CSVs (ODbL; see data/idn-area-data/README.md)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Iterator

from chalicelib.config import PROJECT_ROOT
from chalicelib.domain.regions import Region, level_of, timezone_for, validate_code

DATA_DIR = PROJECT_ROOT / "data" / "idn-area-data"
ATTRIBUTION = "Region data © idn-area-data contributors (github.com/fityannugroho/idn-area-data), ODbL 1.0"


def _rows(name: str, data_dir: Path) -> Iterator[dict[str, str]]:
    path = data_dir / f"{name}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def kabupaten_regions(code: str, data_dir: Path = DATA_DIR) -> list[Region]:
    """The kabupaten, its kecamatan and its desa/kelurahan, all inactive, with the zone of the province."""
    validate_code(code)
    if len(code.split(".")) != 2:
        raise ValueError(f"{code} is not a kabupaten/kota code (expected NN.NN)")
    tz = timezone_for(code)
    regency = next((r for r in _rows("regencies", data_dir) if r["code"] == code), None)
    if regency is None:
        raise LookupError(f"kabupaten {code} not found in {data_dir}")
    province = next(r for r in _rows("provinces", data_dir) if r["code"] == regency["province_code"])
    kab_name = regency["name"]
    regions = [Region(code=code, name=kab_name, level="kabupaten", parent=province["code"], active=True,
                      timezone=tz, settings={"province_name": province["name"], "attribution": ATTRIBUTION})]
    kecamatan = {r["code"]: r["name"] for r in _rows("districts", data_dir) if r["regency_code"] == code}
    for kc, kname in sorted(kecamatan.items()):
        regions.append(Region(code=kc, name=kname, level="kecamatan", parent=code, active=False, timezone=tz,
                              settings={"kabupaten_name": kab_name}))
    for row in _rows("villages", data_dir):
        if row["district_code"] in kecamatan:
            vcode = row["code"]
            regions.append(Region(
                code=vcode, name=row["name"], level=level_of(vcode), parent=row["district_code"],
                active=False, timezone=tz,
                settings={"kecamatan_name": kecamatan[row["district_code"]], "kabupaten_name": kab_name}))
    return regions
