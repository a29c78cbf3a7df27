"""A small linked world for the review tests, with a pair whose names are markup."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from linkage.job import Job, load_job
from linkage.link import link
from linkage.synthetic.world import generate

SCRIPT = "<script>window.pwned=1</script>"
# Two GP records of the "same" girl; one's names carry markup. Same date of birth but a different
# sex and postcode put the pair in the review band (about 0.89 with the default model).
MARKUP_GP = pd.DataFrame([
    {"record_id": "XSS-1", "forename": "Amy" + SCRIPT, "surname": "O'Hara <b>&amp;</b>", "dob": "2015-03-04",
     "sex": "F", "postcode": "B13 9QT", "practice_code": "M85001", "registration_date": "2016-01-01"},
    {"record_id": "XSS-2", "forename": "Amy", "surname": "O'Hara", "dob": "2015-03-04", "sex": "M",
     "postcode": "B20 1EE", "practice_code": "M85002", "registration_date": "2019-01-01"},
])


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    """A generated world of 300 children plus the markup pair (one of them a CME case), linked once
    into ``run/``."""
    folder = tmp_path_factory.mktemp("review_world")
    generate(300, 5, folder)
    MARKUP_GP.to_csv(folder / "markup_gp.csv", index=False)
    with open(folder / "cme_cases.csv", "a", encoding="utf-8") as cases:   # the markup girl is missing education
        cases.write("CMEX001,markup_gp,XSS-1,2026-01-05\n")
    raw = yaml.safe_load((folder / "job.yaml").read_text())
    raw["sources"].append({"name": "markup_gp", "type": "gp", "path": "markup_gp.csv"})
    (folder / "job.yaml").write_text(yaml.safe_dump(raw))
    link(job_with_workspace(folder, folder / "unused_workspace"), folder / "run", write_report=False)
    return folder


@pytest.fixture(scope="session")
def make_job():
    """``make_job(world, workspace, **linkage)``: the world's job with its own workspace."""
    return job_with_workspace


def job_with_workspace(world: Path, workspace: Path, **linkage) -> Job:
    """The world's job with its own workspace folder (so each test has its own decisions)."""
    raw = yaml.safe_load((world / "job.yaml").read_text())
    raw["linkage"] = {**(raw.get("linkage") or {}), "workspace": str(workspace), **linkage}
    path = workspace.parent / f"job_{workspace.name}.yaml"
    raw["sources"] = [{**s, "path": str(world / s["path"])} for s in raw["sources"]]
    for key in ("postcode_lookup", "cme_cases"):
        if raw.get(key):
            raw[key] = str(world / raw[key])
    path.write_text(yaml.safe_dump(raw))
    return load_job(path)
