"""gulian risk SUBCOMMAND …: chain-break risk from the command line (docs/cli.md, ``## gulian risk``)."""

from gulian.commandline import subcommand_command
from gulian.risk.commands import SUBCOMMANDS

Command = subcommand_command(
    SUBCOMMANDS, "断链风险：结构筛查、情景仿真、暴露分析、临近预测 / chain-break risk: screen, simulate, exposure, nowcast"
)
