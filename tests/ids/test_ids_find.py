"""`childlink find`: candidate identities for one child described on the phone."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from cli import main
from linkage.errors import ChildlinkError
from linkage.find import find_child
from linkage.link import link
from linkage.synthetic.world import generate
from linkage.workspace import attached, open_workspace

from ids_world import job_in


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    base = tmp_path_factory.mktemp("find_world")
    generate(400, 8, base)
    job = job_in(base, base / "ws")
    link(job, base / "run", write_report=False)
    return job


def a_school_child(job) -> dict:
    """A school record whose child has other records too, and the child's ID."""
    con = open_workspace()
    with attached(con, job.workspace_dir / "workspace.duckdb", read_only=True) as ws:
        row = con.execute(f"""
            SELECT r.forename, r.surname, r.dob, r.postcode, i.child_id
            FROM {ws}.records r JOIN {ws}.identities i USING (source, record_id)
            WHERE r.source = 'education' AND i.cluster_size >= 3 AND r.forename IS NOT NULL
              AND r.dob ~ '^\\d{{4}}-\\d\\d-\\d\\d$' AND r.postcode IS NOT NULL
            ORDER BY r.record_id LIMIT 1""").fetchall()[0]
    return dict(zip(("forename", "surname", "dob", "postcode", "child_id"), row))


def test_the_child_is_the_top_candidate_with_the_evidence(linked):
    child = a_school_child(linked)
    result = find_child(linked, forename=child["forename"], surname=child["surname"], dob=child["dob"],
                        postcode=child["postcode"])
    best = result.candidates[0]
    assert best.child_id == child["child_id"] and best.match_probability > 0.99
    assert best.records >= 3 and "education" in best.sources
    steps = {e["comparison"]: e for e in best.explanation}
    assert steps["dob"]["label"] == "same" and steps["dob"]["weight"] > 0
    assert steps["forename"]["weight"] > 0 and "dob: same" in best.explain()
    assert [c.match_probability for c in result.candidates] == \
        sorted((c.match_probability for c in result.candidates), reverse=True)


def test_the_query_is_standardised_like_a_record(linked):
    child = a_school_child(linked)
    year, month, day = child["dob"].split("-")
    result = find_child(linked, forename=child["forename"].upper(), surname=f"  {child['surname'].lower()} ",
                        dob=f"{day}/{month}/{year}")
    assert result.candidates[0].child_id == child["child_id"]


def test_a_stranger_finds_no_likely_candidate(linked):
    result = find_child(linked, forename="Zebedee", surname="Quackenbush", dob="2001-01-01")
    assert all(c.match_probability < 0.5 for c in result.candidates)


def test_a_search_never_writes_to_the_workspace(linked):
    path = linked.workspace_dir / "workspace.duckdb"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    child = a_school_child(linked)
    find_child(linked, forename=child["forename"], surname=child["surname"], dob=child["dob"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_bad_searches_are_clear_errors(linked, tmp_path):
    with pytest.raises(ChildlinkError, match="needs a dob"):
        find_child(linked, forename="Amy", surname="Clarke", dob=" ")
    with pytest.raises(ChildlinkError, match="not a date"):
        find_child(linked, forename="Amy", surname="Clarke", dob="31/02/2015")
    with pytest.raises(ChildlinkError, match="no workspace yet"):
        find_child(job_in(linked.folder, tmp_path / "empty"), forename="Amy", surname="Clarke", dob="2015-01-01")


def test_the_find_command_prints_candidates_without_names(linked):
    child = a_school_child(linked)
    out = CliRunner().invoke(main, ["find", str(linked.path), "--forename", child["forename"], "--surname",
                                    child["surname"], "--dob", child["dob"], "--limit", "3"])
    assert out.exit_code == 0, out.output
    assert child["child_id"] in out.output and "probability" in out.output
    assert child["surname"] not in out.output and child["dob"] not in out.output
