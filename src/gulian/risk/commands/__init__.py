"""``gulian risk`` subcommands.

One module each with ``HELP``, ``add_arguments(parser)`` and ``run(command, options)``.
``SUBCOMMANDS`` names the modules; docs/cli.md documents each one.
"""

SUBCOMMANDS = {
    "screen": "gulian.risk.commands.screen",
    "simulate": "gulian.risk.commands.simulate",
    "exposure": "gulian.risk.commands.exposure",
    "nowcast": "gulian.risk.commands.nowcast",
    "run": "gulian.risk.commands.run",
    "sweep": "gulian.risk.commands.sweep",
}
