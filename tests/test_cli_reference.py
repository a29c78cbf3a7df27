"""docs/CLI.md is generated from --help and must match the commands as they are."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_cli_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "CLI.md").read_text(encoding="utf-8") == module.render(), \
        "docs/CLI.md is stale: run python docs/cli_reference.py"
