"""Single-record search: "which child is this?" for the officer who gets a phone call.

``find_child`` takes a forename, surname and date of birth (and optionally a postcode and sex),
standardises them exactly as a source record would be, picks the workspace's records that any
blocking rule of the job would pair with it (one scan of the stored records), scores those pairs
with the model in use, name frequencies taken over the whole workspace, and returns the
candidate identities with their probability and, for the best-matching record, what each
comparison found. Nothing is written; the workspace is opened read-only.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker

from .blocking import load_rule_set
from .errors import ChildlinkError
from .job import Job
from .model import create_model_input, level_labels
from .progress import PhaseTimer
from .schema import CANONICAL_FIELDS
from .score import COMPARISON_NAMES
from .standardise import standardise_records
from .workspace import attached, has_table, open_workspace, workspace_file

# The query travels as a record of a source no job can name (a control character).
QUERY_SOURCE = "\x00query"
@dataclass(frozen=True)
class Candidate:
    child_id: str
    match_probability: float
    match_weight: float
    records: int                          # records the identity holds
    sources: tuple[str, ...]              # the sources they come from
    best_record: tuple[str, str]          # (source, record_id) of the best-matching record
    explanation: tuple[dict, ...] = ()    # per comparison: comparison, label, weight (best record)

    def explain(self) -> str:
        shown = [e for e in self.explanation if e["weight"] != 0]
        return "; ".join(f"{e['comparison']}: {e['label']} ({e['weight']:+.1f})" for e in shown)


@dataclass
class FindResult:
    candidates: list[Candidate]
    records_compared: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def _query_table(query: dict[str, str | None]) -> pa.Table:
    """The query as one canonical record (every field text, the ones not asked NULL)."""
    row = {"source": QUERY_SOURCE, "source_type": None, "record_id": QUERY_SOURCE, "row_number": 0}
    row.update({f: (query.get(f) or None) for f in CANONICAL_FIELDS})
    schema = pa.schema([("source", pa.string()), ("source_type", pa.string()), ("record_id", pa.string()),
                        ("row_number", pa.int64())] + [(f, pa.string()) for f in CANONICAL_FIELDS])
    return pa.Table.from_pylist([row], schema=schema)


def _standardised_query(con: duckdb.DuckDBPyConnection, job: Job, query: dict) -> None:
    """Table ``_query_std``: the query standardised like any record."""
    con.register("_query_arrow", _query_table(query))
    con.execute("CREATE OR REPLACE TEMP TABLE _query_records AS SELECT * FROM _query_arrow")
    con.unregister("_query_arrow")
    standardise_records(con, reference_date=job.reference_date, records="_query_records", out="_query_std")


def _candidates(con: duckdb.DuckDBPyConnection, job: Job, ws: str) -> tuple[int, int]:
    """Table ``_find_input``: the query and every stored record a blocking rule pairs with it, as the
    model reads them. Returns (the query's rec_key, the number of candidates)."""
    rules = load_rule_set(job.linkage.blocking_rules).rules
    # One join per rule: with the one-row query as the build side DuckDB pushes the query's values
    # into the scan of the stored records (a fifth of the time of one scan testing every rule).
    hits = " UNION ".join(f"SELECT r.rowid AS hit FROM {ws}.records r JOIN _query_std l ON {rule.pair_condition()}"
                          for rule in rules)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _find_std AS
                    SELECT * FROM _query_std
                    UNION ALL BY NAME
                    SELECT r.* EXCLUDE (content_hash) FROM {ws}.records r WHERE r.rowid IN ({hits})""")
    create_model_input(con, job.reference_date, std_records="_find_std", out="_find_input")
    key, n = con.execute("""SELECT min(rec_key) FILTER (WHERE source = ?), count(*) - 1 FROM _find_input""",
                         [QUERY_SOURCE]).fetchall()[0]
    return key, n


def _term_frequencies(con: duckdb.DuckDBPyConnection, ws: str, model: dict) -> dict[str, str]:
    """Per name column the model adjusts by frequency, a table of frequencies over the whole workspace."""
    columns = sorted({lv["tf_adjustment_column"] for c in model["comparisons"] for lv in c["comparison_levels"]
                      if lv.get("tf_adjustment_column")})
    tables = {}
    for col in columns:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _tf_{col} AS
                        SELECT {col}, cast(count(*) AS float8) / (SELECT count({col}) FROM {ws}.records) AS tf_{col}
                        FROM {ws}.records WHERE {col} IS NOT NULL GROUP BY {col}""")
        tables[col] = f"_tf_{col}"
    return tables


def _score(con: duckdb.DuckDBPyConnection, model: dict, tf_tables: dict[str, str], query_key: int) -> None:
    """Table ``_find_pairs``: the query against each candidate, scored by Splink with the model."""
    settings = dict(model)
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": f"l.rec_key = {query_key} OR r.rec_key = {query_key}", "sql_dialect": "duckdb"}]
    # The model was validated when it was loaded for linking; validating again costs a quarter second.
    linker = Linker([DuckDBAPI(connection=con).register("_find_input")], settings, log_level=logging.ERROR,
                    validate_settings=False)
    for col, table in tf_tables.items():
        linker.table_management.register_term_frequency_lookup(
            linker.table_management.register_table(con.table(table), f"__childlink_tf_{col}", overwrite=True), col)
    scored = linker.inference.predict()
    levels = ", ".join(f"gamma_{n}, mw_{n}" for n in COMPARISON_NAMES)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _find_pairs AS
                    SELECT CASE WHEN rec_key_l = {query_key} THEN rec_key_r ELSE rec_key_l END AS rec_key,
                           match_weight, match_probability, {levels}
                    FROM {scored.physical_name}""")
    scored.drop_table_from_database_and_remove_from_cache()


def _best_per_identity(con: duckdb.DuckDBPyConnection, ws: str, model: dict, limit: int,
                       min_probability: float) -> list[Candidate]:
    """Candidates ranked by their best record's probability, with its explanation."""
    rows = con.execute(f"""
        WITH scored AS (
            SELECT i.child_id, c.source, c.record_id, p.* FROM _find_pairs p
            JOIN _find_input c USING (rec_key) JOIN {ws}.identities i USING (source, record_id)
            WHERE p.match_probability >= ?
        ), best AS (
            SELECT * FROM scored
            QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY match_weight DESC, source, record_id) = 1
        ), sizes AS (
            SELECT child_id, count(*) AS records, list(DISTINCT source ORDER BY source) AS sources
            FROM {ws}.identities WHERE child_id IN (SELECT child_id FROM best) GROUP BY child_id
        )
        SELECT * FROM best JOIN sizes USING (child_id) ORDER BY match_weight DESC, child_id LIMIT {int(limit)}
    """, [min_probability]).fetchdf()
    labels = level_labels(model)
    out = []
    for r in rows.itertuples(index=False):   # at most ``limit`` rows
        explanation = tuple({"comparison": n, "label": labels[n].get(int(getattr(r, f"gamma_{n}"))),
                             "weight": float(getattr(r, f"mw_{n}"))} for n in COMPARISON_NAMES)
        out.append(Candidate(child_id=r.child_id, match_probability=float(r.match_probability),
                             match_weight=float(r.match_weight), records=int(r.records),
                             sources=tuple(r.sources), best_record=(r.source, r.record_id), explanation=explanation))
    return out


def _check_query(query: dict[str, str | None]) -> None:
    for name in ("forename", "surname", "dob"):
        if not (query.get(name) or "").strip():
            raise ChildlinkError(f"a search needs a {name}", column=name)


def find_child(job: Job, *, forename: str, surname: str, dob: str, postcode: str | None = None,
               sex: str | None = None, limit: int = 10, min_probability: float = 0.01) -> FindResult:
    """Candidate identities for one child described by name, date of birth and optionally postcode and sex.

    Reads the job's workspace (written by ``childlink link``); returns at most ``limit`` identities
    whose best record matches with at least ``min_probability``, the most likely first.
    """
    query = {"forename": forename, "surname": surname, "dob": dob, "postcode": postcode, "sex": sex}
    _check_query(query)
    start = time.perf_counter()
    timer = PhaseTimer()
    timer.start("standardise and block")
    con = open_workspace()
    with attached(con, workspace_file(job), read_only=True) as ws:
        if not has_table(con, ws, "identities"):
            raise ChildlinkError("the workspace holds no linked identities yet: run 'childlink link' first",
                                 file=str(workspace_file(job)))
        model = json.loads(con.execute(f"SELECT model_json FROM {ws}.model").fetchall()[0][0])
        _standardised_query(con, job, query)
        if con.execute("SELECT dob_date IS NULL FROM _query_std").fetchall()[0][0]:
            raise ChildlinkError("the date of birth is not a date (use YYYY-MM-DD or DD/MM/YYYY)", column="dob")
        query_key, n = _candidates(con, job, ws)
        tf_tables = _term_frequencies(con, ws, model)
        candidates: list[Candidate] = []
        if n:
            timer.start("score")
            _score(con, model, tf_tables, query_key)
            timer.start("rank")
            candidates = _best_per_identity(con, ws, model, limit, min_probability)
        timer.stop()
    con.close()
    return FindResult(candidates=candidates, records_compared=n, seconds=time.perf_counter() - start,
                      timings=timer.timings)


def format_result(result: FindResult) -> str:
    """``childlink find``'s answer: one block per candidate identity, the most likely first."""
    head = f"{len(result.candidates)} candidate(s) among {result.records_compared} records compared ({result.seconds:.2f}s)"
    lines = [head]
    for c in result.candidates:     # at most the limit asked for
        lines.append(f"{c.child_id}  probability {c.match_probability:.4f}  {c.records} record(s) in "
                     f"{', '.join(c.sources)}; best match {c.best_record[0]} {c.best_record[1]}")
        lines.append(f"    {c.explain()}")
    return "\n".join(lines)
