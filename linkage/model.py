"""The Fellegi-Sunter model: settings, training, the EM guard, save and load.

Training (``train``) follows the usual unsupervised recipe, with caps so it stays fast
as data grows:
1. the prior (probability two random records match) from deterministic rules;
2. u probabilities by random sampling of pairs;
3. m probabilities by expectation maximisation on the rule set's training passes, each
   capped at ``max_pairs`` pairs (a pass cannot train the fields it blocks on, hence
   several; Splink averages each comparison's m over the passes that trained it).
Unsupervised EM can fail silently (on a public name-and-DOB benchmark it collapsed to
F1 0.47), so ``check_model`` looks for the signs of failure and ``train`` falls back to
the committed default model with a warning. With ground-truth labels, m can be
estimated from them instead.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from .blocking import RuleSet
from .comparisons import MODEL_COLUMNS, comparisons
from .errors import ChildlinkError

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = MODELS_DIR / "default.json"

# Comparisons whose agreement must be clearly positive and disagreement negative in any
# sane model of children's records: if EM makes them otherwise, it has failed.
CORE_COMPARISONS = ("forename", "surname", "dob")
MIN_AGREEMENT_WEIGHT = 2.0
# EM gives m = 0 to levels it never saw among matches in its sample, i.e. an infinitely
# strong "no". No level is that certain: m is floored here, u is left as measured.
M_FLOOR = 0.001

# Deterministic rules used to estimate the prior, and the share of true matches they find.
# Each must be an equi-join: a condition such as list_has_any() makes DuckDB compare every
# pair of records (91 s instead of 0.3 s on 100,000 records).
PRIOR_RULES = ("l.nhs_number_std = r.nhs_number_std",
               "l.upn_ids[1] = r.upn_ids[1]",
               "l.forename1 = r.forename1 and l.surname_std = r.surname_std and l.dob_date = r.dob_date")
PRIOR_RECALL = 0.8

# Without training passes in the rule set, EM blocks on these (see blocking_rules/default.yaml).
DEFAULT_EM_PASSES = (("dob_date",), ("forename_phonetic", "surname_phonetic"))


# Ages (on the reference date) at or above which a record is an adult's, below which a child's;
# between them the record does not say.
ADULT_AGE, CHILD_AGE = 18, 16


def read_model_input(job, timer) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A fresh in-memory workspace holding ``job``'s records read, standardised and keyed for the
    model (``train`` and ``blocking`` start here); ``timer`` (a ``PhaseTimer``) times each phase."""
    from .prepare import prepare
    from .workspace import open_workspace

    con = open_workspace()
    prepare(job, con, progress=timer)
    with timer.phase("model input"):
        return con, create_model_input(con, job.reference_date)


def create_model_input(con: duckdb.DuckDBPyConnection, reference_date, std_records: str = "std_records",
                       out: str = "link_input") -> str:
    """The table the model reads: an integer key per record plus the compared columns.

    Two columns are derived here because they are about linkage, not about one field:
    ``passport_std`` (border documents, upper-case alphanumerics) and ``life_stage``.
    """
    cols = ", ".join(c for c in MODEL_COLUMNS if c not in DERIVED_COLUMNS)
    ref = f"DATE '{reference_date.isoformat()}'"
    _name_forms(con)
    con.execute(f"""
        create or replace table {out} as
        with forms as (      -- every written form of the names a forename is an alias of
            select s.rowid as rid, list(distinct f.form order by f.form) as forename_forms
            from (select rowid, unnest(forename_aliases) as canonical from {std_records}) s
            join _name_forms f using (canonical) group by s.rowid)
        select row_number() over (order by source, row_number) as rec_key, source, source_type, record_id, {cols},
               coalesce(forms.forename_forms, [forename1]) as forename_forms,
               nullif(regexp_replace(upper(passport_number), '[^A-Z0-9]', '', 'g'), '') as passport_std,
               case when source_type = 'council_tax' and lower(role) in ('liable', 'partner') then 'adult'
                    when source_type in ('education', 'social_care') then 'child'
                    when source_type = 'council_tax' and lower(role) = 'dependant' then 'child'
                    when dob_date <= {ref} - interval {ADULT_AGE} year then 'adult'
                    when dob_date > {ref} - interval {CHILD_AGE} year then 'child'
               end as life_stage
        from {std_records} left join forms on forms.rid = {std_records}.rowid
        order by rec_key
    """)
    return out


DERIVED_COLUMNS = ("passport_std", "life_stage", "forename_forms")


def _name_forms(con: duckdb.DuckDBPyConnection) -> None:
    """Table _name_forms(canonical, form): each canonical name with itself and all its variants."""
    from .standardise.reference import read_reference

    rows = read_reference("name_aliases.csv")
    pairs = sorted({(r["canonical"], r["variant"]) for r in rows} | {(r["canonical"], r["canonical"]) for r in rows})
    # One Arrow table, not executemany: 2 ms instead of 0.1 s, which `childlink find` notices.
    import pyarrow as pa

    con.register("_name_forms_rows", pa.table({"canonical": pa.array([p[0] for p in pairs], pa.string()),
                                               "form": pa.array([p[1] for p in pairs], pa.string())}))
    con.execute("create or replace temp table _name_forms as select * from _name_forms_rows")
    con.unregister("_name_forms_rows")


def settings(rule_set: RuleSet) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",          # one table holds every source; pairs within a source count too
        unique_id_column_name="rec_key",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=rule_set.to_splink(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,   # per-comparison weights, for explanations
        max_iterations=40,
    )


def make_linker(con: duckdb.DuckDBPyConnection, table: str, model) -> Linker:
    """A Splink linker over ``table`` in ``con`` with ``model`` (SettingsCreator or settings dict)."""
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register(table)
    # Splink's own warnings (levels unseen in one EM pass, empty sampling probes) are routine
    # here; what matters is judged by check_model and reported by childlink itself.
    return Linker([sdf], model, log_level=logging.ERROR)


@dataclass
class TrainingResult:
    model: dict                         # Splink settings dict with trained parameters
    problems: list[str] = field(default_factory=list)   # EM guard findings (empty = healthy)
    fell_back: bool = False
    method: str = "unsupervised"
    notes: list[str] = field(default_factory=list)     # e.g. an EM pass that failed while others trained


def level_weights(model: dict) -> dict[str, list[tuple[str, float]]]:
    """Match weight (log2 m/u) of every non-null level, by comparison name."""
    out = {}
    for comp in model["comparisons"]:
        levels = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            w = math.log2(m / u) if m and u else float("nan")
            levels.append((lv.get("label_for_charts", lv["sql_condition"]), w))
        out[comp["output_column_name"]] = levels
    return out


def level_labels(model: dict) -> dict[str, dict[int, str]]:
    """Label of each level by its comparison vector value (gamma) in scored pairs.

    Splink numbers a comparison's levels from the top: with n non-null levels, the first is
    n-1 and the last ("else") is 0; the null level is -1.
    """
    out = {}
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        labels = {len(levels) - 1 - i: lv.get("label_for_charts", lv["sql_condition"]) for i, lv in enumerate(levels)}
        labels[-1] = "missing on one side"
        out[comp["output_column_name"]] = labels
    return out


def check_model(model: dict) -> list[str]:
    """Signs that training failed: agreement not clearly positive, disagreement not negative,
    or parameters missing. Returns plain-English problems (empty list = the model is sane)."""
    problems = []
    for name, levels in level_weights(model).items():
        if any(math.isnan(w) for _, w in levels):
            problems.append(f"{name}: some levels were never trained")
            continue
        agree, disagree = levels[0][1], levels[-1][1]
        if agree <= disagree:
            problems.append(f"{name}: agreement ({agree:.1f}) is not stronger than disagreement ({disagree:.1f})")
        if name in CORE_COMPARISONS:
            if agree < MIN_AGREEMENT_WEIGHT:
                problems.append(f"{name}: agreement weight {agree:.1f} is too close to zero (m close to u)")
            if disagree >= 0:
                problems.append(f"{name}: disagreement has a positive weight {disagree:.1f} (sign flipped)")
    return problems


def train(con: duckdb.DuckDBPyConnection, table: str, rule_set: RuleSet, *, seed: int,
          max_pairs: int, label_column: str | None = None, fallback: Path | None = DEFAULT_MODEL,
          progress: Callable[[int, int], None] | None = None) -> TrainingResult:
    """Train the model on ``table``; fall back to ``fallback`` if the EM guard finds failure.

    ``progress(done, total)`` hears each step: the prior, u, then each EM pass (or the labels).
    """
    linker = make_linker(con, table, settings(rule_set))
    t = linker.training
    passes = [] if label_column else ([(r.name, r.to_splink()) for r in rule_set.training] or
                                      [("+".join(c), block_on(*c)) for c in DEFAULT_EM_PASSES])
    steps = 2 + (len(passes) or 1)
    report = progress or (lambda done, total: None)
    report(0, steps)
    t.estimate_probability_two_random_records_match(list(PRIOR_RULES), recall=PRIOR_RECALL)
    report(1, steps)
    t.estimate_u_using_random_sampling(max_pairs=max(max_pairs, 1_000_001), seed=seed)
    report(2, steps)
    failed_passes: list[str] = []
    if label_column:
        t.estimate_m_from_label_column(label_column)
        report(3, steps)
        method = "supervised"
    else:
        for step, (name, rule) in enumerate(passes, start=3):
            try:
                t.estimate_parameters_using_expectation_maximisation(rule, max_pairs=max_pairs)
            except ValueError as exc:
                # EM can push a probability to underflow (Splink refuses m < 1e-300); that pass
                # is lost, the others still train, and the guard below judges the result.
                failed_passes.append(f"EM pass '{name}' failed: {type(exc).__name__} in Splink's EM")
            report(step, steps)
        method = "unsupervised"
    model = fill_unobserved_u(con, table, floor_m(linker.misc.save_model_to_json()))
    problems = check_model(model)
    if label_column is None and len(failed_passes) == len(passes):
        problems = failed_passes + problems
    if problems and fallback is not None and fallback.is_file():
        return TrainingResult(model=load_model(fallback), problems=problems, fell_back=True, method=method,
                              notes=failed_passes)
    return TrainingResult(model=model, problems=problems, method=method, notes=failed_passes)


# Identifier comparisons whose agreement level random sampling may never observe: in half a
# million records, two random records almost never share an NHS number, so the sample holds no
# such pair and Splink leaves u empty. Column, and whether it holds a list (UPNs).
IDENTIFIER_COLUMNS = {"nhs_number": ("nhs_number_std", False), "upn": ("upn_ids", True),
                      "passport": ("passport_std", False)}


def fill_unobserved_u(con: duckdb.DuckDBPyConnection, table: str, model: dict) -> dict:
    """The model with each identifier's unobserved agreement u counted exactly instead.

    u is the share of all pairs of records holding the identifier that share a value: the
    same quantity random sampling estimates, counted with one GROUP BY. Where no two records
    share one, half a pair is counted (a bound, not zero, so the weight stays finite). The
    other levels' u are scaled so the levels still sum to one. With fewer than two records
    holding the identifier nothing can be counted and u stays empty (the EM guard reports it).
    """
    for comp in model["comparisons"]:
        spec = IDENTIFIER_COLUMNS.get(comp["output_column_name"])
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if spec is None or levels[0].get("u_probability") is not None:
            continue
        column, is_list = spec
        held = f"len({column}) > 0" if is_list else f"{column} IS NOT NULL"
        value = f"unnest({column})" if is_list else column
        holders, sharing = con.execute(f"""
            WITH v AS (SELECT {value} AS v FROM {table} WHERE {held}),
                 g AS (SELECT count(*) AS n FROM v GROUP BY v)
            SELECT (SELECT count(*) FROM {table} WHERE {held}), coalesce(sum(n * (n - 1) / 2), 0) FROM g
        """).fetchall()[0]
        if holders < 2:
            continue
        u = max(float(sharing), 0.5) / (holders * (holders - 1) / 2)
        levels[0]["u_probability"] = u
        rest = sum(lv.get("u_probability") or 0.0 for lv in levels[1:])
        for lv in levels[1:]:
            lv["u_probability"] = (1 - u) * (lv.get("u_probability") or 0.0) / rest if rest else (1 - u) / (len(levels) - 1)
    return model


def floor_m(model: dict, floor: float = M_FLOOR) -> dict:
    """The model with every trained m probability raised to at least ``floor``."""
    for comp in model["comparisons"]:
        for lv in comp["comparison_levels"]:
            if not lv.get("is_null_level") and not lv.get("fix_m_probability"):
                lv["m_probability"] = max(lv.get("m_probability") or 0.0, floor)
    return model


def with_prior_for(con: duckdb.DuckDBPyConnection, table: str, model: dict) -> dict:
    """``model`` with its prior re-estimated on ``table``.

    The probability that two random records match falls as the data grows (about 1/N), so a
    prior learned on one data set is wrong for another of a different size; m and u carry
    over, the prior is re-estimated from the deterministic rules in a fraction of a second.
    """
    linker = make_linker(con, table, model)
    linker.training.estimate_probability_two_random_records_match(list(PRIOR_RULES), recall=PRIOR_RECALL)
    return linker.misc.save_model_to_json()


def save_model(model: dict, path: str | Path) -> Path:
    from .outputs import write_text

    return write_text(path, json.dumps(model, indent=2, sort_keys=True))


def load_model(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ChildlinkError("model file not found", file=str(path))
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ChildlinkError("is not a model JSON file", file=str(path)) from None
    if not isinstance(model, dict) or "comparisons" not in model:
        raise ChildlinkError("is not a childlink model (no comparisons)", file=str(path))
    names = [c.get("output_column_name") for c in model["comparisons"]]
    expected = [c.get_comparison("duckdb").output_column_name for c in comparisons()]
    if names != expected:
        raise ChildlinkError(f"model compares {names}, but this version of childlink expects {expected}",
                             file=str(path))
    return model


def with_rule_set(model: dict, rule_set: RuleSet) -> dict:
    """The model with the prediction blocking rules replaced by ``rule_set``'s."""
    out = dict(model)
    out["blocking_rules_to_generate_predictions"] = [
        r.create_blocking_rule_dict("duckdb") for r in rule_set.to_splink()]
    return out
