"""The model: EM guard, fallback, m floor, save/load, blocking rule sets."""

from __future__ import annotations

import copy
import json

import pytest

from linkage.blocking import load_rule_set
from linkage.errors import ChildlinkError
from linkage.model import DEFAULT_MODEL, M_FLOOR, check_model, fill_unobserved_u, floor_m, load_model, train


@pytest.fixture(scope="module")
def default_model():
    return load_model(DEFAULT_MODEL)


def comparison(model, name):
    return next(c for c in model["comparisons"] if c["output_column_name"] == name)


def test_the_committed_default_model_passes_the_guard(default_model):
    assert check_model(default_model) == []


def test_guard_catches_m_close_to_u(default_model):
    bad = copy.deepcopy(default_model)
    for lv in comparison(bad, "forename")["comparison_levels"]:
        if not lv.get("is_null_level"):
            lv["m_probability"] = lv["u_probability"]
    problems = check_model(bad)
    assert any("forename" in p and "close to zero" in p for p in problems)


def test_guard_catches_a_flipped_sign(default_model):
    bad = copy.deepcopy(default_model)
    levels = [lv for lv in comparison(bad, "dob")["comparison_levels"] if not lv.get("is_null_level")]
    for key in ("m_probability", "u_probability"):      # agreement and disagreement trade places
        levels[0][key], levels[-1][key] = levels[-1][key], levels[0][key]
    problems = check_model(bad)
    assert any(p.startswith("dob:") and "not stronger" in p for p in problems)
    assert any(p.startswith("dob:") and "sign flipped" in p for p in problems)


def test_floor_lifts_untrained_m_but_not_fixed_ones(default_model):
    model = copy.deepcopy(default_model)
    lv = [lv for lv in comparison(model, "address")["comparison_levels"] if not lv.get("is_null_level")][1]
    lv["m_probability"] = 0.0
    fixed = [lv for lv in comparison(model, "life_stage")["comparison_levels"] if lv.get("fix_m_probability")][0]
    before = fixed["m_probability"]
    floor_m(model)
    assert lv["m_probability"] == M_FLOOR
    assert fixed["m_probability"] == before < M_FLOOR


def test_an_identifier_agreement_sampling_never_saw_gets_u_from_an_exact_count(default_model):
    import duckdb

    con = duckdb.connect()
    # 5 records hold an NHS number, two share one: 1 sharing pair of 10. UPNs: 3 records, one
    # value in two lists: 1 of 3. Passports: a single holder, nothing to count.
    con.execute("""create table t as select * from (values
        ('9990000018', ['A1', 'B1'], 'P1'), ('9990000018', ['A1'], null), ('9990000026', ['C1'], null),
        ('9990000034', [], null), ('9990000042', null, null), (null, null, null))
        v(nhs_number_std, upn_ids, passport_std)""")
    model = copy.deepcopy(default_model)
    for comp in model["comparisons"]:
        if comp["output_column_name"] in ("nhs_number", "upn", "passport"):
            [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")][0]["u_probability"] = None
    filled = {c["output_column_name"]: [lv["u_probability"] for lv in c["comparison_levels"] if not lv.get("is_null_level")]
              for c in fill_unobserved_u(con, "t", model)["comparisons"]}
    assert filled["nhs_number"][0] == pytest.approx(1 / 10) and sum(filled["nhs_number"]) == pytest.approx(1)
    assert filled["upn"][0] == pytest.approx(1 / 3) and sum(filled["upn"]) == pytest.approx(1)
    assert filled["passport"][0] is None                       # one holder: left for the guard to report
    untouched = {c["output_column_name"]: c for c in default_model["comparisons"]}["forename"]
    assert {c["output_column_name"]: c for c in model["comparisons"]}["forename"] == untouched


def test_failed_training_falls_back_to_the_default_model(tmp_path, monkeypatch):
    """Training that fails the guard returns the fallback model and says why."""
    import duckdb

    from linkage import model as model_module
    from linkage.job import load_job
    from linkage.prepare import prepare
    from linkage.synthetic.world import generate

    generate(150, 5, tmp_path)
    job = load_job(tmp_path / "job.yaml")
    con = duckdb.connect()
    prepare(job, con)
    table = model_module.create_model_input(con, job.reference_date)
    monkeypatch.setattr(model_module, "check_model", lambda m: ["forename: m close to u"])
    result = train(con, table, load_rule_set("default"), seed=1, max_pairs=100_000, fallback=DEFAULT_MODEL)
    assert result.fell_back and result.problems == ["forename: m close to u"]
    assert result.model == load_model(DEFAULT_MODEL)


def test_train_command_falls_back_and_says_so(tmp_path, monkeypatch):
    """The CLI saves the default model when training fails the guard, and says it failed."""
    from click.testing import CliRunner

    from cli import main
    from linkage import model as model_module
    from linkage.synthetic.world import generate

    generate(150, 6, tmp_path)
    monkeypatch.setattr(model_module, "check_model", lambda m: ["dob: agreement is not stronger than disagreement"])
    out = tmp_path / "model.json"
    result = CliRunner().invoke(main, ["train", str(tmp_path / "job.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "FAILED the EM guard" in result.output and "passed" not in result.output
    assert "warning: dob: agreement is not stronger" in result.output
    assert json.loads(out.read_text()) == load_model(DEFAULT_MODEL)


def test_load_model_rejects_files_that_are_not_models(tmp_path, default_model):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ChildlinkError, match="not a model JSON"):
        load_model(tmp_path / "x.json")
    older = copy.deepcopy(default_model)
    older["comparisons"] = older["comparisons"][:3]
    (tmp_path / "old.json").write_text(json.dumps(older))
    with pytest.raises(ChildlinkError, match="expects"):
        load_model(tmp_path / "old.json")


def test_rule_sets_load_by_name_or_path_and_refuse_bad_rules(tmp_path):
    rules = load_rule_set("default")
    assert rules.rules[0].name == "nhs_number" and rules.training
    (tmp_path / "mine.yaml").write_text("rules:\n  - name: both\n    equal: [dob_date]\n    sql: l.a = r.a\n")
    with pytest.raises(ChildlinkError, match="exactly one of 'equal' or 'sql'"):
        load_rule_set(tmp_path / "mine.yaml")
    with pytest.raises(ChildlinkError, match="not found"):
        load_rule_set("no_such_rules")


def test_model_input_carries_every_written_form_of_a_forename():
    """forename_forms lets the model see 'jscob' as one letter from 'jacob', a form of 'jake'."""
    import duckdb

    from linkage.job import load_job
    from linkage.model import create_model_input
    from linkage.prepare import prepare

    job = load_job("sample_data/job.yaml")
    con = duckdb.connect()
    prepare(job, con)
    create_model_input(con, job.reference_date)
    forms = con.execute("""select f.form from (select unnest(['jacob', 'jake']) as canonical) a
                           join _name_forms f using (canonical)""").fetchall()
    assert {"jacob", "jake", "jakub"} <= {f[0] for f in forms}
    sample = con.execute("select forename_forms from link_input where forename1 = 'daniel' limit 1").fetchall()
    assert sample and {"daniel", "danny", "dan"} <= set(sample[0][0])
