"""Blocking: which pairs of records are worth scoring.

Rule sets are data (``blocking_rules/*.yaml``). This module turns them into Splink
blocking rules and measures them: pairs generated per rule and cumulatively, and, when
the truth is known, the share of true pairs the rules keep (blocking recall).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import yaml
from splink import block_on
from splink.blocking_rule_library import CustomRule

from .errors import ChildlinkError

RULES_DIR = Path(__file__).resolve().parent.parent / "blocking_rules"


@dataclass(frozen=True)
class Rule:
    name: str
    equal: tuple[str, ...] = ()       # columns or expressions equal on both sides
    explode: tuple[str, ...] = ()
    sql: str | None = None

    def to_splink(self):
        if self.sql:
            return CustomRule(self.sql, sql_dialect="duckdb")
        return block_on(*self.equal, arrays_to_explode=list(self.explode) or None)

    def pair_condition(self) -> str:
        """The rule as a condition on an (l, r) pair, for measuring it on known pairs."""
        if not self.explode:
            return f"({self.to_splink().get_blocking_rule('duckdb').blocking_rule_sql})"
        # Exploded arrays match when any element is shared.
        parts = [f"list_has_any(l.{e}, r.{e})" if e in self.explode else f"l.{e} = r.{e}" for e in self.equal]
        return "(" + " AND ".join(parts) + ")"


@dataclass(frozen=True)
class RuleSet:
    name: str
    description: str
    rules: tuple[Rule, ...]                 # which pairs are scored
    training: tuple[Rule, ...] = ()         # the EM passes that train the model

    def to_splink(self) -> list:
        return [r.to_splink() for r in self.rules]


def _parse_rule(raw, path: Path, i: int) -> Rule:
    if not isinstance(raw, dict) or "name" not in raw:
        raise ChildlinkError(f"rules[{i}] needs a name", file=str(path))
    equal, sql = raw.get("equal"), raw.get("sql")
    if bool(equal) == bool(sql):
        raise ChildlinkError(f"rule '{raw['name']}' needs exactly one of 'equal' or 'sql'", file=str(path))
    return Rule(name=str(raw["name"]), equal=tuple(str(x) for x in equal or ()),
                explode=tuple(str(x) for x in raw.get("explode") or ()), sql=str(sql) if sql else None)


def load_rule_set(name_or_path: str | Path) -> RuleSet:
    """A rule set by name (``blocking_rules/<name>.yaml``) or by path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = RULES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ChildlinkError("blocking rule set not found", file=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise ChildlinkError("is not valid YAML", file=str(path)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list) or not raw["rules"]:
        raise ChildlinkError("must hold a non-empty 'rules' list", file=str(path))
    rules = tuple(_parse_rule(r, path, i) for i, r in enumerate(raw["rules"]))
    training = tuple(_parse_rule(r, path, i) for i, r in enumerate(raw.get("training") or ()))
    return RuleSet(name=str(raw.get("name", path.stem)), description=str(raw.get("description", "")),
                   rules=rules, training=training)


def true_pairs_sql(table: str, truth: str) -> str:
    """All pairs of records (rec_key_l < rec_key_r) that truly belong to one person."""
    return f"""
        select l.rec_key as rec_key_l, r.rec_key as rec_key_r
        from {table} l join {truth} tl using (source, record_id)
        join {truth} tr on tl.person_id = tr.person_id
        join {table} r on r.source = tr.source and r.record_id = tr.record_id
        where l.rec_key < r.rec_key
    """


def rule_recall(con: duckdb.DuckDBPyConnection, table: str, truth: str, rule_set: RuleSet) -> pd.DataFrame:
    """Share of true pairs each rule keeps, alone and cumulatively (in rule order)."""
    conds = [r.pair_condition() for r in rule_set.rules]
    flags = ", ".join(f"coalesce({c}, false) as k{i}" for i, c in enumerate(conds))
    con.execute(f"""
        create or replace temp table _tp_flags as
        select {flags}
        from ({true_pairs_sql(table, truth)}) tp
        join {table} l on l.rec_key = tp.rec_key_l
        join {table} r on r.rec_key = tp.rec_key_r
    """)
    total = con.execute("select count(*) from _tp_flags").fetchall()[0][0]
    rows = []
    for i, rule in enumerate(rule_set.rules):
        any_so_far = " or ".join(f"k{j}" for j in range(i + 1))
        alone, cumulative = con.execute(
            f"select count(*) filter (where k{i}), count(*) filter (where {any_so_far}) from _tp_flags"
        ).fetchall()[0]
        rows.append({"rule": rule.name, "true_pairs_this_rule_finds": alone, "true_pairs_found_so_far": cumulative,
                     "recall_so_far": cumulative / total if total else 1.0})
    con.execute("drop table _tp_flags")
    return pd.DataFrame(rows).assign(true_pairs=total)


def analyse_job(job, *, truth: str | None = None, progress=None) -> pd.DataFrame:
    """Pairs each rule of ``job``'s rule set generates, alone and cumulatively; recall with ``truth``.

    ``progress`` (``linkage.progress.Progress``) hears reading, standardising and each step.
    """
    from splink.blocking_analysis import count_comparisons_from_blocking_rules
    from splink import DuckDBAPI

    from .model import read_model_input
    from .progress import PhaseTimer

    timer = PhaseTimer(progress)
    con, table = read_model_input(job, timer)
    rule_set = load_rule_set(job.linkage.blocking_rules)
    db_api = DuckDBAPI(connection=con)
    with timer.phase("count pairs per rule"):
        counts = count_comparisons_from_blocking_rules(
            db_api.register(table), blocking_rules=rule_set.to_splink(), link_type="dedupe_only",
            unique_id_column_name="rec_key", record_sample_proportion=1.0)
    # Pair counts are marginal (pairs a rule adds beyond the rules before it), as scoring sees them.
    frame = pd.DataFrame({"rule": [r.name for r in rule_set.rules],
                          "new_pairs": [c["marginal_comparison_count"] for c in counts],
                          "pairs_so_far": [c["cumulative_comparison_count"] for c in counts]})
    n = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    frame["share_of_all_possible_pairs"] = frame["pairs_so_far"] / max(n * (n - 1) // 2, 1)
    if truth:
        from .evaluate.truth import read_truth

        with timer.phase("recall"):
            read_truth(con, truth)
            frame = frame.merge(rule_recall(con, table, "truth", rule_set), on="rule")
    return frame
