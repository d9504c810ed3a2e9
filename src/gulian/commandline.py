"""Argument helpers shared by the ``gulian`` management commands."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import CommandError

from gulian.registry.io.access import actor_for


def iso_date(value: str) -> dt.date:
    """An argparse type for YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD / a date is YYYY-MM-DD: {value}")


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD option read inside ``handle``; a CommandError otherwise."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD / dates are YYYY-MM-DD: {text}")


def command_actor(username: str | None):
    """The named usable user, or the system administrator when none is named; a CommandError otherwise."""
    try:
        return actor_for(username)
    except LookupError as e:
        raise CommandError(str(e))
