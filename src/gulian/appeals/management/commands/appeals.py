"""gulian appeals SUBCOMMAND …: enterprise appeals from the command line (docs/cli.md, ``## gulian appeals``)."""

from gulian.appeals.commands import SUBCOMMANDS
from gulian.commandline import subcommand_command

Command = subcommand_command(
    SUBCOMMANDS, "企业诉求：超期扫描、分类模型训练 / enterprise appeals: overdue sweep, classifier training"
)
