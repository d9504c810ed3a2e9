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


def subcommand_command(subcommands: dict[str, str], help_text: str):
    """A management command class that dispatches ``gulian NAME SUBCOMMAND …`` to modules.

    ``subcommands`` maps a name to a module path; each module has ``HELP``, ``add_arguments(parser)`` and
    ``run(command, options)`` (``gulian risk``, ``gulian appeals``).
    """
    import importlib

    from django.core.management.base import BaseCommand

    def modules():
        return {name: importlib.import_module(path) for name, path in subcommands.items()}

    class Command(BaseCommand):
        help = help_text

        def add_arguments(self, parser):
            subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
            for name, module in modules().items():
                module.add_arguments(subparsers.add_parser(name, help=module.HELP, description=module.HELP))

        def handle(self, *args, subcommand: str, **options):
            modules()[subcommand].run(self, options)

    return Command
