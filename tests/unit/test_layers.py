"""The layer rules of docs/architecture.md, checked on the source: who may import what."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


@cache
def imports(path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(module, names) for every import in the file, lazy ones inside functions included."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, tuple(alias.name for alias in node.names)))
    return tuple(found)


def layer(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "chalicelib" and len(parts) > 2 else path.stem


def offenders(in_layers: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return [f"{p.relative_to(ROOT)} imports {module}" for p in SHIPPED if layer(p) in in_layers
            for module, _ in imports(p) if any(module == f or module.startswith(f + ".") for f in forbidden)]


def test_pynamodb_is_imported_only_in_storage() -> None:
    bad = [f"{p.relative_to(ROOT)}" for p in SHIPPED if layer(p) != "storage"
           and any(module.split(".")[0] == "pynamodb" for module, _ in imports(p))]
    assert bad == []


def test_the_domain_is_pure() -> None:
    assert offenders({"domain"}, ("pynamodb", "boto3", "botocore", "chalice", "chalicelib.storage",
                                  "chalicelib.services", "chalicelib.api", "chalicelib.adapters",
                                  "chalicelib.workers", "chalicelib.config", "chalicelib.observability")) == []


@pytest.mark.parametrize("thin", ["api", "templates"])
def test_api_and_templates_reach_no_storage_and_no_outside_system(thin: str) -> None:
    assert offenders({thin}, ("pynamodb", "boto3", "chalicelib.storage", "chalicelib.adapters",
                              "chalicelib.workers")) == []


def test_no_module_imports_another_modules_private_names() -> None:
    bad = [f"{p.relative_to(ROOT)}: from {module} import {name}" for p in [*SHIPPED, *(ROOT / "localmode").glob("*.py")]
           for module, names in imports(p) if module.startswith(("chalicelib", "localmode"))
           for name in names if name.startswith("_") and not name.startswith("__")]
    assert bad == []
