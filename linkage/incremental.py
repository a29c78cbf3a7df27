"""Incremental linking: standardise and score only what changed since the workspace's last run.

A record is keyed by (source, record_id) and fingerprinted by a content hash of its source type
and every canonical field (row numbers do not count: a row moving in its file is unchanged).
Against the workspace's last run each record is ``new``, ``changed`` or ``unchanged``; records
of the last run that are gone are ``deleted``. Then:

1. only new and changed records are standardised; unchanged ones reuse their stored
   standardised row (standardisation is per row, so this equals standardising everything);
2. only pairs with at least one new or changed side are scored: every blocking rule gets
   ``AND (l.is_new OR r.is_new)``, so it stays an equi-join;
3. stored pairs between unchanged records are kept; pairs touching changed or deleted
   records are dropped;
4. the kept pairs' match weights are recomputed from their stored comparison levels with
   this run's prior and name frequencies (both depend on all the data), exactly as Splink
   computes them, so every pair scores what a full relink would give it;
5. clustering and ID mapping then run over all pairs as in a full run.

Reuse is valid only if the model, blocking rules, reference date, date formats and the
standardisation code are those of the last run: their digest (the *signature*) is stored with
the model, and a run whose signature differs links in full and says why.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import splink

from .audit import file_sha256
from .blocking import RuleSet
from .job import Job
from .prepare import Prepared
from .schema import CANONICAL_FIELDS
from .score import COMPARISON_NAMES, score_pairs
from .sources import load_sources, read_cme_cases, read_postcode_lookup
from .standardise import standardise_records
from .workspace import attached, has_table, last_run_id

PACKAGE = Path(__file__).resolve().parent
# Code whose change alters standardised records or the model's input: any change means a full run.
FINGERPRINTED = ("standardise", "model.py", "comparisons.py", "schema.py")
_SEP, _NULL = "\x1f", "\x00"


@dataclass
class Delta:
    """What changed since the workspace's last run (record counts)."""

    base_run: int            # the workspace run this one builds on (0 = none)
    usable: bool             # False: link in full (see ``reason``)
    reason: str = ""
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    pairs_kept: int = 0

    def summary(self) -> str:
        if not self.usable:
            return f"linked in full: {self.reason}"
        return (f"incremental on run {self.base_run}: {self.new} new, {self.changed} changed, "
                f"{self.deleted} deleted, {self.unchanged} unchanged records; {self.pairs_kept} stored pairs kept")


# ------------------------------------------------------------------ fingerprints
def code_fingerprint() -> str:
    """Digest of the code and reference data that standardise records and shape the model input."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED:
        target = PACKAGE / name
        files = sorted(p for p in target.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if target.is_dir() else [target]
        for path in files:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_signature(job: Job, model_path: Path, rule_set: RuleSet) -> str:
    """Digest of everything besides the records that decides standardised rows and pair scores."""
    parts = {
        "versions": [splink.__version__, duckdb.__version__],     # how comparisons are computed
        "model": file_sha256(model_path),
        "rules": [[r.name, list(r.equal), list(r.explode), r.sql] for r in rule_set.rules],
        "reference_date": job.reference_date.isoformat(),
        "sources": {s.name: [s.type, s.date_format] for s in job.sources},
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def record_hashes(con: duckdb.DuckDBPyConnection, records: str = "records", out: str = "record_hashes") -> str:
    """Table ``out`` (source, record_id, content_hash): md5 of the source type and canonical fields."""
    fields = ["source_type", *CANONICAL_FIELDS]
    text = ", ".join(f"coalesce(CAST({f} AS VARCHAR), '{_NULL}')" for f in fields)
    con.execute(f"""CREATE OR REPLACE TABLE {out} AS
                    SELECT source, record_id, md5(concat_ws('{_SEP}', {text})) AS content_hash FROM {records}""")
    return out


# ------------------------------------------------------------------ reading what changed
def _compare_with_workspace(con: duckdb.DuckDBPyConnection, ws: str) -> None:
    """``_delta`` (source, record_id, status) for current records; ``_gone`` for records whose stored
    row and pairs are obsolete (changed or deleted)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _delta AS
        SELECT h.source, h.record_id,
               CASE WHEN s.content_hash IS NULL THEN 'new'
                    WHEN s.content_hash <> h.content_hash THEN 'changed' ELSE 'unchanged' END AS status
        FROM record_hashes h LEFT JOIN {ws}.records s USING (source, record_id)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _gone AS
        SELECT source, record_id, 'deleted' AS status FROM {ws}.records s
        WHERE NOT EXISTS (SELECT 1 FROM record_hashes h WHERE h.source = s.source AND h.record_id = s.record_id)
        UNION ALL
        SELECT source, record_id, status FROM _delta WHERE status = 'changed'""")


def _copy_kept_pairs(con: duckdb.DuckDBPyConnection, ws: str) -> None:
    """``_kept_pairs``: the stored pairs between unchanged records."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kept_pairs AS
                    SELECT p.* FROM {ws}.pairs p
                    WHERE NOT EXISTS (SELECT 1 FROM _gone g WHERE g.source = p.source_l AND g.record_id = p.record_id_l)
                      AND NOT EXISTS (SELECT 1 FROM _gone g WHERE g.source = p.source_r AND g.record_id = p.record_id_r)""")


def _stored_state_problem(con: duckdb.DuckDBPyConnection, ws: str, signature: str) -> str | None:
    """Why the workspace's stored records and pairs cannot be reused (None: they can)."""
    stored = con.execute(f"SELECT signature FROM {ws}.model").fetchall()
    if not last_run_id(con, ws) or not stored or not has_table(con, ws, "records") or not has_table(con, ws, "pairs"):
        return "the workspace has no previous run"
    if stored[0][0] != signature:
        return ("the model, blocking rules, reference date, date formats or childlink version "
                "changed since the last run")
    return None


def _delta_counts(con: duckdb.DuckDBPyConnection, base: int) -> Delta:
    counts = dict(con.execute("SELECT status, count(*) FROM _delta GROUP BY ALL").fetchall())
    deleted = con.execute("SELECT count(*) FROM _gone WHERE status = 'deleted'").fetchall()[0][0]
    return Delta(base_run=base, usable=True, new=counts.get("new", 0), changed=counts.get("changed", 0),
                 unchanged=counts.get("unchanged", 0), deleted=deleted)


def _reuse_stored_state(con: duckdb.DuckDBPyConnection, job: Job, workspace: Path, signature: str) -> Delta:
    """Compare the current ``records`` with the workspace's last run; when the stored state is valid,
    make ``std_records`` from it (standardising only new and changed records) and copy the pairs
    that can be kept."""
    if not workspace.is_file():
        return Delta(base_run=0, usable=False, reason="the workspace has no previous run")
    with attached(con, workspace, read_only=True) as ws:
        base = last_run_id(con, ws)
        problem = _stored_state_problem(con, ws, signature)
        if problem:
            return Delta(base_run=base, usable=False, reason=problem)
        _compare_with_workspace(con, ws)
        con.execute("""CREATE OR REPLACE TEMP TABLE _records_changed AS
                       SELECT r.* FROM records r JOIN _delta d USING (source, record_id) WHERE d.status <> 'unchanged'""")
        standardise_records(con, reference_date=job.reference_date, records="_records_changed", out="_std_changed",
                            date_formats={s.name: s.date_format for s in job.sources})
        _combine_standardised(con, ws)
        _copy_kept_pairs(con, ws)
    delta = _delta_counts(con, base)
    delta.pairs_kept = con.execute("SELECT count(*) FROM _kept_pairs").fetchall()[0][0]
    return delta


def changes_to_save(con: duckdb.DuckDBPyConnection, ws: str, signature: str, table: str = "link_input",
                    pairs: str = "pairs") -> Delta | None:
    """After a full run: what changed since the workspace's last run, so that only that is written
    (the stored rows of unchanged records, and their pairs, are what this run made of them).
    Leaves the pairs with a new or changed record in ``_pairs_new``. None: write everything."""
    if _stored_state_problem(con, ws, signature):
        return None
    _compare_with_workspace(con, ws)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _changed_keys AS
                    SELECT t.rec_key, d.status <> 'unchanged' AS changed
                    FROM {table} t JOIN _delta d USING (source, record_id)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _pairs_new AS
                    SELECT p.* FROM {pairs} p JOIN _changed_keys l ON l.rec_key = p.rec_key_l
                    JOIN _changed_keys r ON r.rec_key = p.rec_key_r WHERE l.changed OR r.changed""")
    return _delta_counts(con, last_run_id(con, ws))


def prepare_changed(job: Job, con: duckdb.DuckDBPyConnection, workspace: Path, signature: str
                    ) -> tuple[Prepared, Delta]:
    """``prepare`` for an incremental run: read every source, standardise only new and changed records.

    Falls back to standardising everything when the workspace cannot be reused (see ``Delta``).
    """
    loaded = load_sources(con, job)
    record_hashes(con)
    delta = _reuse_stored_state(con, job, workspace, signature)
    if not delta.usable:
        standardise_records(con, reference_date=job.reference_date,
                            date_formats={s.name: s.date_format for s in job.sources})
    cases = read_cme_cases(con, job)
    lookup = read_postcode_lookup(con, job)
    prepared = Prepared(con=con, job=job, rejects=loaded.rejects, row_counts=loaded.row_counts,
                        has_cme_cases=cases is not None, has_postcode_lookup=lookup is not None)
    return prepared, delta


def _combine_standardised(con: duckdb.DuckDBPyConnection, ws: str) -> None:
    """``std_records`` = freshly standardised changed records + the stored rows of unchanged ones, in
    the order standardisation gives (source, row_number, record_id), with this run's row numbers."""
    columns = [r[0] for r in con.execute("DESCRIBE _std_changed").fetchall()]
    kept = ", ".join("r.row_number" if c == "row_number" else f"k.{c}" for c in columns)
    con.execute(f"""
        CREATE OR REPLACE TABLE std_records AS
        SELECT * FROM (
            SELECT {', '.join(columns)} FROM _std_changed
            UNION ALL
            SELECT {kept} FROM {ws}.records k JOIN _delta d USING (source, record_id)
            JOIN records r USING (source, record_id) WHERE d.status = 'unchanged'
        ) ORDER BY source, row_number, record_id""")
    con.execute("DROP TABLE _std_changed; DROP TABLE _records_changed")


# ------------------------------------------------------------------ scoring what changed
def only_new_pairs(model: dict) -> dict:
    """``model`` whose blocking rules keep only pairs with a new or changed side (still equi-joins)."""
    out = copy.deepcopy(model)
    for rule in out["blocking_rules_to_generate_predictions"]:
        rule["blocking_rule"] = f"({rule['blocking_rule']}) AND (l.is_new OR r.is_new)"
    return out


def _level_values(comparison: dict) -> list[tuple[int, dict]]:
    """(gamma, level) of each non-null level: Splink numbers them n-1 .. 0 from the top."""
    levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
    return [(len(levels) - 1 - i, lv) for i, lv in enumerate(levels)]


def _frequency_columns(model: dict) -> list[str]:
    """The columns whose exact agreement the model adjusts by how common the value is."""
    return sorted({lv["tf_adjustment_column"] for comp in model["comparisons"] for lv in comp["comparison_levels"]
                   if lv.get("tf_adjustment_column") and lv.get("tf_adjustment_weight", 1.0)})


def _term_frequency_terms(model: dict) -> dict[str, str]:
    """Per comparison, the SQL of its term-frequency adjustment, Splink's formula over the pair's
    ``tf_<col>_l`` and ``tf_<col>_r`` columns."""
    terms = {}
    for comp in model["comparisons"]:
        cases = []
        for gamma, level in _level_values(comp):
            column = level.get("tf_adjustment_column")
            weight = level.get("tf_adjustment_weight", 1.0)
            if not column or not weight:
                continue
            tl, tr = f"p.tf_{column}_l", f"p.tf_{column}_r"
            floor = level.get("tf_minimum_u_value", 0.0)
            u_exact = math.log2(level["u_probability"])
            cases.append(f"""WHEN p.gamma_{comp['output_column_name']} = {gamma} AND coalesce({tl}, {tr}) IS NOT NULL
                THEN cast({weight} as float8) * (cast({u_exact} as float8)
                     - log2(greatest(coalesce({tl}, {tr}), coalesce({tr}, {tl}), cast({floor} as float8))))""")
        if cases:
            terms[comp["output_column_name"]] = f"(CASE {' '.join(cases)} ELSE cast(0 as float8) END)"
    return terms


def record_frequencies_sql(model: dict, records: str) -> str:
    """SELECT rec_key, source, record_id and, per frequency-adjusted column, ``tf_<col>``: the share of
    ``records`` with a non-null value that hold this record's value (Splink's term frequency)."""
    columns = _frequency_columns(model)
    joins = " ".join(f"""LEFT JOIN (SELECT {c}, cast(count(*) as float8) / (SELECT count({c}) FROM {records}) AS tf
                         FROM {records} WHERE {c} IS NOT NULL GROUP BY {c}) f_{c} ON f_{c}.{c} = r.{c}"""
                     for c in columns)
    tfs = "".join(f", f_{c}.tf AS tf_{c}" for c in columns)
    return f"SELECT r.rec_key, r.source, r.record_id{tfs} FROM {records} r {joins}"


def rescore_sql(model: dict, pairs: str) -> str:
    """SELECT of ``pairs`` (rec_key_l, rec_key_r, match_key, gamma_*, mw_*, and ``tf_<col>_l/_r`` for
    the ``record_frequencies_sql`` columns) with match_weight and match_probability computed as Splink
    computes them: prior weight + each comparison's weight + its name-frequency term, in Splink's
    order (so the sums are bit for bit Splink's). Columns in ``score_pairs`` order."""
    terms = _term_frequency_terms(model)
    prior = model["probability_two_random_records_match"]
    parts = [f"cast({math.log2(prior / (1 - prior))} as float8)"]
    for name in COMPARISON_NAMES:
        parts.append(f"p.mw_{name}")
        if name in terms:
            parts.append(terms[name])
    score_cols = ", ".join(_pair_score_columns())
    return f"""
        SELECT rec_key_l, rec_key_r, mw AS match_weight,
               CASE WHEN mw >= 0 THEN 1.0 / (1.0 + POWER(cast(2 as float8), -mw))
                    ELSE POWER(cast(2 as float8), mw) / (1.0 + POWER(cast(2 as float8), mw)) END AS match_probability,
               {score_cols}
        FROM (SELECT p.*, {' + '.join(parts)} AS mw FROM {pairs} p)"""


def _pair_score_columns() -> list[str]:
    cols = ["match_key"]
    for name in COMPARISON_NAMES:
        cols += [f"gamma_{name}", f"mw_{name}"]
    return cols


def _kept_pairs_sql(model: dict) -> str:
    """The stored pairs between unchanged records, on this run's rec_keys, with their records' name
    frequencies. Stored pairs are keyed by (source, record_id): this run's keys may order them the
    other way round, and every comparison is symmetric."""
    score_cols = ", ".join(f"k.{c}" for c in _pair_score_columns())
    tfs = "".join(f", l.tf_{c} AS tf_{c}_l, r.tf_{c} AS tf_{c}_r" for c in _frequency_columns(model))
    return f"""(SELECT least(l.rec_key, r.rec_key) AS rec_key_l, greatest(l.rec_key, r.rec_key) AS rec_key_r,
                       {score_cols}{tfs}
                FROM _kept_pairs k
                JOIN _frequencies l ON l.source = k.source_l AND l.record_id = k.record_id_l
                JOIN _frequencies r ON r.source = k.source_r AND r.record_id = k.record_id_r)"""


def score_changed_pairs(con: duckdb.DuckDBPyConnection, table: str, model: dict, *, chunks: int = 1,
                        out: str = "pairs", progress: Callable[[int, int], None] | None = None) -> int:
    """Table ``out`` as ``score_pairs`` makes it, scoring only pairs with a new or changed record
    (``_pairs_new``) and rescoring the stored pairs between unchanged records. Returns the number of pairs."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _frequencies AS {record_frequencies_sql(model, table)}")
    kept = rescore_sql(model, _kept_pairs_sql(model))
    if con.execute("SELECT count(*) FROM _delta WHERE status <> 'unchanged'").fetchall()[0][0]:
        con.execute(f"""CREATE OR REPLACE TABLE _scoring_input AS
                        SELECT t.*, d.status <> 'unchanged' AS is_new
                        FROM {table} t JOIN _delta d USING (source, record_id) ORDER BY t.rec_key""")
        score_pairs(con, "_scoring_input", only_new_pairs(model), chunks=chunks, out="_pairs_new", progress=progress)
        con.execute("DROP TABLE _scoring_input")
    else:       # nothing new: no need to start Splink
        con.execute(f"CREATE OR REPLACE TABLE _pairs_new AS SELECT * FROM ({kept}) LIMIT 0")
    con.execute(f"""CREATE OR REPLACE TABLE {out} AS
                    SELECT * FROM (SELECT * FROM _pairs_new UNION ALL {kept}) ORDER BY rec_key_l, rec_key_r""")
    con.execute("DROP TABLE _frequencies; DROP TABLE _kept_pairs")
    return con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0]


# ------------------------------------------------------------------ saving the new state
def stored_pairs_sql(pairs: str, records: str) -> str:
    """SELECT of ``pairs`` as the workspace keeps them: keyed by (source, record_id), with levels and
    per-comparison weights but no prior-dependent total (recomputed by the run that reads them)."""
    score_cols = ", ".join(f"p.{c}" for c in _pair_score_columns())
    return f"""
        SELECT l.source AS source_l, l.record_id AS record_id_l, r.source AS source_r, r.record_id AS record_id_r,
               {score_cols}
        FROM {pairs} p JOIN {records} l ON l.rec_key = p.rec_key_l JOIN {records} r ON r.rec_key = p.rec_key_r"""


def save_records_and_pairs(con: duckdb.DuckDBPyConnection, ws: str, delta: Delta | None,
                           records: str = "link_input", pairs: str = "pairs") -> None:
    """Write the run's standardised records (with content hashes) and pairs into the workspace: with
    ``delta`` (from ``prepare_changed`` or ``changes_to_save``) only the records that changed and the pairs
    touching them (``_pairs_new``), else all of them. Call inside a transaction."""
    std = "SELECT s.*, h.content_hash FROM std_records s JOIN record_hashes h USING (source, record_id)"
    if delta is None or not delta.usable:
        # Unordered: whoever reads the stored tables orders what it reads.
        con.execute(f"CREATE OR REPLACE TABLE {ws}.records AS {std}")
        con.execute(f"CREATE OR REPLACE TABLE {ws}.pairs AS {stored_pairs_sql(pairs, records)}")
        return
    con.execute(f"DELETE FROM {ws}.records s USING _gone g WHERE s.source = g.source AND s.record_id = g.record_id")
    con.execute(f"""INSERT INTO {ws}.records {std}
                    JOIN _delta d USING (source, record_id) WHERE d.status <> 'unchanged'""")
    for side in ("l", "r"):
        con.execute(f"""DELETE FROM {ws}.pairs p USING _gone g
                        WHERE p.source_{side} = g.source AND p.record_id_{side} = g.record_id""")
    con.execute(f"INSERT INTO {ws}.pairs {stored_pairs_sql('_pairs_new', records)}")
