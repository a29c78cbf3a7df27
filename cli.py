"""The ``childlink`` command: thin click commands over the ``linkage`` library.

Each command parses its arguments, calls one library function and prints the result.
A ChildlinkError (bad input the user can fix) is printed as one line, exit code 2;
any other failure prints one line without personal data (``--debug`` shows the traceback).
"""

from __future__ import annotations

import logging
import sys
import time
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
@click.option("--verbose", is_flag=True, help="Log what childlink and Splink are doing to stderr (never personal data).")
@click.version_option(package_name="childlink")
def main(debug: bool, verbose: bool) -> None:
    """childlink: link children's records across services and find children missing education."""
    if verbose:
        _log_verbosely()


class _EchoHandler(logging.Handler):
    """Log lines to stderr through click, so they go wherever click's error output goes."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:  # noqa: BLE001 - logging must never stop a run
            self.handleError(record)


def _log_verbosely() -> None:
    """DEBUG logging for childlink and Splink. Splink's module loggers sit under ``splink.internals``,
    whose level survives the ``Linker(log_level=ERROR)`` the library uses to keep normal runs quiet."""
    handler = _EchoHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    for name in ("childlink", "linkage", "splink", "splink.internals"):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, _EchoHandler)]
        logger.setLevel(logging.DEBUG)
        if name != "splink.internals":   # its records reach the handler on "splink"
            logger.addHandler(handler)


_quiet_option = click.option("--quiet", is_flag=True,
                             help="No progress bar and no phase timings (for scheduled jobs); errors and the "
                                  "one-line summary still print.")


class _progress:
    """How a long command reports (protocol in ``linkage.progress``): a rich bar per phase on stderr,
    with an ETA when the work is counted, then the phase timings and a one-line summary (wall time,
    peak memory) on stderr. With --quiet the library gets no callback: no bar, no timings, summary only."""

    def __init__(self, quiet: bool):
        from linkage.progress import PhaseTimer

        self.quiet, self.bar, self.tasks = quiet, None, {}
        self.timer = PhaseTimer(None if quiet else self._draw)   # times the phases the library reports
        self.started = time.perf_counter()

    def __enter__(self) -> "_progress":
        if not self.quiet:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                                transient=True)
            self.bar.__enter__()
        return self

    @property
    def callback(self):
        """The ``progress`` argument for library functions: None with --quiet."""
        return None if self.quiet else self.timer

    def phase(self, name: str):
        """Time a library call that reports no phases of its own, as phase ``name``."""
        from linkage.progress import PhaseTimer

        return PhaseTimer(self.callback).phase(name)

    def _draw(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=None)   # size unknown until a total arrives
        self.bar.update(self.tasks[phase], completed=done, total=total or None)

    def __exit__(self, *exc) -> None:
        if self.bar:
            self.bar.__exit__(*exc)

    def finish(self, what: str) -> None:
        """Print the phase timings (not with --quiet) and the summary line: ``what`` plus time and memory."""
        from linkage.progress import format_timings, summary_line

        if not self.quiet and self.timer.timings:
            click.echo(format_timings(self.timer.timings), err=True)
        click.echo(summary_line(what, time.perf_counter() - self.started), err=True)


def _job(path: str):
    from linkage.job import load_job

    return load_job(path)


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Also write rejects.csv and quality.csv here.")
@_quiet_option
def validate(job: str, out: str | None, quiet: bool) -> None:
    """Read and standardise every source of JOB and print a data-quality summary.

    Exits 0 unless a problem stops the job (exit 2 for bad input, 3 for a source with no usable records).
    """
    from linkage.prepare import validate as run_validate
    from linkage.quality import format_summary
    from linkage.workspace import open_workspace

    with _progress(quiet) as progress:
        summary = run_validate(_job(job), open_workspace(), out_dir=out, progress=progress.callback)
    click.echo(format_summary(summary))
    progress.finish(f"validated {sum(q.records for q in summary.sources):,} records "
                    f"from {len(summary.sources)} source(s)")
    if summary.fatal:
        sys.exit(3)


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--truth", type=click.Path(dir_okay=False), help="truth.csv, to measure blocking recall.")
@_quiet_option
def blocking(job: str, truth: str | None, quiet: bool) -> None:
    """Pairs generated by each blocking rule of JOB, alone and cumulatively (and recall with --truth)."""
    from linkage.blocking import analyse_job

    with _progress(quiet) as progress:
        table = analyse_job(_job(job), truth=truth, progress=progress.callback)
    click.echo(table.to_string(index=False))
    progress.finish(f"counted {int(table['new_pairs'].sum()):,} pairs from {len(table)} blocking rule(s)")


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Model JSON to write.")
@click.option("--labels", "truth", type=click.Path(dir_okay=False),
              help="truth.csv of known identities: estimate m from them instead of by EM.")
@_quiet_option
def train(job: str, out: str, truth: str | None, quiet: bool) -> None:
    """Train a linkage model on JOB's records and save it to OUT."""
    from linkage.train import train_job

    with _progress(quiet) as progress:
        result = train_job(_job(job), out, truth=truth, progress=progress.callback)
    for problem in result.problems + result.notes:
        click.echo(f"warning: {problem}", err=True)
    if result.fell_back:
        state = "FAILED the EM guard, so the default model was saved instead"
    elif result.problems:
        state = "FAILED the EM guard and no default model was found: check the model before use"
    else:
        state = "passed the EM guard"
    click.echo(f"trained ({result.method}), {state}; model written to {out}")
    progress.finish(f"trained a model ({result.method})")


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the outputs.")
@click.option("--model", type=click.Path(dir_okay=False), help="Model JSON (default: the job's, else models/default.json).")
@click.option("--chunks", type=click.IntRange(1, 64),
              help="Score in CHUNKS x CHUNKS blocks to bound memory (default: one per 1,500,000 records).")
@click.option("--truth", type=click.Path(dir_okay=False),
              help="truth.csv: after linking, score the run and put the figures in the report.")
@_quiet_option
@click.option("--incremental", is_flag=True,
              help="Standardise and score only records new or changed since the workspace's last run "
                   "(same identities as a full run).")
@click.option("--backend", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Where pairs are scored: DuckDB on this machine, or Spark (pip install 'childlink[spark]'; "
                   "local mode unless the Spark configuration names a cluster).")
def link(job: str, out: str, model: str | None, chunks: int | None, truth: str | None, quiet: bool,
         incremental: bool, backend: str) -> None:
    """Link JOB's records into one identity per child; write identities, pairs, rejects and report.

    Each child keeps its child_id from run to run: IDs live in the job's workspace (linkage.workspace
    in the job file, default .childlink/ beside it), which also keeps an audit log of every run.
    """
    from linkage.link import link as run_link

    with _progress(quiet) as progress:
        result = run_link(_job(job), out, model_path=model, chunks=chunks, progress=progress.callback, truth=truth,
                          incremental=incremental, backend=backend)
    click.echo(result.summary())
    if result.evaluation is not None:
        click.echo(result.evaluation.format())
    progress.finish(f"linked {result.prepared.n_records:,} records into "
                    f"{result.cluster_stats['identities']:,} identities")


class _DefaultSubcommandGroup(click.Group):
    """A group whose first argument, when it names none of its subcommands, goes to the ``run``
    subcommand: ``childlink evaluate JOB --run DIR ...`` keeps working beside the what-ifs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@main.group("evaluate", cls=_DefaultSubcommandGroup)
def evaluate_group() -> None:
    """Measure linkage against ground truth or labels: a link run (`childlink evaluate JOB --run DIR ...`,
    the same as `evaluate run`), or the NHS-number what-if (`evaluate nhs-adoption`)."""


@evaluate_group.command("run")
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--run", "run_dir", type=click.Path(file_okay=False), required=True, help="Output folder of a link run.")
@click.option("--truth", type=click.Path(dir_okay=False), help="truth.csv (source, record_id, person_id).")
@click.option("--labels", type=click.Path(dir_okay=False),
              help="Clerical labels from 'childlink review export': accuracy of the identities and the model's score.")
@_quiet_option
def evaluate(job: str, run_dir: str, truth: str | None, labels: str | None, quiet: bool) -> None:
    """Measure a link run against ground truth (pairwise, B-cubed, exact reconstruction, equity)
    and/or against officers' review decisions (--labels). Give --truth, --labels or both."""
    if truth is None and labels is None:
        raise click.UsageError("give --truth, --labels or both")
    loaded = _job(job)
    against = []
    with _progress(quiet) as progress:
        if truth is not None:
            from linkage.evaluate.run import evaluate_run

            against.append(evaluate_run(run_dir, truth, reference_date=loaded.reference_date,
                                        progress=progress.callback))
        if labels is not None:
            from linkage.evaluate.labels import evaluate_labels_run

            with progress.phase("score against labels"):
                against.append(evaluate_labels_run(run_dir, labels, match_threshold=loaded.linkage.match_threshold))
    for evaluation in against:
        click.echo(evaluation.format())
    progress.finish("evaluated the run against " + " and ".join(
        name for name, given in (("the truth", truth), ("the labels", labels)) if given))


def _comma_list(convert):
    """A click callback turning '0,0.5,1' into a tuple, each item through ``convert``."""
    def parse(ctx, param, value):
        if value is None:
            return ()
        try:
            return tuple(convert(item.strip()) for item in value.split(",") if item.strip())
        except ValueError:
            raise click.BadParameter("expected a comma-separated list, e.g. " + str(param.default or "a,b")) from None
    return parse


@evaluate_group.command("nhs-adoption")
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--truth", type=click.Path(dir_okay=False), required=True,
              help="truth.csv, with cme_truth.csv and truth_not_in_education.csv beside it.")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the outputs.")
@click.option("--coverage", default="0,0.25,0.5,0.75,0.95,1.0", show_default=True, callback=_comma_list(float),
              help="Shares of the chosen sources' records that carry an NHS number.")
@click.option("--sources", callback=_comma_list(str),
              help="Sources given NHS numbers, comma-separated (default: the job's education sources).")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of the given numbers that are mistyped.")
@click.option("--undetected-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of the mistyped numbers that are another child's valid number (no check digit catches them).")
@click.option("--seeds", default="1,2,3", show_default=True, callback=_comma_list(int),
              help="Random draws of which records carry a number; the report shows the spread.")
@click.option("--numbers", type=click.Choice(["truth", "existing"]), default="truth", show_default=True,
              help="truth: each record's child's NHS number (from their GP records); existing: keep a share of "
                   "the source's own numbers (pilot data).")
@click.option("--model", type=click.Path(dir_okay=False), help="Model JSON (default: the job's, else models/default.json).")
@click.option("--source-value/--no-source-value", default=True, show_default=True,
              help="Also trace without each source in turn: what each source is worth to CME tracing.")
@click.option("--keep-work", is_flag=True,
              help="Keep the masked copies (personal data) and every run in OUT/.nhs_adoption_work.")
@_quiet_option
def evaluate_nhs_adoption(job: str, truth: str, out: str, coverage: tuple, sources: tuple, error_rate: float,
                          undetected_share: float, seeds: tuple, numbers: str, model: str | None,
                          source_value: bool, keep_work: bool, quiet: bool) -> None:
    """What-if: linkage and CME tracing as services record NHS numbers, for three strategies.

    Deterministic (NHS number only), probabilistic (the model without NHS numbers) and hybrid (the
    model as it is), on identical copies of JOB's sources; writes nhs_adoption.html and .csv to OUT.
    """
    from linkage.evaluate.nhs_adoption import AdoptionSettings, evaluate_nhs_adoption as run_what_if
    from linkage.evaluate.nhs_masking import MaskPlan

    settings = AdoptionSettings(
        plan=MaskPlan(sources=sources, error_rate=error_rate, undetected_share=undetected_share, numbers=numbers),
        coverage=coverage, seeds=seeds, source_value=source_value, keep_work=keep_work,
        model_path=Path(model) if model else None)
    with _progress(quiet) as progress:
        result = run_what_if(_job(job), truth, out, settings, progress=progress.callback)
    click.echo(result.summary_text())
    progress.finish(f"evaluated {len(result.runs):,} strategy runs on "
                    f"{len(result.settings.coverage) * len(result.settings.seeds)} masked copies")


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the trace outputs.")
@click.option("--run", "run_dir", type=click.Path(file_okay=False),
              help="Output folder of a link run of JOB (default: link first, into OUT/link).")
@click.option("--model", type=click.Path(dir_okay=False), help="Model JSON when linking first (as for link).")
@_quiet_option
def trace(job: str, out: str, run_dir: str | None, model: str | None, quiet: bool) -> None:
    """Trace JOB's CME cases and list children in the area with no school place; write CSVs and trace.html."""
    from linkage.trace.run import trace_job

    with _progress(quiet) as progress:
        result = trace_job(_job(job), out, run_dir=run_dir, model_path=model, progress=progress.callback)
    click.echo(result.summary())
    progress.finish(f"traced {len(result.tables.cases):,} CME case(s) and found "
                    f"{len(result.tables.not_in_education):,} child(ren) not in education")


@main.group()
def review() -> None:
    """Clerical review of uncertain matches by CME officers, in a local web app."""


@review.command("serve")
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--run", "run_dir", type=click.Path(file_okay=False), required=True, help="Output folder of a link run of JOB.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (this machine only by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0 picks a free one).")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host other than this machine; needs a reviewer password (job file review.password "
                   "or CHILDLINK_REVIEW_PASSWORD).")
@click.option("--blind", is_flag=True, help="Hide the model's scores and evidence while deciding.")
def review_serve(job: str, run_dir: str, host: str, port: int, allow_remote: bool, blind: bool) -> None:
    """Serve the review queue of a link run; decisions go to the job's workspace (review.sqlite)."""
    from linkage.review.serve import serve

    def announce(serving) -> None:
        click.echo(f"{serving.queue_size} pair(s) in the queue. Open this address in a browser "
                   f"(it holds the access code {serving.token}):\n  {serving.url}\nPress Ctrl+C to stop.")

    serve(_job(job), run_dir, host=host, port=port, allow_remote=allow_remote, blind=blind, announce=announce)


@review.command("export")
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Labels CSV to write.")
@click.option("--truth-out", type=click.Path(dir_okay=False),
              help="Also write the decisions as a truth file (source, record_id, person_id) for train --labels.")
@_quiet_option
def review_export(job: str, out: str, truth_out: str | None, quiet: bool) -> None:
    """Write JOB's review decisions as labels, for evaluate --labels (and train --labels)."""
    from linkage.review.export import export_labels

    with _progress(quiet) as progress:
        result = export_labels(_job(job), out, truth_out=truth_out, progress=progress.callback)
    click.echo(result.summary(Path(out), Path(truth_out) if truth_out else None))
    progress.finish(f"exported {result.labels:,} decided pair(s)")


@main.command()
@click.argument("job", type=click.Path(dir_okay=False))
@click.option("--forename", required=True, help="Forename as given.")
@click.option("--surname", required=True, help="Surname as given.")
@click.option("--dob", required=True, help="Date of birth, YYYY-MM-DD or DD/MM/YYYY.")
@click.option("--postcode", help="Postcode, if known.")
@click.option("--sex", help="M or F, if known.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Most candidates to show.")
def find(job: str, forename: str, surname: str, dob: str, postcode: str | None, sex: str | None, limit: int) -> None:
    """Which child is this? Candidate identities in JOB's workspace for one child, with the evidence."""
    from linkage.find import find_child, format_result

    click.echo(format_result(find_child(_job(job), forename=forename, surname=surname, dob=dob, postcode=postcode,
                                        sex=sex, limit=limit)))


@main.group()
def ids() -> None:
    """Persistent child IDs: lineage of an ID, and the workspace's audit log of runs."""


@ids.command("history")
@click.argument("job", type=click.Path(dir_okay=False))
@click.argument("child_id")
def ids_history(job: str, child_id: str) -> None:
    """What happened to CHILD_ID run by run, and the ID to use now if it was merged or retired."""
    from linkage.ids import child_id_history

    click.echo(child_id_history(_job(job), child_id))


@ids.command("log")
@click.argument("job", type=click.Path(dir_okay=False))
def ids_log(job: str) -> None:
    """The audit log of JOB's workspace: every run, who ran it, inputs, model and ID changes."""
    from linkage.audit import format_audit_log

    click.echo(format_audit_log(_job(job)))


@main.group()
def sample() -> None:
    """Synthetic worlds with ground truth, for testing and evaluation."""


@sample.command("generate")
@click.option("--children", type=int, default=2000, show_default=True,
              help="Number of children in the world (100 to 1,000,000).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same world).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder to write into.")
@click.option("--nhs-coverage", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of education records that carry an NHS number.")
@_quiet_option
def sample_generate(children: int, seed: int, out: str, nhs_coverage: float, quiet: bool) -> None:
    """Generate a world of CHILDREN children: five sources, CME cases, job.yaml and truth."""
    from linkage.synthetic.rule_truth import generate_with_truth

    with _progress(quiet) as progress:
        summary, truth = generate_with_truth(children, seed, Path(out), nhs_coverage=nhs_coverage,
                                             progress=progress.callback)
    rows = ", ".join(f"{name} {n:,}" for name, n in summary.rows.items())
    click.echo(f"world of {summary.children:,} children written to {out}: {rows}; "
               f"{truth['cme_cases']} CME cases, {truth['not_in_education']} children not in education")
    progress.finish(f"generated {summary.children:,} children and {sum(summary.rows.values()):,} records")


if __name__ == "__main__":
    main()
