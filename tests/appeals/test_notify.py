"""Notifications: who hears of what, e-mail after commit, the signed webhook (a real local receiver), the inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from gulian.appeals import notify, services
from gulian.appeals.models import EventKind, Notification, WebhookDelivery
from gulian.appeals.sweep import sweep
from gulian.core.models import Role

SECRET = "s3cret-测试"


@pytest.fixture
def world(two_cities, make_user, settings):
    settings.APPEALS_WEBHOOK_URL = ""
    settings.APPEALS_SLA = {"normal": (1, 5), "urgent": (1, 3), "critical": (0, 1)}
    w = two_cities
    w.hz_enterprise.email = "boss@hz-firm.example"
    w.hz_enterprise.save()
    w.clerk = make_user(Role.ENTERPRISE, "330106", enterprise=w.hz_firm)  # no address: in-app only
    w.pending = make_user(Role.ENTERPRISE, "330106", enterprise=w.hz_firm, approved=False)
    w.handler = make_user(Role.HANDLER, "330106", department="transport", email="h1@xihu.gov.example")
    w.handler2 = make_user(Role.HANDLER, "330106", department="transport")
    w.other_dept = make_user(Role.HANDLER, "330106", department="hrss", email="hrss@xihu.gov.example")
    w.nb_transport = make_user(Role.HANDLER, "330203", department="transport", email="t@nb.gov.example")
    return w


def file(w, actor=None, **kw):
    kw.setdefault("text", "园区封闭，货车无法进出，原材料运不进来")
    kw.setdefault("category", "logistics")
    return services.submit(actor or w.hz_enterprise, enterprise=w.hz_firm, title="物流受阻", **kw).appeal


def told(user, kind=None):
    qs = Notification.objects.filter(recipient=user)
    return qs.filter(kind=kind).count() if kind else qs.count()


# --- recipients ---------------------------------------------------------------------------------


def test_a_submission_tells_the_handling_unit_once_and_not_the_enterprise(world):
    a = file(world)
    assert a.department.code == "transport" and a.handling_region_id == "330106"
    assert told(world.handler, EventKind.SUBMITTED) == 1 and told(world.handler2, EventKind.SUBMITTED) == 1
    assert told(world.handler) == 1  # the intake ROUTED event does not notify a second time
    for u in (world.hz_enterprise, world.clerk, world.other_dept, world.nb_transport, world.hz_county):
        assert told(u) == 0, u
    n = Notification.objects.get(recipient=world.handler)
    assert n.appeal == a and a.tracking_number in n.message and "物流受阻" in n.message and n.read_at is None


def test_enterprise_side_hears_of_the_steps_that_concern_it_never_the_actor(world):
    a = file(world)
    services.accept(world.handler, a, "已受理，正在协调")
    # the enterprise's approved users and the submitter; not the unapproved one, not the acting handler
    assert told(world.hz_enterprise, EventKind.ACCEPTED) == 1 and told(world.clerk, EventKind.ACCEPTED) == 1
    assert told(world.pending) == 0
    assert told(world.handler, EventKind.ACCEPTED) == 0 and told(world.handler2, EventKind.ACCEPTED) == 0
    services.ask(world.handler, a, "需要几张通行证？")
    assert told(world.clerk, EventKind.QUESTION) == 1
    services.answer(world.hz_enterprise, a, "三张")
    assert told(world.handler, EventKind.ANSWER) == 1 and told(world.handler2, EventKind.ANSWER) == 1
    assert told(world.hz_enterprise, EventKind.ANSWER) == 0 and told(world.clerk, EventKind.ANSWER) == 0
    services.resolve(world.handler, a, "已办理通行证三张")
    assert told(world.clerk, EventKind.RESOLVED) == 1
    services.confirm(world.hz_enterprise, a, 5, "很及时")
    assert told(world.handler, EventKind.CONFIRMED) == 1 and told(world.clerk, EventKind.CONFIRMED) == 0
    services.close(world.handler, a)
    assert told(world.hz_enterprise, EventKind.CLOSED) == 1
    assert told(world.nb_transport) == 0 and told(world.other_dept) == 0


def test_comments_go_to_the_other_side_and_internal_notes_stay_inside(world):
    a = file(world)
    services.comment(world.hz_enterprise, a, "请尽快")  # by the enterprise → the unit
    assert told(world.handler, EventKind.COMMENT) == 1 and told(world.handler2, EventKind.COMMENT) == 1
    assert told(world.clerk, EventKind.COMMENT) == 0
    services.comment(world.handler, a, "收到，今天处理")  # by an official → the enterprise side
    assert told(world.clerk, EventKind.COMMENT) == 1 and told(world.hz_enterprise, EventKind.COMMENT) == 1
    assert told(world.handler2, EventKind.COMMENT) == 1  # unchanged
    services.comment(world.handler, a, "内部：需交警配合", internal=True)  # internal → colleagues only
    assert told(world.clerk, EventKind.COMMENT) == 1 and told(world.hz_enterprise, EventKind.COMMENT) == 1
    assert told(world.handler2, EventKind.COMMENT) == 2 and told(world.handler, EventKind.COMMENT) == 1
    services.meeting_note(world.handler, a, "会商：交警、交通联合办理")
    assert Notification.objects.filter(kind=EventKind.MEETING).count() == 0


def test_a_liaison_who_filed_hears_of_acceptance_and_escalation_reaches_the_new_unit(world):
    a = file(world, actor=world.liaison_hz)
    services.accept(world.handler, a)
    assert told(world.liaison_hz, EventKind.ACCEPTED) == 1 and told(world.hz_enterprise, EventKind.ACCEPTED) == 1
    services.escalate(world.handler, a, "涉及市级统筹")
    assert told(world.hz, EventKind.ESCALATED) == 1  # Hangzhou task force, the new unit
    assert told(world.liaison_hz, EventKind.ESCALATED) == 1 and told(world.clerk, EventKind.ESCALATED) == 1
    assert told(world.handler, EventKind.ESCALATED) == 0  # the actor


# --- e-mail -------------------------------------------------------------------------------------


def test_email_after_commit_reaches_the_recipients_with_an_address(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        a = file(world)
        assert mailoutbox == []  # nothing before the commit
    assert callbacks
    assert [m.to for m in mailoutbox] == [["h1@xihu.gov.example"]]  # handler2 has no address
    assert a.tracking_number in mailoutbox[0].subject and "物流受阻" in mailoutbox[0].body
    assert Notification.objects.get(recipient=world.handler).emailed_at is not None
    assert Notification.objects.get(recipient=world.handler2).emailed_at is None
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.accept(world.handler, a)
    assert sorted(m.to[0] for m in mailoutbox) == ["boss@hz-firm.example"]
    assert mailoutbox[0].from_email == "gulian@localhost" or "@" in mailoutbox[0].from_email


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


def test_a_mail_failure_is_logged_and_breaks_nothing(world, settings, caplog, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    with caplog.at_level(logging.ERROR, logger="gulian.appeals.notify"):
        with django_capture_on_commit_callbacks(execute=True):
            a = file(world)
    assert a.pk and told(world.handler) == 1
    assert Notification.objects.get(recipient=world.handler).emailed_at is None
    assert any("e-mail failed" in r.getMessage() for r in caplog.records)


# --- webhook ------------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1 that checks the signature itself (independently of notify)."""

    def __init__(self, secret: str):
        self.secret = secret.encode()
        self.fail_next = 0
        self.received: list[tuple[dict, dict]] = []
        self.rejected: list[bytes] = []
        self.url = ""


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    rec = Receiver(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ts, sig = self.headers.get("X-Gulian-Timestamp", ""), self.headers.get("X-Gulian-Signature", "")
            mine = "sha256=" + hmac.new(rec.secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 300
            if not (fresh and hmac.compare_digest(mine, sig)):
                rec.rejected.append(body)
                self.send_response(401)
            elif rec.fail_next > 0:
                rec.fail_next -= 1
                self.send_response(500)
            else:
                rec.received.append((dict(self.headers), json.loads(body)))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooked(world, receiver, settings):
    settings.APPEALS_WEBHOOK_URL = receiver.url
    settings.APPEALS_WEBHOOK_SECRET = SECRET
    return world


def test_signed_webhook_reaches_a_real_receiver_after_commit(hooked, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = file(hooked)
        assert receiver.received == []
    assert receiver.rejected == []
    assert [p["event"] for _h, p in receiver.received] == ["submitted", "routed"]
    headers, payload = receiver.received[0]
    assert headers["X-Gulian-Event"] == "submitted" and headers["Content-Type"].startswith("application/json")
    assert payload["appeal"]["tracking_number"] == a.tracking_number
    assert payload["appeal"]["status"] == "submitted" and payload["appeal"]["level"] == "county"
    assert payload["appeal"]["department"] == "transport" and payload["appeal"]["region"] == "330106"
    assert payload["enterprise"] == {"uscc": hooked.hz_firm.uscc, "name": "杭州甲公司"}
    raw = json.dumps(payload, ensure_ascii=False)
    assert "园区封闭" not in raw and hooked.hz_enterprise.username not in raw  # no text, no people
    assert all(d.delivered_at and d.attempts == 1 and not d.last_error for d in WebhookDelivery.objects.all())


def test_a_failed_delivery_is_recorded_and_retried_by_the_sweep(hooked, receiver, django_capture_on_commit_callbacks):
    receiver.fail_next = 2
    with django_capture_on_commit_callbacks(execute=True):
        file(hooked)
    assert receiver.received == []
    failed = list(WebhookDelivery.objects.order_by("pk"))
    assert [(d.attempts, d.delivered_at, d.last_error[:8]) for d in failed] == [(1, None, "HTTP 500")] * 2
    report = sweep()
    assert report.webhooks_delivered == 2 and report.webhooks_failed == 0
    assert sorted(p["event"] for _h, p in receiver.received) == ["routed", "submitted"]
    assert all(d.delivered_at and d.attempts == 2 and d.last_error == "" for d in WebhookDelivery.objects.all())
    assert sweep().webhooks_delivered == 0  # nothing left to send


def test_retries_stop_at_the_cap(hooked, receiver, django_capture_on_commit_callbacks):
    receiver.fail_next = 10**6
    with django_capture_on_commit_callbacks(execute=True):
        file(hooked)
    for _ in range(notify.WEBHOOK_MAX_ATTEMPTS + 2):
        sweep()
    attempts = set(WebhookDelivery.objects.values_list("attempts", flat=True))
    assert attempts == {notify.WEBHOOK_MAX_ATTEMPTS}
    assert sweep().webhooks_failed == 0  # no longer tried


def test_an_unreachable_receiver_does_not_break_the_request(world, settings, django_capture_on_commit_callbacks):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.APPEALS_WEBHOOK_URL = f"http://127.0.0.1:{port}/hook"
    settings.APPEALS_WEBHOOK_SECRET = SECRET
    with django_capture_on_commit_callbacks(execute=True):
        a = file(world)
    assert a.pk
    d = WebhookDelivery.objects.first()
    assert d.attempts == 1 and d.delivered_at is None and d.last_error


def test_without_a_secret_nothing_is_sent_and_the_delivery_waits(world, receiver, settings,
                                                                  django_capture_on_commit_callbacks):  # fmt: skip
    settings.APPEALS_WEBHOOK_URL = receiver.url
    settings.APPEALS_WEBHOOK_SECRET = ""
    with django_capture_on_commit_callbacks(execute=True):
        file(world)
    assert receiver.received == [] and receiver.rejected == []
    assert {(d.attempts, "SECRET" in d.last_error) for d in WebhookDelivery.objects.all()} == {(0, True)}
    settings.APPEALS_WEBHOOK_SECRET = SECRET
    assert sweep().webhooks_delivered == 2 and len(receiver.received) == 2


def test_no_webhook_rows_without_a_url(world):
    file(world)
    assert not WebhookDelivery.objects.exists()


def test_verify_signature_for_receivers():
    body = b'{"event":"accepted"}'
    ts = str(int(time.time()))
    sig = notify.sign(SECRET, ts, body)
    assert sig == "sha256=" + hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert notify.verify_signature(SECRET, ts, body, sig)
    assert notify.verify_signature(SECRET, int(ts), body.decode(), sig)  # str body, int timestamp
    assert not notify.verify_signature("other", ts, body, sig)
    assert not notify.verify_signature(SECRET, ts, body + b" ", sig)
    assert not notify.verify_signature(SECRET, str(int(ts) + 1), body, sig)
    assert not notify.verify_signature(SECRET, ts, body, sig, now=int(ts) + 301)  # a replay after 5 minutes
    assert notify.verify_signature(SECRET, ts, body, sig, now=int(ts) + 299)
    assert not notify.verify_signature(SECRET, "yesterday", body, sig)
    assert not notify.verify_signature(SECRET, ts, body, "")


# --- the inbox ----------------------------------------------------------------------------------


def test_inbox_lists_newest_first_with_unread_bold_and_marks_read(world, client):
    a = file(world)
    services.comment(world.hz_enterprise, a, "第二条")
    assert notify.unread_count(world.handler) == 2
    client.force_login(world.handler)
    page = client.get(reverse("appeals:notifications"))
    assert page.status_code == 200
    html = page.content.decode()
    first, second = (Notification.objects.filter(recipient=world.handler).order_by("-created_at", "-id"))
    assert html.index(f'id="notification-{first.pk}"') < html.index(f'id="notification-{second.pk}"')
    assert html.count('class="unread"') == 2 and "<strong>" in html
    assert client.get(reverse("appeals:notification_read", args=[first.pk])).status_code == 405
    r = client.post(reverse("appeals:notification_read", args=[first.pk]))
    assert r.status_code == 302 and r.url == reverse("appeals:notifications")
    first.refresh_from_db()
    assert first.read_at is not None and notify.unread_count(world.handler) == 1
    unread_page = client.get(reverse("appeals:notifications") + "?unread=1").content.decode()
    assert f'id="notification-{first.pk}"' not in unread_page and f'id="notification-{second.pk}"' in unread_page
    detail = reverse("appeals:appeal_detail", args=[a.pk])
    assert f'value="{detail}"' in html  # opening a notice marks it read and goes to the appeal
    r = client.post(reverse("appeals:notification_read", args=[second.pk]), {"next": detail})
    assert r.status_code == 302 and r.url == detail
    assert notify.unread_count(world.handler) == 0
    # someone else's notice: not found
    other = Notification.objects.filter(recipient=world.handler2).first()
    assert client.post(reverse("appeals:notification_read", args=[other.pk])).status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None
    # an unsafe next is ignored
    r = client.post(reverse("appeals:notifications_read_all"), {"next": "https://evil.example/"})
    assert r.status_code == 302 and r.url == reverse("appeals:notifications")
    assert notify.unread_count(world.handler2) == 2
    services.comment(world.hz_enterprise, a, "第三条")
    client.post(reverse("appeals:notifications_read_all"))
    assert notify.unread_count(world.handler) == 0 and notify.unread_count(world.handler2) == 3


def test_inbox_needs_a_signed_in_user(client, world):
    r = client.get(reverse("appeals:notifications"))
    assert r.status_code == 302 and "login" in r.url
