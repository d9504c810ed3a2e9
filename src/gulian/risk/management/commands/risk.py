"""gulian risk SUBCOMMAND …: chain-break risk from the command line (docs/cli.md, ``## gulian risk``)."""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

from gulian.risk.commands import SUBCOMMANDS


def _modules():
    return {name: importlib.import_module(path) for name, path in SUBCOMMANDS.items()}


class Command(BaseCommand):
    help = "断链风险：结构筛查、情景仿真、暴露分析、临近预测 / chain-break risk: screen, simulate, exposure, nowcast"

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, module in _modules().items():
            module.add_arguments(subparsers.add_parser(name, help=module.HELP, description=module.HELP))

    def handle(self, *args, subcommand: str, **options):
        _modules()[subcommand].run(self, options)
