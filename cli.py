"""The ``childlink`` command: thin click commands over the ``linkage`` library.

Each command parses its arguments, calls one library function and prints the result.
A ChildlinkError (bad input the user can fix) is printed as one line, exit code 2;
any other failure prints one line without personal data (``--debug`` shows the traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from linkage.errors import ChildlinkError


class _Group(click.Group):
    """A click group that turns exceptions into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ChildlinkError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence for the user
            if ctx.find_root().params.get("debug"):
                raise
            # The exception text may quote data, so only its type is shown.
            click.echo(f"error: internal error ({type(exc).__name__}); rerun with --debug for details",
                       err=True)
            ctx.exit(1)


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, help="Show full tracebacks for internal errors.")
@click.version_option(package_name="childlink")
def main(debug: bool) -> None:
    """childlink: link children's records across services and find children missing education."""


def _job(path: str):
    from linkage.job import load_job

    return load_job(path)


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
def validate(job: str) -> None:
    """Read and standardise every source of JOB and print a data-quality summary.

    Exits 0 unless a problem stops the job (exit 2 for bad input, 3 for a source with no usable records).
    """
    from linkage.prepare import validate as run_validate
    from linkage.quality import format_summary
    from linkage.workspace import open_workspace

    summary = run_validate(_job(job), open_workspace())
    click.echo(format_summary(summary))
    if summary.fatal:
        sys.exit(3)


@main.group()
def sample() -> None:
    """Synthetic worlds with ground truth, for testing and evaluation."""


@sample.command("generate")
@click.option("--children", type=click.IntRange(1), default=2000, show_default=True,
              help="Number of children in the world.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same world).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder to write into.")
@click.option("--nhs-coverage", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of education records that carry an NHS number.")
def sample_generate(children: int, seed: int, out: str, nhs_coverage: float) -> None:
    """Generate a world of CHILDREN children: five sources, CME cases, job.yaml and truth."""
    from linkage.synthetic import build_world

    summary = build_world(children, seed, Path(out), nhs_coverage=nhs_coverage)
    click.echo(str(summary))


if __name__ == "__main__":
    main()
