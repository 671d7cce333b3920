"""The README's "A walk through the API (local mode)", pasted into bash as a newcomer would, against a
fresh local mode (own ports and data folder): it must end with a verified letter."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.e2e.test_local_mode import ROOT, LocalBalai

HEADING = "### A walk through the API (local mode)"


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(re.escape(HEADING) + r"\s*```sh\n(.*?)```", readme, re.S)
    assert match, "the README has no walk-through code block"
    return match.group(1)


def test_the_block_has_no_unmarked_placeholder() -> None:
    assert "<id>" not in walkthrough() and "123456" not in walkthrough()


def test_readme_walkthrough_ends_with_a_verified_letter(tmp_path: Path) -> None:
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    (cwd / "docs").mkdir(parents=True)
    shutil.copytree(ROOT / "docs" / "examples", cwd / "docs" / "examples")  # the import line's sample file
    balai = LocalBalai(data_dir).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BALAI_", "AWS_"))}
        env.update({"B": f"http://127.0.0.1:{balai.port}", "BALAI_DATA_DIR": str(data_dir)})
        run = subprocess.run(["bash"], input=walkthrough(), cwd=cwd, env=env, capture_output=True,
                             text=True, timeout=75)
    finally:
        balai.stop()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert json.loads(lines[-1])["status"] == "valid", output  # the verify URL's answer
    assert "issued" in lines, output
    assert (cwd / "letter.pdf").read_bytes().startswith(b"%PDF-")


def test_readme_and_docs_link_only_inside_the_repository() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        assert "../shared" not in text, page
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if not target.startswith(("http://", "https://", "mailto:")):
                resolved = (page.parent / target).resolve()
                assert resolved.is_relative_to(ROOT) and resolved.exists(), (page, target)
