"""The ``gulian`` console script: Django's management commands with Gulian's settings.

``gulian import enterprises FILE``, ``gulian audit verify``, ``gulian demo`` and
every Django command (``migrate``, ``runserver``, ...) are available; docs/cli.md
lists Gulian's own.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command, e.g. ``gulian migrate``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gulian.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gulian", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
