"""Cross-check of grassroots' Open311 GeoReport v2 endpoint with a third-party client, PyPI `georeport` 0.3.1, in
both its JSON and XML modes (the client covers the read-only calls; POST goes through `requests`).

The server under test is a live `grassroots serve` (see conftest.py).

In XML mode georeport parses with xmltodict, so a list of one item comes back as a dict, not a list: `items()` below
normalises that.
"""

import pytest
import requests
from georeport import GeoReport

FORMATS = ["json", "xml"]


def items(value):
    """A georeport result as a list, whatever the format."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="session")
def root(server):
    return f"{server[0]}/open311/v2"


@pytest.fixture(scope="session")
def posted(server, root):
    """Two requests posted now, so that the default 90-day window holds something."""
    base, key = server
    if not key:
        pytest.skip("GRASSROOTS_API_KEY is needed to post against an external server")
    services = requests.get(f"{root}/services.json", timeout=10).json()
    code = next(s["service_code"] for s in services if s["group"] == "request")
    ids = []
    for description in ["路灯不亮 street light out", "road <cracked> & flooded"]:
        r = requests.post(
            f"{root}/requests.json",
            data={"api_key": key, "service_code": code, "address_string": "湖州市 吴兴区 月河街道", "description": description,
                  "email": "resident@example.cn", "first_name": "Li"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        ids.append(r.json()[0]["service_request_id"])
    return code, ids


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list(root, fmt):
    services = items(GeoReport(root, output_format=fmt).get_service_list())
    assert len(services) > 5
    for s in services:
        assert s["service_code"] and s["service_name"]
        assert str(s["metadata"]).lower() in ("true", "false")
        assert s["type"] in ("realtime", "batch", "blackbox")


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(root, posted, fmt):
    code, _ = posted
    definition = GeoReport(root, output_format=fmt).get_service_definition(code)
    assert definition["service_code"] == code
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = items(attributes["attribute"])
    codes = [a["code"] for a in attributes]
    assert "kind" in codes


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_by_id_and_one_request(root, posted, fmt):
    code, ids = posted
    client = GeoReport(root, output_format=fmt)
    found = items(client.get_service_requests(service_request_id=",".join(ids)))
    assert sorted(r["service_request_id"] for r in found) == sorted(ids)
    one = client.get_service_request(ids[0])
    assert one["service_request_id"] == ids[0]
    assert one["service_code"] == code
    assert one["status"] in ("open", "closed")
    # No personal data in public output.
    text = str(one)
    assert "resident@example.cn" not in text and "Li" != one.get("description")


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_filtered(root, posted, fmt):
    code, ids = posted
    client = GeoReport(root, output_format=fmt)
    open_now = items(client.get_service_requests(service_code=code, status="open"))
    assert set(ids) <= {r["service_request_id"] for r in open_now}
    assert all(r["service_code"] == code and r["status"] == "open" for r in open_now)


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_result_in_xml_is_a_dict(root, posted, fmt):
    _, ids = posted
    one = GeoReport(root, output_format=fmt).get_service_requests(service_request_id=ids[1])
    if fmt == "xml":
        assert isinstance(one, dict)
        assert one["description"] == "road <cracked> & flooded"
    else:
        assert isinstance(one, list) and len(one) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_span_over_90_days_is_refused(root, fmt):
    client = GeoReport(root, output_format=fmt)
    with pytest.raises(requests.HTTPError) as err:
        client.get_service_requests(start_date="2025-01-01T00:00:00Z", end_date="2025-06-01T00:00:00Z")
    assert err.value.response.status_code == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request_is_404(root, fmt):
    with pytest.raises(requests.HTTPError) as err:
        GeoReport(root, output_format=fmt).get_service_request("987654321")
    assert err.value.response.status_code == 404
