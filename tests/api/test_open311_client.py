"""An existing Open311 client, unchanged, against Balai over real HTTP: PyPI `georeport` 0.3.1 (a Python wrapper
for GeoReport v2: services, service definitions, requests, one request; JSON and XML via xmltodict), and the
exact form POST that the `three` client (codeforamerica/three 0.8.0, Three.post -> _post_keywords) sends."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from chalice.config import Config
from chalice.local import LocalDevServer
from georeport import GeoReport

from tests.complaints_support import ROAD, filed
from tests.conftest import SAMATARING, post, staff_token


@pytest.fixture()
def endpoint(app: Any) -> Iterator[str]:
    """The app served by chalice's own local HTTP server on a free loopback port (moto stays in this process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = LocalDevServer(app, Config.create(), "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/open311/v2"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_georeport_client_reads_services_definitions_and_requests(client, citizen, endpoint, output_format):
    # Given a public road complaint in Samataring
    complaint = filed(client, citizen, category=ROAD, title="Jalan poros berlubang", lat=-5.1236, lon=120.2531)
    # When the unchanged georeport client reads the village's endpoint
    geo = GeoReport(endpoint, jurisdiction=SAMATARING, output_format=output_format)
    services = geo.get_service_list()
    definition = geo.get_service_definition(ROAD)
    listed = geo.get_service_requests(status="open", service_code=ROAD)
    one = geo.get_service_request(complaint["id"])
    # Then it understands every answer
    assert ROAD in {s["service_code"] for s in services}
    assert definition["service_code"] == ROAD
    if output_format == "xml":  # xmltodict gives one dict for a single element, a list for several
        listed = listed if isinstance(listed, list) else [listed]
    assert complaint["id"] in {r["service_request_id"] for r in listed}
    assert one["service_request_id"] == complaint["id"] and one["status"] == "open"
    assert str(one["lat"]) == "-5.1236"


def test_the_three_clients_post_is_accepted(client, endpoint):
    # Given a partner key
    issued = post(client, "/v1/kabupaten/73.07/open311-keys", {"partner": "Three"}, staff_token(client, "admin"))
    key = issued.json_body["api_key"]
    # When the exact fields `three` posts (address -> address_string, name -> first/last, api_key and
    # jurisdiction_id added; form-encoded by requests' data=) arrive
    fields = {"service_code": ROAD, "address_string": "Jl. Persatuan Raya 12", "first_name": "Andi",
              "last_name": "Baso", "phone": "081234500001", "description": "Jalan berlubang di depan masjid raya.",
              "jurisdiction_id": SAMATARING, "api_key": key}
    response = requests.Session().post(f"{endpoint}/requests.json", data=fields, timeout=10)
    # Then a service request id comes back
    assert response.status_code == 200, response.text
    assert response.json()[0]["service_request_id"]
    # And a failure is the spec's error array with its status
    refused = requests.post(f"{endpoint}/requests.json", data={**fields, "api_key": "salah"}, timeout=10)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
