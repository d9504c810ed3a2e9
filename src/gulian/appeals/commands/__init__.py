"""``gulian appeals`` subcommands.

One module each with ``HELP``, ``add_arguments(parser)`` and ``run(command, options)``.
``SUBCOMMANDS`` names the modules; docs/cli.md documents each one.
"""

SUBCOMMANDS = {
    "train": "gulian.appeals.commands.train",
    "sweep": "gulian.appeals.commands.sweep",
}
