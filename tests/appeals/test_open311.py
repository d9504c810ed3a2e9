"""Open311 GeoReport v2: the GET side through the independent `georeport` client, POST with raw HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from georeport import GeoReport

from gulian.appeals import services
from gulian.appeals.models import Appeal, Category
from gulian.core.models import ApiToken, Role


@pytest.fixture
def o311(two_cities, live_server, settings):
    w = two_cities
    w.hz_enterprise.enterprise = w.hz_firm
    w.hz_enterprise.save()
    w.nb_enterprise.enterprise = w.nb_firm
    w.nb_enterprise.save()
    w.root = f"{live_server.url}/open311/v2"
    w.hz_key = ApiToken.issue(w.hz_enterprise, "o311")[1]
    w.nb_key = ApiToken.issue(w.nb_enterprise, "o311")[1]
    w.hz_tf_key = ApiToken.issue(w.hz, "o311")[1]
    w.hz_appeal = services.submit(w.hz_enterprise, enterprise=w.hz_firm, title="通行证",
                                  text="货车进不了园区，请协调通行证", category="logistics").appeal
    w.nb_appeal = services.submit(w.nb_enterprise, enterprise=w.nb_firm, text="一线工人缺口 80 人",
                                  category="labour").appeal
    return w


def post(url, data, headers=None):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def netrc(tmp_path, monkeypatch, root, username, key):
    path = tmp_path / "netrc"
    path.write_text(f"machine {urlsplit(root).hostname} login {username} password {key}\n")
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))


def test_public_read_is_off_by_default(o311):
    with pytest.raises(Exception) as err:
        GeoReport(o311.root).get_service_list()
    assert "401" in str(err.value)


def test_public_read_redacted_through_the_client(o311, settings):
    settings.OPEN311_PUBLIC_READ = True
    client = GeoReport(o311.root)
    services_ = client.get_service_list()
    assert [s["service_code"] for s in services_] == list(Category.values)
    assert services_[0]["service_name"] == "物流运输" and services_[0]["metadata"] is True
    xml_services = GeoReport(o311.root, output_format="xml").get_service_list()
    assert [s["service_code"] for s in xml_services] == list(Category.values)
    definition = client.get_service_definition("logistics")
    assert {a["code"] for a in definition["attributes"]} == {"uscc", "urgency", "title", "related_uscc"}
    requests_ = client.get_service_requests()
    assert {r["service_request_id"] for r in requests_} == {o311.hz_appeal.tracking_number,
                                                             o311.nb_appeal.tracking_number}
    assert all("description" not in r and "address" not in r for r in requests_)  # redacted
    one = client.get_service_request(o311.hz_appeal.tracking_number)
    assert one["status"] == "open" and one["service_code"] == "logistics" and "description" not in one


def test_authenticated_reads_are_full_and_scoped(o311, tmp_path, monkeypatch):
    netrc(tmp_path, monkeypatch, o311.root, o311.nb_enterprise.username, o311.nb_key)
    client = GeoReport(o311.root)
    mine = client.get_service_requests()
    assert [r["service_request_id"] for r in mine] == [o311.nb_appeal.tracking_number]
    assert "一线工人" in mine[0]["description"] and mine[0]["agency_responsible"]
    with pytest.raises(Exception) as err:  # a Hangzhou request is not there for a Ningbo key
        client.get_service_request(o311.hz_appeal.tracking_number)
    assert "404" in str(err.value)
    netrc(tmp_path, monkeypatch, o311.root, o311.hz.username, o311.hz_tf_key)
    xml = GeoReport(o311.root, output_format="xml").get_service_requests(service_code="logistics", status="open")
    xml = xml if isinstance(xml, list) else [xml]
    assert [r["service_request_id"] for r in xml] == [o311.hz_appeal.tracking_number]
    assert GeoReport(o311.root).get_service_requests(status="closed") == []
    old = GeoReport(o311.root).get_service_requests(start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z")
    assert old == []


def test_post_files_an_appeal_and_a_retry_is_not_duplicated(o311):
    data = {"api_key": o311.hz_key, "service_code": "supply", "description": "上游供应商未复工，芯片断供",
            "attribute[urgency]": "urgent", "address_string": "杭州市西湖区", "token": "retry-1"}
    status, body = post(f"{o311.root}/requests.json", data)
    assert status == 201, body
    reply = json.loads(body)[0]
    appeal = Appeal.objects.get(tracking_number=reply["service_request_id"])
    assert (appeal.enterprise, appeal.category, appeal.urgency, appeal.channel) == (o311.hz_firm, "supply", "urgent",
                                                                                    "open311")
    assert appeal.address == "杭州市西湖区"
    status, body = post(f"{o311.root}/requests.json", data)
    assert status == 200 and json.loads(body)[0]["service_request_id"] == appeal.tracking_number
    assert Appeal.objects.filter(client_token="retry-1").count() == 1
    with urllib.request.urlopen(f"{o311.root}/tokens/retry-1.json?api_key={o311.hz_key}") as r:
        assert json.loads(r.read())[0]["service_request_id"] == appeal.tracking_number


def test_post_xml_response_and_bearer(o311):
    status, body = post(f"{o311.root}/requests.xml", {"service_code": "labour", "description": "缺工 50 人"},
                        {"Authorization": f"Bearer {o311.hz_key}"})
    assert status == 201
    root = ET.fromstring(body)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text.startswith("SQ")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"service_code": "weather", "description": "x"}, 404),
        ({"service_code": "labour", "description": " "}, 400),
        ({"service_code": "", "description": "缺工"}, 400),
        ({"service_code": "labour", "description": "缺工", "attribute[urgency]": "asap"}, 400),
    ],
)
def test_post_bad_input(o311, data, expected):
    n = Appeal.objects.count()
    status, body = post(f"{o311.root}/requests.json", {"api_key": o311.hz_key, **data})
    assert status == expected
    error = json.loads(body)[0]
    assert error["code"] == expected and " / " in error["description"]
    assert Appeal.objects.count() == n


def test_post_refuses_bad_keys_and_other_enterprises(o311):
    n = Appeal.objects.count()
    status, _ = post(f"{o311.root}/requests.json", {"api_key": "gl_wrong", "service_code": "labour",
                                                    "description": "缺工"})
    assert status == 403
    status, _ = post(f"{o311.root}/requests.json", {"service_code": "labour", "description": "缺工"})
    assert status == 403
    status, body = post(f"{o311.root}/requests.json", {"api_key": o311.hz_key, "service_code": "labour",
                                                       "description": "替宁波企业提交",
                                                       "attribute[uscc]": o311.nb_firm.uscc})
    assert status == 403, body
    assert Appeal.objects.count() == n
    assert o311.hz.role == Role.TASKFORCE
