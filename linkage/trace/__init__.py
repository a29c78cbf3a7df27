"""Tracing children missing education: the contract's destination rules and school-age lists (§4).

The same code serves two callers: ``childlink trace`` applies it to the linked identities
(child_id), and the synthetic generator applies it to the true identities (person_id) to
write the truth files. Every rule runs as DuckDB SQL over all cases / children at once.
See docs/TRACE_RULES.md for each rule as implemented and every reading it needed.
"""

from .ages import academic_year_age
from .rules import DESTINATIONS, case_destinations
from .school_age import not_in_education, starting_school_without_place

__all__ = ["DESTINATIONS", "academic_year_age", "case_destinations", "not_in_education",
           "starting_school_without_place"]
