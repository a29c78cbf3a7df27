"""The world model's rates, in one place (docs/SYNTHETIC.md explains each).

Per-source corruption rates are data (``data/corruption_rates.csv``); these are the rates of
the world itself: family shapes, life events over the three years before the reference date,
and how often each event leaves a trace in each source.
"""

# ---------------------------------------------------------------- families
CHILDREN_PER_HOUSEHOLD = {1: 0.38, 2: 0.38, 3: 0.17, 4: 0.07}
TWO_CARERS = 0.75                 # else one carer (a mother 88% of the time)
SINGLE_CARER_IS_MOTHER = 0.88
SINGLE_CARER_SHARES_SURNAME = 0.60
FATHER_SHARES_SURNAME = 0.90
TWIN_SHARE = 0.03                 # of children
TWINS_SAME_SEX = 0.65
HALF_SIBLING_SURNAME = 0.07       # child in a multi-child household with a surname of its own
DOUBLE_BARRELLED = 0.04           # english households whose children are Smith-Jones
GOES_BY_SHORT_FORM = 0.45         # of people whose forename has a diminutive (Alfred -> Alfie)
SIBLING_MIN_GAP_DAYS = 330
MALE_SHARE = 0.51

# ---------------------------------------------------------------- household fates (3 years)
FATES = {
    "stay": 0.66, "move_within": 0.15, "move_out": 0.06, "emigrate": 0.04,
    "arrive_abroad": 0.04, "arrive_from_la": 0.04, "vanish": 0.01,
}
OCCUPANCY_BEFORE_WINDOW_MAX_DAYS = 4000     # how long before the window a family moved in
COUNCIL_TAX_REDUCTION_CLAIM = 0.30          # households whose children are named as dependants
PARTNER_LISTED = 0.85                       # second carer named on the council tax account
EMIGRANT_COUNCIL_TAX_STALE = 0.30           # account left open after emigrating
VANISH_COUNCIL_TAX_STALE = 0.30

# ---------------------------------------------------------------- child events
SURNAME_CHANGE = 0.015            # step-parent: legal change or informal (preferred) surname
SURNAME_CHANGE_LEGAL = 0.60
ADOPTION = 0.002                  # new surname AND new NHS number; CLA episode before
DEATH = 0.0003
ELECTIVE_HOME_EDUCATION = 0.006   # of school-age children in stable households
OFF_ROLLED_UNREFERRED = 0.004     # left a roll early in the window, never referred
SOCIAL_CARE = 0.05
SOCIAL_CARE_IF_CME = 0.20

# ---------------------------------------------------------------- schooling
PUPILS_PER_PRIMARY = 280
PUPILS_PER_SECONDARY = 1000
SIXTH_FORM_SAME_SCHOOL = 0.25     # Year 11 pupils who stay on (the "few 16-17")
SCHOOL_CHANGE_ON_LOCAL_MOVE = 0.35
TRANSFER_FILE_SEEN = 0.50         # movers-out whose new school's enrolment reaches us
RECEPTION_WITHOUT_PLACE = 0.05    # Reception-age children with no school place
ARRIVAL_SCHOOL_PLACE = 0.85       # school-age arrivals from abroad who get a place

# ---------------------------------------------------------------- GP registration
GP_NEVER_REGISTERED = 0.03
GP_REREGISTER_ON_LOCAL_MOVE = 0.40
GP_REGISTER_AFTER_MOVE_OUT = 0.93
GP_EMBARKATION = 0.55             # emigrants deregistered 'embarkation' (others stay open)
GP_GONE_AWAY = 0.70               # vanished families deregistered 'gone_away'
PRACTICE_LIST_SIZE = 1500         # children per home-LA practice

# ---------------------------------------------------------------- border
HOLIDAY_HOUSEHOLDS = 0.30         # households with 1-2 trips abroad in the window
EMIGRANT_OUT_RECORDED = 0.90
ARRIVAL_IN_RECORDED = 0.85
PASSPORT_RENEWED = 0.15           # travellers with a second passport number later in the window
DECOY_ROWS_PER_REAL_ROW = 1.0
DECOY_SHARES_DOB = 0.60           # decoy born the same day as a real child
DECOY_SHARES_FORENAME = 0.15      # ... and with the same forename

# ---------------------------------------------------------------- children missing education
CME_HOUSEHOLDS_PER_CHILD = 0.0075  # households referred, per child in the world
CME_MIN_HOUSEHOLDS = 20            # so small test worlds still hold every situation
CME_MIX = {                        # intended destination (Children's Commissioner's findings)
    "left_england": 0.35, "in_education_elsewhere": 0.25, "moved_out_of_area": 0.15,
    "in_area_not_in_education": 0.15, "no_trace": 0.10,
}

# ---------------------------------------------------------------- bad rows per CSV source
BAD_ROWS = {"missing_record_id": 2, "duplicate_record_id": 2, "ragged_row": 1, "formula_value": 1}
