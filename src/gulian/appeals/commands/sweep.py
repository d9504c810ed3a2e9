"""``gulian appeals sweep``: mark overdue appeals, notify, auto-escalate, retry webhooks (one pass).

Safe to run every few minutes from cron or a systemd timer (docs/cli.md, docs/appeals.md).
``--now`` runs the pass as of another moment (a naive time is Beijing time), e.g. to replay a day.
"""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from gulian.appeals import sla
from gulian.appeals.sweep import sweep

HELP = "超期扫描：标记超期、通知、按规定自动升级、重发 webhook / overdue sweep: mark, notify, escalate, retry webhooks"


def iso_datetime(value: str) -> dt.datetime:
    """An argparse type for an ISO 8601 date-time (without a zone: Asia/Shanghai)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"时间格式应为 ISO 8601，如 2020-02-03T09:00 / expected an ISO date-time such as 2020-02-03T09:00: {value}"
        )
    return timezone.make_aware(moment, sla.SHANGHAI) if timezone.is_naive(moment) else moment


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian appeals sweep``."""
    parser.add_argument("--now", type=iso_datetime, metavar="ISO-DATETIME",
                        help="run as of this moment (default: now; no zone = Beijing time)")  # fmt: skip


def run(command: BaseCommand, options: dict) -> None:
    """One sweep; print what it did."""
    report = sweep(options.get("now"))
    verbosity = options.get("verbosity", 1)
    command.stdout.write(f"{timezone.localtime(report.now, sla.SHANGHAI):%Y-%m-%d %H:%M} {report.summary()}")
    if verbosity >= 1:
        if report.marked_overdue:
            command.stdout.write("  超期 / overdue: " + " ".join(report.marked_overdue))
        if report.escalated:
            command.stdout.write("  升级 / escalated: " + " ".join(report.escalated))
    for number, error in report.escalation_errors:
        command.stderr.write(f"  {number}: {error}")
