"""Peer reference: the Python recordlinkage toolkit comparing the same candidate pairs.

Throughput only: recordlinkage has none of childlink's custom levels, so it gets the nearest
features it offers (Jaro-Winkler on names, exact date of birth, sex, postcode, dwelling, NHS
number, passport, carer surname, life stage). Run it in a scratch virtualenv, since
recordlinkage is not a childlink dependency:

    python -m venv /tmp/rl && /tmp/rl/bin/pip install recordlinkage pyarrow
    python benchmarks/ceiling.py JOB --export /tmp/ceiling
    /tmp/rl/bin/python benchmarks/peer.py /tmp/ceiling
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
import recordlinkage


def main(folder: Path) -> None:
    records = pd.read_parquet(folder / "records.parquet").set_index("rec_key")
    pairs = pd.read_parquet(folder / "pairs.parquet")
    index = pd.MultiIndex.from_arrays([pairs.rec_key_l.to_numpy(), pairs.rec_key_r.to_numpy()])
    compare = recordlinkage.Compare(n_jobs=2)
    compare.string("forename1", "forename1", method="jarowinkler", label="forename")
    compare.string("surname1", "surname1", method="jarowinkler", label="surname")
    compare.exact("dob_iso", "dob_iso", label="dob")
    for col in ("sex_std", "postcode_std", "uprn_std", "nhs_number_std", "passport_std", "life_stage"):
        compare.exact(col, col, label=col)
    compare.string("carer_surname_std", "carer_surname_std", method="jarowinkler", label="carer_surname")
    start = time.perf_counter()
    vectors = compare.compute(index, records)
    seconds = time.perf_counter() - start
    print(json.dumps({"pairs": len(vectors), "recordlinkage_s": round(seconds, 2),
                      "recordlinkage_pairs_per_s": round(len(vectors) / seconds),
                      "recordlinkage_version": recordlinkage.__version__}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
