"""The job file: load it, check it, resolve its paths (contract §3).

A job names the home LA, the sources and optional inputs. childlink extends the contract
with an optional ``linkage:`` section (thresholds, model, blocking rule set, seed); every
extension has a default so a contract-only job file works unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ChildlinkError
from .schema import CANONICAL_FIELDS, SOURCE_TYPES


@dataclass(frozen=True)
class SourceSpec:
    name: str
    type: str
    path: Path
    columns: dict[str, str] = field(default_factory=dict)   # canonical name -> file column
    date_format: str | None = None                          # strptime format, None = detect


@dataclass(frozen=True)
class LinkageSettings:
    match_threshold: float = 0.95          # auto-link at or above this match probability
    review_band: tuple[float, float] = (0.5, 0.95)   # probabilities an officer should review
    model: Path | None = None              # trained model JSON; None = the committed default
    blocking_rules: str = "default"        # a rule set name in blocking_rules/ or a YAML path
    seed: int = 42
    max_pairs_em: int = 1_000_000          # cap on pairs per EM pass: 2M trained the same model, 16 s slower at 100k
    workspace: Path | None = None          # the job's workspace folder; None = <job folder>/.childlink


@dataclass(frozen=True)
class Job:
    path: Path
    home_la: str
    postcode_lookup: Path | None
    reference_date: dt.date
    sources: tuple[SourceSpec, ...]
    cme_cases: Path | None = None
    linkage: LinkageSettings = LinkageSettings()

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def workspace_dir(self) -> Path:
        """Where the job keeps state between runs: the workspace database, review decisions."""
        return self.linkage.workspace or (self.folder / ".childlink")

    def source(self, name: str) -> SourceSpec:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


def _fail(path: Path, message: str) -> ChildlinkError:
    return ChildlinkError(message, file=str(path))


def _resolve(base: Path, value, path: Path, key: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"'{key}' must be a file path")
    p = Path(value)
    return p if p.is_absolute() else (base / p)


def _parse_date(value, path: Path, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(path, f"'{key}' must be a date as YYYY-MM-DD") from None


def _parse_source(raw, base: Path, path: Path, index: int) -> SourceSpec:
    where = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, f"{where} must be a mapping with name, type and path")
    for key in ("name", "type", "path"):
        if key not in raw:
            raise _fail(path, f"{where} has no '{key}'")
    name, stype = str(raw["name"]), str(raw["type"])
    if stype not in SOURCE_TYPES:
        raise _fail(path, f"{where} ('{name}') has type '{stype}'; expected one of {', '.join(SOURCE_TYPES)}")
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict):
        raise _fail(path, f"{where} ('{name}'): 'columns' must map canonical names to file columns")
    unknown = sorted(set(columns) - set(CANONICAL_FIELDS) - {"record_id"})
    if unknown:
        raise _fail(path, f"{where} ('{name}'): 'columns' maps unknown canonical field(s) {', '.join(unknown)}")
    date_format = raw.get("date_format")
    if date_format is not None and "%" not in str(date_format):
        raise _fail(path, f"{where} ('{name}'): date_format must be a strptime format such as %d/%m/%Y")
    return SourceSpec(
        name=name, type=stype, path=_resolve(base, raw["path"], path, f"{where}.path"),
        columns={str(k): str(v) for k, v in columns.items()},
        date_format=str(date_format) if date_format is not None else None,
    )


def _parse_linkage(raw, base: Path, path: Path) -> LinkageSettings:
    if raw is None:
        return LinkageSettings()
    if not isinstance(raw, dict):
        raise _fail(path, "'linkage' must be a mapping")
    d = LinkageSettings()
    try:
        threshold = float(raw.get("match_threshold", d.match_threshold))
        band = tuple(float(x) for x in raw.get("review_band", d.review_band))
        seed = int(raw.get("seed", d.seed))
        max_pairs = int(float(raw.get("max_pairs_em", d.max_pairs_em)))
    except (TypeError, ValueError):
        raise _fail(path, "'linkage' values must be numbers (match_threshold, review_band, seed, max_pairs_em)") from None
    if not 0 < threshold < 1:
        raise _fail(path, "'linkage.match_threshold' must be between 0 and 1")
    if len(band) != 2 or not 0 <= band[0] <= band[1] <= 1:
        raise _fail(path, "'linkage.review_band' must be two probabilities [low, high] with low <= high")
    model = raw.get("model")
    workspace = raw.get("workspace")
    return LinkageSettings(
        match_threshold=threshold, review_band=band,  # type: ignore[arg-type]
        model=_resolve(base, model, path, "linkage.model") if model else None,
        blocking_rules=str(raw.get("blocking_rules", d.blocking_rules)),
        seed=seed, max_pairs_em=max_pairs,
        workspace=_resolve(base, workspace, path, "linkage.workspace") if workspace else None,
    )


def load_job(path: str | Path, *, today: dt.date | None = None) -> Job:
    """Read and check a job file. Raises ChildlinkError with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "job file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ChildlinkError("is not valid YAML", file=str(path),
                             row=line + 1 if line is not None else None) from None
    if not isinstance(raw, dict):
        raise _fail(path, "must be a YAML mapping with home_la and sources")
    base = path.parent
    if "home_la" not in raw:
        raise _fail(path, "has no 'home_la' (the DfE 3-digit code of the authority)")
    home_la = str(raw["home_la"]).strip()
    if not (len(home_la) == 3 and home_la.isdigit()):
        raise _fail(path, "'home_la' must be a 3-digit DfE LA code such as \"330\"")
    sources_raw = raw.get("sources")
    if not isinstance(sources_raw, list) or not sources_raw:
        raise _fail(path, "has no 'sources' list")
    sources = tuple(_parse_source(s, base, path, i) for i, s in enumerate(sources_raw))
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(path, f"source names must be unique; repeated: {', '.join(dupes)}")
    ref = raw.get("reference_date")
    reference_date = _parse_date(ref, path, "reference_date") if ref is not None else (today or dt.date.today())
    lookup = raw.get("postcode_lookup")
    cme = raw.get("cme_cases")
    return Job(
        path=path, home_la=home_la,
        postcode_lookup=_resolve(base, lookup, path, "postcode_lookup") if lookup else None,
        reference_date=reference_date, sources=sources,
        cme_cases=_resolve(base, cme, path, "cme_cases") if cme else None,
        linkage=_parse_linkage(raw.get("linkage"), base, path),
    )
