"""gulian appeals SUBCOMMAND …: enterprise appeals from the command line (docs/cli.md, ``## gulian appeals``)."""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

from gulian.appeals.commands import SUBCOMMANDS


def _modules():
    return {name: importlib.import_module(path) for name, path in SUBCOMMANDS.items()}


class Command(BaseCommand):
    help = "企业诉求：超期扫描、分类模型训练 / enterprise appeals: overdue sweep, classifier training"

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, module in _modules().items():
            module.add_arguments(subparsers.add_parser(name, help=module.HELP, description=module.HELP))

    def handle(self, *args, subcommand: str, **options):
        _modules()[subcommand].run(self, options)
