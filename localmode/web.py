"""The front end in local mode: serves web/ (static files) and a generated /config.json pointing at the local API."""

from __future__ import annotations

import json
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


class _Handler(SimpleHTTPRequestHandler):
    config: bytes = b"{}"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript; charset=utf-8",
                      ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
                      ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
                      ".json": "application/json"}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?", 1)[0] == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.config)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(self.config)
            return
        super().do_GET()

    def list_directory(self, path: str | os.PathLike[str]) -> None:  # type: ignore[override]
        # A folder without index.html is not a page: no file listings.
        self.send_error(404, "Not Found")
        return None

    def end_headers(self) -> None:
        # Local mode: always revalidate, so an edited file shows on reload (the service worker keeps the
        # offline copy). The service worker may control the whole site from /sw.js.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class LocalWeb:
    """A threaded static server for web/ on 127.0.0.1:<port>; /config.json names the API base URL."""

    def __init__(self, port: int, api_base: str, region: str | None = None, root: Path = WEB_ROOT) -> None:
        config = {"apiBase": api_base.rstrip("/")}
        if region:
            config["region"] = region
        handler = type("Handler", (_Handler,), {"config": json.dumps(config).encode()})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="balai-web", daemon=True)

    def start(self) -> LocalWeb:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
