"""The model's comparisons: how two records are compared, field by field.

Each comparison is a list of levels, checked in order; the first that holds decides the
pair's level for that field, and training gives each level a match weight. Splink 5 has
no level for diminutives, day-month swaps or names recorded in another position, so those
are custom levels written here as plain SQL over the standardised columns
(``linkage.schema.STANDARDISED_COLUMNS``).

A missing value on either side is the null level: neutral, never evidence against.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl

# Probability that one child carries two different valid NHS numbers in two records.
# Fixed rather than trained: a typo almost never survives the check digit, so a mismatch
# means a genuinely different number (adoption, gender re-assignment), which is rare.
NHS_MISMATCH_M = 0.01
# Different valid UPNs for one child are commoner: temporary UPNs that were never
# replaced, and second UPNs allocated by a new school before the transfer file arrived.
UPN_MISMATCH_M = 0.05
# Carer surname: only school records hold one, so EM sees too few pairs to learn it (and can
# drive its m to underflow); two records of one child often name different carers (mother,
# father) with different surnames. Fixed: same, similar, different.
CARER_M = (0.7, 0.05, 0.25)
# Children's passports last five years and some children hold two nationalities.
PASSPORT_MISMATCH_M = 0.2
# An adult's record (a council tax payer) and a child's: the same person only by a data error.
# Clustering also treats an identity holding both as a conflict, because a parent and child
# who share a name and a home pile up enough agreement to outweigh any single penalty.
LIFE_STAGE_MISMATCH_M = 1e-6


def _null(col: str) -> cll.CustomLevel:
    return cll.CustomLevel(f'"{col}_l" IS NULL OR "{col}_r" IS NULL').configure(is_null_level=True)


def _empty_list(col: str) -> cll.CustomLevel:
    return cll.CustomLevel(
        f'"{col}_l" IS NULL OR "{col}_r" IS NULL OR len("{col}_l") = 0 OR len("{col}_r") = 0'
    ).configure(is_null_level=True)


def _in_other_position(token_col: str) -> cll.CustomLevel:
    """The name appears elsewhere in the other record's name: swapped or promoted middle name."""
    return cll.CustomLevel(
        f'list_contains(name_tokens_r, "{token_col}_l") OR list_contains(name_tokens_l, "{token_col}_r")',
        label_for_charts="found in another name position",
    )


def _near_a_form() -> cll.CustomLevel:
    """One letter away from a written form of the other's name (danmy ~ danny for Daniel,
    jscob ~ jacob for Jake): a typo on a diminutive, which no single level catches.
    Names under four letters are left out: too many short names are one letter apart."""
    near = ("list_bool_or(list_transform(forename_forms_{o}, "
            "lambda f: damerau_levenshtein(forename1_{s}, f) <= 1))")
    return cll.CustomLevel(
        f"length(forename1_l) >= 4 AND length(forename1_r) >= 4 AND "
        f"({near.format(o='r', s='l')} OR {near.format(o='l', s='r')})",
        label_for_charts="one letter from a form of the same name")


def forename() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="forename",
        comparison_description="First forename",
        comparison_levels=[
            _null("forename1"),
            cll.ExactMatchLevel("forename1", term_frequency_adjustments=True).configure(label_for_charts="same"),
            cll.CustomLevel("list_has_any(forename_aliases_l, forename_aliases_r)",
                            label_for_charts="diminutive or variant of the same name"),
            _near_a_form(),
            cll.CustomLevel('"forename_phonetic_l" = "forename_phonetic_r"', label_for_charts="sounds alike"),
            cll.JaroWinklerLevel("forename1", 0.92).configure(label_for_charts="very similar spelling"),
            cll.JaroWinklerLevel("forename1", 0.80).configure(label_for_charts="similar spelling"),
            _in_other_position("forename1"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )


def surname() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="surname",
        comparison_description="Surname, with former and preferred surnames",
        comparison_levels=[
            _null("surname1"),
            cll.ExactMatchLevel("surname_std", term_frequency_adjustments=True).configure(label_for_charts="same"),
            cll.CustomLevel("list_has_any(surname_history_tokens_l, surname_history_tokens_r)",
                            label_for_charts="shares a surname part (hyphenated, former, variant)"),
            cll.CustomLevel('"surname_phonetic_l" = "surname_phonetic_r"', label_for_charts="sounds alike"),
            cll.JaroWinklerLevel("surname1", 0.92).configure(label_for_charts="very similar spelling"),
            cll.JaroWinklerLevel("surname1", 0.80).configure(label_for_charts="similar spelling"),
            _in_other_position("surname1"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )


def date_of_birth() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Date of birth",
        comparison_levels=[
            _null("dob_date"),
            cll.ExactMatchLevel("dob_date").configure(label_for_charts="same"),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
                label_for_charts="day and month swapped"),
            cll.CustomLevel("levenshtein(dob_iso_l, dob_iso_r) = 1", label_for_charts="one digit different"),
            cll.CustomLevel("abs(date_diff('day', dob_date_l, dob_date_r)) <= 31", label_for_charts="within a month"),
            cll.CustomLevel("dob_year_l = dob_year_r", label_for_charts="same year"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )


def sex() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[_null("sex_std"), cll.ExactMatchLevel("sex_std").configure(label_for_charts="same"),
                           cll.ElseLevel().configure(label_for_charts="different")],
    )


def address() -> cl.CustomComparison:
    """Where the child lives: dwelling (UPRN), then postcode, sector, district.

    One comparison, not two: the same UPRN implies the same postcode, and counting both
    would double the weight of a shared home (and link parents and siblings).
    Children move, so a different address is only weak evidence against.
    """
    no_address = ("(uprn_std_l IS NULL AND postcode_std_l IS NULL) OR "
                  "(uprn_std_r IS NULL AND postcode_std_r IS NULL)")
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="Address: dwelling (UPRN), postcode, sector, district",
        comparison_levels=[
            cll.CustomLevel(no_address).configure(is_null_level=True),
            cll.CustomLevel("uprn_std_l = uprn_std_r", label_for_charts="same dwelling (UPRN)"),
            cll.CustomLevel("postcode_std_l = postcode_std_r", label_for_charts="same postcode"),
            cll.CustomLevel("postcode_sector_l = postcode_sector_r", label_for_charts="same postcode sector"),
            cll.CustomLevel("postcode_district_l = postcode_district_r", label_for_charts="same postcode district"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )


def nhs_number() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="nhs_number",
        comparison_levels=[
            _null("nhs_number_std"),
            cll.ExactMatchLevel("nhs_number_std").configure(
                label_for_charts="same", m_probability=1 - NHS_MISMATCH_M, fix_m_probability=True),
            cll.ElseLevel().configure(label_for_charts="different", m_probability=NHS_MISMATCH_M,
                                      fix_m_probability=True),
        ],
    )


def upn() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="upn",
        comparison_description="UPN against UPN and former UPN on both sides",
        comparison_levels=[
            _empty_list("upn_ids"),
            cll.CustomLevel("list_has_any(upn_ids_l, upn_ids_r)", label_for_charts="a UPN in common").configure(
                m_probability=1 - UPN_MISMATCH_M, fix_m_probability=True),
            cll.ElseLevel().configure(label_for_charts="none in common", m_probability=UPN_MISMATCH_M,
                                      fix_m_probability=True),
        ],
    )


def passport() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="passport",
        comparison_description="Passport number (border records): a child may renew or hold two",
        comparison_levels=[
            _null("passport_std"),
            cll.ExactMatchLevel("passport_std").configure(label_for_charts="same"),
            cll.ElseLevel().configure(label_for_charts="different", m_probability=PASSPORT_MISMATCH_M,
                                      fix_m_probability=True),
        ],
    )


def carer_surname() -> cl.CustomComparison:
    """A parent's or carer's surname, where a source records one (school census contacts)."""
    return cl.CustomComparison(
        output_column_name="carer_surname",
        comparison_description="Carer surname",
        comparison_levels=[
            _null("carer_surname_std"),
            cll.ExactMatchLevel("carer_surname_std").configure(label_for_charts="same", m_probability=CARER_M[0],
                                                               fix_m_probability=True),
            cll.JaroWinklerLevel("carer_surname_std", 0.9).configure(
                label_for_charts="similar spelling", m_probability=CARER_M[1], fix_m_probability=True),
            cll.ElseLevel().configure(label_for_charts="different", m_probability=CARER_M[2],
                                      fix_m_probability=True),
        ],
    )


def life_stage() -> cl.CustomComparison:
    """An adult (a council tax payer, or born 18+ years before the reference date) is not a child."""
    return cl.CustomComparison(
        output_column_name="life_stage",
        comparison_description="Adult or child, from council tax role, source type and date of birth",
        comparison_levels=[
            _null("life_stage"),
            cll.ExactMatchLevel("life_stage").configure(label_for_charts="same life stage"),
            cll.ElseLevel().configure(label_for_charts="an adult and a child",
                                      m_probability=LIFE_STAGE_MISMATCH_M, fix_m_probability=True),
        ],
    )


def comparisons() -> list[cl.CustomComparison]:
    """All comparisons of the childlink model, in a fixed order (saved models rely on it)."""
    return [forename(), surname(), date_of_birth(), sex(), address(), nhs_number(), upn(),
            passport(), carer_surname(), life_stage()]


# Standardised columns the comparisons and blocking rules read (the model's input table).
MODEL_COLUMNS = (
    "forename1", "forename_aliases", "forename_forms", "forename_phonetic", "surname_std", "surname1", "surname_tokens",
    "surname_history_tokens", "surname_phonetic", "name_tokens", "dob_date", "dob_iso", "dob_year",
    "dob_month", "dob_day", "sex_std", "postcode_std", "postcode_sector", "postcode_district",
    "uprn_std", "nhs_number_std", "upn_ids", "carer_surname_std", "passport_std", "life_stage",
)
