"""Generate docs/CLI.md from the click commands' --help, so the reference never drifts.

Run:  python docs/cli_reference.py   (tests/test_cli_reference.py fails when CLI.md is stale)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli import main  # noqa: E402

TARGET = ROOT / "docs" / "CLI.md"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name in sorted(group.commands):
        command = group.commands[name]
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def render() -> str:
    runner = CliRunner()
    parts = ["# childlink command reference", "",
             "Generated from `--help` by `python docs/cli_reference.py`; do not edit by hand.", ""]
    for path, _command in [((), main), *_commands(main)]:
        result = runner.invoke(main, [*path, "--help"], prog_name="childlink", terminal_width=100)
        title = " ".join(("childlink", *path))
        parts += [f"## {title}", "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")
