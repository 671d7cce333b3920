"""Web front end figures: bytes shipped per page (gzipped) and Lighthouse 12.2.3 performance and
accessibility (mobile emulation, Debian's Chromium) for the citizen login, form and verification pages.

    .venv/bin/python bench/web.py            # sizes, then Lighthouse against a fresh local mode
    .venv/bin/python bench/web.py --sizes    # sizes only (no browser, no server)

Lighthouse comes from bench/lighthouse/ (npm, pinned exactly at 12.2.3; `npm ci` there on first use).
The form page needs a logged-in citizen with a form open: the script drives the same Chromium over CDP to
log in and open the form, then runs Lighthouse against that browser without resetting its storage.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
LH_DIR = ROOT / "bench" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
BUDGET = 150 * 1024  # citizen portal JS + CSS, gzipped
PAGES = {"/": "citizen portal", "/lacak/": "tracking", "/verifikasi/": "verification", "/staf/": "staff console",
         "/pengaduan/": "public complaints",
         "/transparansi/": "transparency dashboard"}
IMPORT_RE = re.compile(r"""(?:import|from)\s*["']([^"']+)["']|import\(["']([^"']+)["']\)""")
ASSET_RE = re.compile(r"""(?:src|href)="(/[^"]+\.(?:js|css|webmanifest|svg|png))\"""")


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def page_assets(path: str) -> list[Path]:
    """The HTML page and everything it loads at start: CSS, module scripts and their imports, icons."""
    html = WEB / path.lstrip("/") / "index.html"
    files = [html]
    queue = [WEB / m.lstrip("/") for m in ASSET_RE.findall(html.read_text())]
    while queue:
        f = queue.pop()
        if f in files or not f.exists():
            continue
        files.append(f)
        if f.suffix == ".js":
            for a, b in IMPORT_RE.findall(f.read_text()):
                queue.append((f.parent / (a or b)).resolve())
    return files


def sizes() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    print(f"{'page':<14} {'files':>5} {'raw B':>8} {'gzip B':>8} {'JS+CSS gzip B':>14}")
    for path, name in PAGES.items():
        files = page_assets(path)
        raw = sum(f.stat().st_size for f in files)
        total = sum(gz(f.read_bytes()) for f in files)
        code = sum(gz(f.read_bytes()) for f in files if f.suffix in (".js", ".css"))
        out[path] = {"files": len(files), "raw": raw, "gzip": total, "js_css_gzip": code}
        print(f"{path:<14} {len(files):>5} {raw:>8} {total:>8} {code:>14}   {name}")
    sw = WEB / "sw.js"
    print(f"{'/sw.js':<14} {1:>5} {sw.stat().st_size:>8} {gz(sw.read_bytes()):>8} {'':>14}   "
          "service worker (after load)")
    citizen = out["/"]["js_css_gzip"]
    print(f"citizen portal JS+CSS: {citizen} B gzipped of a {BUDGET} B budget "
          f"({'within' if citizen <= BUDGET else 'OVER'})")
    return out


def lighthouse_bin() -> Path:
    binary = LH_DIR / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LH_DIR, check=True)
    return binary


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(api: str, method: str, path: str, body: object = None, token: str | None = None) -> dict:
    req = urllib.request.Request(f"{api}{path}", method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json", "Accept": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def upload(api: str, token: str, village: str, letter_type: str, name: str) -> str:
    """The presigned upload flow for one attachment (a tiny PNG); returns the upload id."""
    data = (WEB / "icons" / "icon-192.png").read_bytes()
    up = call(api, "POST", f"/v1/villages/{village}/uploads", {"letter_type": letter_type, "attachment": name,
              "filename": f"{name}.png", "content_type": "image/png", "size": len(data)}, token)
    boundary = "balaibench"
    parts = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in up["fields"].items())
    parts += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}.png"\r\n'
              f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(up["url"], data=parts, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    urllib.request.urlopen(req, timeout=30).read()
    return str(up["upload_id"])


def issued_letter_token(api: str, data_dir: Path) -> tuple[str, str]:
    """Log a citizen in, submit, and have the operator and kades take it to an issued letter."""
    nik, phone, village = "7307035708900002", "081298765432", "73.07.03.1001"
    call(api, "POST", "/v1/auth/otp", {"nik": nik, "phone": phone})
    sms = (data_dir / "outbox" / "sms.jsonl").read_text().splitlines()
    code = re.search(r"Kode verifikasi Balai: (\d{6})", json.loads(sms[-1])["text"]).group(1)  # type: ignore[union-attr]
    citizen = call(api, "POST", "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})["token"]
    call(api, "PUT", "/v1/me/profile", {"version": 1, "name": "Nurhaedah", "birth_place": "Sinjai",
                                         "birth_date": "1990-08-17", "sex": "P", "religion": "Islam",
                                         "marital_status": "Kawin", "occupation": "Wiraswasta",
                                         "address": "Jl. Persatuan Raya"}, citizen)
    types = call(api, "GET", f"/v1/villages/{village}/letter-types")["items"]
    skd = next(t for t in types if t["code"] == "SKD")
    body: dict = {"letter_type": "SKD", "fields": {"lama_tinggal_tahun": 5, "keperluan": "Melamar pekerjaan"}}
    if skd["attachments"]:
        body["attachments"] = {a["name"]: upload(api, citizen, village, "SKD", a["name"]) for a in skd["attachments"]}
    request = call(api, "POST", f"/v1/villages/{village}/requests", body, citizen)
    for username, actions in ((f"operator.{village}", ("review", "approve")), (f"kades.{village}", ("issue",))):
        staff = call(api, "POST", "/v1/auth/login", {"username": username, "password": "balai-demo"})["token"]
        for action in actions:
            request = call(api, "POST", f"/v1/requests/{request['id']}/transitions",
                           {"action": action, "version": request["version"]}, staff)
    letter = call(api, "GET", f"/v1/requests/{request['id']}/letter", token=citizen)
    return str(letter["verify_url"]).rsplit("/", 1)[1], str(citizen)


def lighthouse(binary: Path, url: str, port: int) -> dict[str, float]:
    out = subprocess.run([str(binary), url, f"--port={port}", "--disable-storage-reset",
                          "--only-categories=performance,accessibility", "--output=json", "--quiet",
                          "--form-factor=mobile", "--screenEmulation.mobile", "--throttling-method=simulate"],
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    cats = report["categories"]
    failed = [a for a, r in report["audits"].items()
              if r.get("score") is not None and r["score"] < 1 and r.get("scoreDisplayMode") == "binary"
              and a in {ref["id"] for ref in cats["accessibility"]["auditRefs"]}]
    return {"performance": round(cats["performance"]["score"] * 100), "accessibility":
            round(cats["accessibility"]["score"] * 100), "fcp_ms": round(report["audits"]["first-contentful-paint"]
            ["numericValue"]), "lcp_ms": round(report["audits"]["largest-contentful-paint"]["numericValue"]),
            "tbt_ms": round(report["audits"]["total-blocking-time"]["numericValue"]),
            "cls": round(report["audits"]["cumulative-layout-shift"]["numericValue"], 3),
            "si_ms": round(report["audits"]["speed-index"]["numericValue"]),
            "failed_a11y": failed}  # type: ignore[dict-item]


def run_lighthouse() -> None:
    binary = lighthouse_bin()
    data_dir = Path(tempfile.mkdtemp(prefix="balai-bench-web-"))
    api_port, web_port, cdp_port = free_port(), free_port(), free_port()
    api, web = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}"
    server = subprocess.Popen([sys.executable, "-m", "localmode.run", "--port", str(api_port), "--db-port",
                               str(free_port()), "--web-port", str(web_port), "--data-dir", str(data_dir)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    profile = Path(tempfile.mkdtemp(prefix="balai-bench-chrome-"))
    chrome = None
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{api}/v1/regions/73.07", timeout=5).read()
                urllib.request.urlopen(f"{web}/config.json", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        token, citizen = issued_letter_token(api, data_dir)
        chrome = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", f"--remote-debugging-port={cdp_port}",
                                   f"--user-data-dir={profile}", "about:blank"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        results = {"citizen login": lighthouse(binary, f"{web}/", cdp_port)}
        # Log in and open the SKD form in this browser's storage, as the citizen would have.
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.connect_over_cdp(f"http://127.0.0.1:{cdp_port}")
            page = browser.contexts[0].new_page()
            page.goto(f"{web}/")
            types = call(api, "GET", "/v1/villages/73.07.03.1001/letter-types")["items"]
            skd = next(t for t in types if t["code"] == "SKD")
            page.evaluate("""([token, type]) => {
                localStorage.setItem('balai.citizen', JSON.stringify({token, expiresAt: Date.now() + 1500000}));
                localStorage.setItem('balai.draft', JSON.stringify({village: '73.07.03.1001',
                  villageName: 'Kelurahan Samataring', letterType: type.code, letterName: type.name, type,
                  fields: {}, attachments: {}, key: 'bench-1', pending: false}));
            }""", [citizen, skd])
            page.close()
        results["citizen form"] = lighthouse(binary, f"{web}/#ajukan", cdp_port)
        results["verification"] = lighthouse(binary, f"{web}/verifikasi/?token={token}", cdp_port)
        print("\nLighthouse 12.2.3, mobile emulation, simulated slow 4G, Debian Chromium:")
        print(f"{'page':<16} {'perf':>5} {'a11y':>5} {'FCP ms':>7} {'LCP ms':>7} {'TBT ms':>7} {'CLS':>6} {'SI ms':>6}"
              "  failed a11y audits")
        for name, r in results.items():
            print(f"{name:<16} {r['performance']:>5} {r['accessibility']:>5} {r['fcp_ms']:>7} {r['lcp_ms']:>7} "
                  f"{r['tbt_ms']:>7} {r['cls']:>6} {r['si_ms']:>6}  "
                  f"{', '.join(r['failed_a11y']) or '-'}")  # type: ignore[arg-type]
        ok = all(r["performance"] >= 90 and r["accessibility"] >= 90 for r in results.values())
        print(f"bar (performance and accessibility >= 90 on all three): {'met' if ok else 'NOT met'}")
    finally:
        if chrome:
            chrome.terminate()
            chrome.wait(timeout=10)
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", action="store_true", help="bytes per page only")
    args = parser.parse_args()
    sizes()
    if not args.sizes:
        run_lighthouse()
    return 0


if __name__ == "__main__":
    sys.exit(main())
