"""The ``simreel`` command: a thin layer over the stage functions.

Sub-commands are imported only when invoked, so ``simreel render`` never loads the
simulator or torch, and ``simreel --help`` is instant.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
from typing import Any

import click

from schemas.atomic import command as output_command
from schemas.errors import SimreelError
from schemas.write_failures import explain
from stages.terminal import one_line, printable_lines

_COMMANDS = {
    "train": ("stages.train.cli", "train_command", "Train a MaskablePPO policy for a domain."),
    "sweep": (
        "stages.train.cli",
        "sweep_command",
        "Train many runs over seeds and settings: a results table and learning curves.",
    ),
    "evaluate": (
        "stages.train.cli",
        "evaluate_command",
        "Judge a model or baseline over many held-out episodes: means with intervals.",
    ),
    "record": (
        "stages.record",
        "record_command",
        "Run a policy and write episodes as an event table.",
    ),
    "inspect": ("stages.inspect", "inspect_command", "Summarise an event table with polars."),
    "export": (
        "stages.export",
        "export_command",
        "Write an event table as an OCEL 2.0 log (JSON or SQLite).",
    ),
    "render": ("stages.render.cli", "render_command", "Paint an event table into an MP4 movie."),
    "compare": (
        "stages.compare",
        "compare_command",
        "Compare two policies' tables: KPI means, intervals, a plot.",
    ),
    "domains": (
        "stages.domains_command",
        "domains_command",
        "List the installed domains: package, version, variants, KPIs, painter.",
    ),
    "check-domain": (
        "stages.domains_command",
        "check_domain_command",
        "Check that a domain keeps simreel's contract (masks, determinism, painter...).",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module_name, attribute, _ = _COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing must not import the sub-commands (that would load torch for --help).
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="simreel")
def cli() -> None:
    """simreel: train multi-actor policies over SimPy, record episodes, render movies.

    \b
    Example:
        simreel train --timesteps 200000
        simreel record --episodes 3 --out data/events/factory.parquet
        simreel render data/events/factory.parquet
    """


def main(argv: list[str] | None = None) -> Any:
    """Entry point: user mistakes become one line on stderr and exit code 2; Ctrl-C exits 130.

    Every message is made inert before it reaches the terminal (``stages.terminal``):
    it may quote a table's text or a file's name, which may hold escape sequences.

    An OSError that no stage turned into a SimreelError (the system refused a file: a full
    disk, no permission) is one line naming the file, the cause and the fix, exit code 1.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # Outputs changed after this moment were written by another command (schemas.atomic).
    with output_command():
        try:
            return cli.main(args=argv, prog_name="simreel", standalone_mode=False)
        except SimreelError as error:
            # The message may quote a table's text or a file's name: escaped, one line.
            click.echo(f"error: {one_line(str(error))}", err=True)
            sys.exit(error.exit_code)
        except OSError as error:
            cause, fix = explain(error)
            where = f"{os.fsdecode(error.filename)}: " if error.filename is not None else ""
            click.echo(f"error: {one_line(f'{where}{cause}; {fix}')}", err=True)
            sys.exit(1)
        except click.exceptions.Abort:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except click.ClickException as error:
            # Usage errors quote the arguments (a file name from anywhere): each line escaped.
            shown = io.StringIO()
            error.show(file=shown)
            click.echo(printable_lines(shown.getvalue()), err=True)
            sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
