"""The canonical record: the one shape every source is read into (contract, ../shared/SOURCES.md §1).

Two tables carry records through the pipeline, both in the run's DuckDB workspace:

``records``      one row per usable input row, every field as trimmed text (NULL when missing),
                 in canonical column names after the job's column mapping. Written by
                 ``linkage.sources``.
``std_records``  ``records`` plus typed and standardised columns (see STANDARDISED_COLUMNS),
                 written by ``linkage.standardise``. Everything downstream (blocking, scoring,
                 clustering, tracing) reads this table.

Rows that cannot be used go to ``rejects`` (source, record_id, row_number, reason).
"""

SOURCE_TYPES = ("education", "council_tax", "gp", "social_care", "border")

# Columns the pipeline adds to every record.
KEY_COLUMNS = ("source", "source_type", "record_id", "row_number")

PERSON_FIELDS = (
    "forename", "middle_names", "surname", "preferred_surname", "former_surname",
    "dob", "sex", "address_line", "postcode", "uprn", "carer_forename", "carer_surname",
)

IDENTIFIER_FIELDS = ("nhs_number", "upn", "former_upn", "la_child_id", "passport_number")

EVENT_FIELDS = {
    # sen (optional): special educational needs code, e.g. School Census SENprovision (E, K); CME triage reads it
    "education": ("la_code", "school_urn", "entry_date", "leaving_date", "sen"),
    "council_tax": ("account_ref", "role", "occupancy_start", "occupancy_end"),
    "gp": ("practice_code", "registration_date", "deregistration_date", "deregistration_reason"),
    "social_care": ("episode_type", "episode_start", "episode_end"),
    "border": ("nationality", "direction", "travel_date", "port"),
}

ALL_EVENT_FIELDS = tuple(f for fields in EVENT_FIELDS.values() for f in fields)

# Event fields that hold dates (parsed to DATE in std_records under the same name).
EVENT_DATE_FIELDS = (
    "entry_date", "leaving_date", "occupancy_start", "occupancy_end",
    "registration_date", "deregistration_date", "episode_start", "episode_end", "travel_date",
)

# Every canonical input column, in table order (after KEY_COLUMNS). A source that lacks a
# field has it as NULL, so all sources share one table.
CANONICAL_FIELDS = PERSON_FIELDS + IDENTIFIER_FIELDS + ALL_EVENT_FIELDS

REQUIRED_FIELDS = ("record_id",)

DEREGISTRATION_REASONS = ("embarkation", "moved", "gone_away", "death", "other")
COUNCIL_TAX_ROLES = ("liable", "partner", "dependant")
EPISODE_TYPES = ("CIN", "CP", "CLA")
DIRECTIONS = ("IN", "OUT")

# Columns standardisation adds (std_records = records columns + these; event date fields are
# replaced in place by DATE values). Names are the contract between standardise and linkage.
STANDARDISED_COLUMNS = {
    "forename_std": "VARCHAR: folded forename, lower-case a-z tokens separated by one space",
    "forename1": "VARCHAR: first token of forename_std",
    "forename_aliases": "VARCHAR[]: canonical name keys of forename1 (diminutives and variants), incl. itself",
    "forename_phonetic": "VARCHAR: phonetic key (NYSIIS) of forename1",
    "middle_names_std": "VARCHAR: folded middle names",
    "surname_std": "VARCHAR: folded surname, tokens separated by one space",
    "surname1": "VARCHAR: first token of surname_std",
    "surname_tokens": "VARCHAR[]: tokens of surname_std with spelling variants (mueller/muller, kowalska/kowalski)",
    "surname_history_tokens": "VARCHAR[]: surname_tokens plus tokens of preferred and former surname",
    "surname_phonetic": "VARCHAR: phonetic key (NYSIIS) of surname1",
    "name_tokens": "VARCHAR[]: all tokens of forename, middle names and surname (order-free)",
    "carer_surname_std": "VARCHAR: folded carer surname",
    "dob_date": "DATE: parsed date of birth (NULL if unparseable or in the future)",
    "dob_iso": "VARCHAR: dob_date as YYYY-MM-DD",
    "dob_year": "INTEGER", "dob_month": "INTEGER", "dob_day": "INTEGER",
    "sex_std": "VARCHAR: 'M', 'F' or NULL",
    "postcode_std": "VARCHAR: 'SW1A 1AA' form, NULL if unparseable",
    "postcode_sector": "VARCHAR: 'SW1A 1'",
    "postcode_district": "VARCHAR: 'SW1A'",
    "postcode_area": "VARCHAR: 'SW'",
    "address_std": "VARCHAR: folded address line",
    "uprn_std": "BIGINT: UPRN by integer value",
    "nhs_number_std": "VARCHAR: 10 digits, only when the check digit is valid",
    "upn_std": "VARCHAR: upper-case UPN, only when valid",
    "former_upn_std": "VARCHAR: upper-case former UPN, only when valid",
    "upn_ids": "VARCHAR[]: valid UPNs of the record (upn and former_upn)",
    "upn_temporary": "BOOLEAN: the UPN is a temporary one (ends in a letter)",
    "dq_flags": "VARCHAR[]: data-quality flags, e.g. invalid_nhs_number, bad_dob, unparseable_postcode",
}
