"""Scoring on Spark: the same model and blocking rules, run by Splink's Spark backend.

``childlink link --backend spark`` reads and standardises the sources in DuckDB as usual, hands
the model's input table to Spark as Parquet, lets Splink score the blocked pairs there, and
brings the pairs back into DuckDB (again as Parquet) for clustering and the outputs. Only the
step that grows with the square of the data moves to Spark.

A saved model is DuckDB SQL (``../shared/SPLINK5.md`` §12), so ``spark_model`` rewrites each
level's condition into Spark SQL, keeping every trained m and u. Spark equivalents:

==============================================  ==========================================
DuckDB (the model)                              Spark
==============================================  ==========================================
``list_has_any(a, b)``                          ``arrays_overlap(a, b)``
``list_bool_or(list_transform(a, lambda ..))``  ``exists(a, x -> ..)``
``len(list)``                                   ``size(list)``
``date_diff('day', a, b)``                      ``datediff(b, a)``
``jaro_winkler_similarity(a, b)``               ``jaro_winkler(a, b)`` (Splink's Scala UDF)
``damerau_levenshtein(a, b)``                   ``damerau_levenshtein(a, b)`` (Splink's UDF)
``levenshtein``, ``list_contains``, ``length``  built in (``array_contains``), unchanged
==============================================  ==========================================

The one known difference: the two Jaro-Winkler implementations disagree for a few name pairs
near a threshold (Splink's notes found 0.7% of pairs), so such a pair can land one level apart
on the two backends. ``tests/scale`` bounds the effect on identities.

Where Spark runs: ``local[2]`` unless the usual Spark configuration says otherwise
(``SPARK_CONF_DIR`` with a ``spark-defaults.conf``, or ``PYSPARK_SUBMIT_ARGS``), or
``CHILDLINK_SPARK_MASTER`` names a master. Parquet handed between DuckDB and Spark goes to
``CHILDLINK_SPARK_EXCHANGE`` (default: the job workspace's ``spark/`` folder), which on a
cluster must be storage every executor can read.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Callable

import duckdb
import sqlglot
from sqlglot import exp

from .errors import ChildlinkError

LOCAL_MASTER = "local[2]"
# Shuffle partitions for local mode; a cluster sets its own in spark-defaults.conf.
LOCAL_SHUFFLE_PARTITIONS = 8


# ------------------------------------------------------------------ the model in Spark SQL
def _to_spark(node: exp.Expression, array_columns: frozenset[str]) -> exp.Expression:
    """One DuckDB expression node rewritten as its Spark equivalent (see the module table)."""
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_bool_or" \
            and isinstance(node.expressions[0], exp.Transform):
        transform = node.expressions[0]
        return exp.Anonymous(this="exists", expressions=[transform.this, transform.expression])
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.DateDiff):
        if str(node.unit).upper() != "DAY":
            raise ChildlinkError(f"the Spark backend cannot translate date_diff in unit {node.unit}")
        return exp.Anonymous(this="datediff", expressions=[node.this, node.expression])
    if isinstance(node, exp.Length) and isinstance(node.this, exp.Column) \
            and node.this.name.removesuffix("_l").removesuffix("_r") in array_columns:
        return exp.Anonymous(this="size", expressions=[node.this])
    return node


def spark_sql(condition: str, array_columns: frozenset[str]) -> str:
    """A model level's DuckDB condition as Spark SQL. ``ELSE`` stays ``ELSE``."""
    if condition.strip().upper() == "ELSE":
        return condition
    tree = sqlglot.parse_one(condition, read="duckdb")
    return tree.transform(lambda n: _to_spark(n, array_columns)).sql(dialect="spark")


def spark_model(model: dict, rule_set, array_columns: frozenset[str]) -> dict:
    """``model`` (a saved DuckDB model) with every condition and blocking rule in Spark SQL.

    m, u, the prior, labels and term-frequency settings are kept as they are.
    """
    out = {**model, "sql_dialect": "spark", "comparisons": []}
    for comp in model["comparisons"]:
        levels = [{**lv, "sql_condition": spark_sql(lv["sql_condition"], array_columns)}
                  for lv in comp["comparison_levels"]]
        out["comparisons"].append({**comp, "comparison_levels": levels})
    out["blocking_rules_to_generate_predictions"] = [
        r.create_blocking_rule_dict("spark") for r in rule_set.to_splink()]
    return out


# ------------------------------------------------------------------ session and exchange
def _configured_elsewhere() -> bool:
    """Whether the usual Spark configuration (rather than childlink) chooses the master."""
    conf_dir = os.environ.get("SPARK_CONF_DIR")
    has_defaults = bool(conf_dir) and (Path(conf_dir) / "spark-defaults.conf").is_file()
    return has_defaults or "--master" in os.environ.get("PYSPARK_SUBMIT_ARGS", "")


def spark_session(checkpoint_dir: Path):
    """A Spark session with Splink's similarity functions on the class path."""
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        raise ChildlinkError("the Spark backend needs PySpark: pip install 'childlink[spark]'") from None
    builder = (SparkSession.builder.appName("childlink")
               .config("spark.jars", similarity_jar_location())
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))   # childlink draws its own progress
    master = os.environ.get("CHILDLINK_SPARK_MASTER")
    if master or not _configured_elsewhere():
        builder = (builder.master(master or LOCAL_MASTER)
                   .config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS)))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return session


def exchange_dir(workspace_dir: Path) -> Path:
    """Where DuckDB and Spark hand each other Parquet files."""
    return Path(os.environ.get("CHILDLINK_SPARK_EXCHANGE") or Path(workspace_dir) / "spark")


def _array_columns(con: duckdb.DuckDBPyConnection, table: str) -> frozenset[str]:
    rows = con.execute(f"describe {table}").fetchall()
    return frozenset(name for name, dtype, *_ in rows if dtype.endswith("[]"))


# ------------------------------------------------------------------ scoring
def score_pairs_spark(con: duckdb.DuckDBPyConnection, table: str, model: dict, rule_set, *,
                      workspace_dir: Path, pair_columns: str, out: str = "pairs",
                      progress: Callable[[int, int], None] | None = None) -> int:
    """Score all blocked pairs of DuckDB ``table`` on Spark into DuckDB table ``out``.

    Same contract as ``linkage.score.score_pairs``: one row per blocked pair with the
    columns ``pair_columns``, ordered by (rec_key_l, rec_key_r); returns the number of pairs.
    """
    from splink import Linker
    from splink.backends.spark import SparkAPI

    folder = exchange_dir(workspace_dir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    model_input, scored = folder / "model_input.parquet", folder / "pairs.parquet"
    con.execute(f"copy (select * from {table} order by rec_key) to '{model_input}' (format parquet)")
    settings = spark_model(model, rule_set, _array_columns(con, table))
    session = spark_session(folder / "checkpoints")
    try:
        db_api = SparkAPI(spark_session=session, num_partitions_on_repartition=LOCAL_SHUFFLE_PARTITIONS)
        records = db_api.register(session.read.parquet(str(model_input)), table_name=table)
        linker = Linker([records], settings, log_level=logging.ERROR)
        predictions = linker.inference.predict().as_spark_dataframe()
        predictions.selectExpr(*[c.strip() for c in pair_columns.split(",")]) \
            .write.mode("overwrite").parquet(str(scored))
    finally:
        session.stop()
    if progress:
        progress(1, 1)
    con.execute(f"""create or replace table {out} as
                    select {pair_columns} from read_parquet('{scored}/*.parquet') order by rec_key_l, rec_key_r""")
    shutil.rmtree(folder, ignore_errors=True)   # the exchange holds personal data: keep none of it
    return con.execute(f"select count(*) from {out}").fetchall()[0][0]
