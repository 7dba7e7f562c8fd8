"""Every number that shapes the Helloword demo dataset, in one place (``docs/demo-dataset.md`` explains each).

The generator is a small structural causal model. Each account draws a latent *propensity* ``z ~ N(0, 1)``
(fit between the company and the product); everything else is drawn from it and from what happened before:

    z ──► fast activation (first ``report_created`` ≤ 7 days) ──► usage intensity ──► expansion
    │              │                                                     │
    ▼              ▼                                                     ▼
  NPS score ◄── tickets (csat)                                      events / day
    │   │
    │   └─► promoters refer ──► referral leads ──► some become customers
    ▼
  monthly churn hazard ◄── fast activation, latest NPS, recent late invoices, sponsor, champion, segment, tenure
    │
    └─► usage decays over the 60 days before the cancellation takes effect

Hazards are monthly (per billing period) and turned into probabilities with ``1 - exp(-rate)``.
Changing a value here changes the dataset (and the docs' numbers); bump ``GENERATOR_VERSION`` when you do.
"""

from __future__ import annotations

from datetime import date

GENERATOR_VERSION = "1"
SEED = 20240101

DATA_START = date(2024, 1, 1)
DATA_END = date(2025, 12, 31)  # inclusive: the "data end" every as-of defaults to

# --- population -------------------------------------------------------------------------------------------
BASE_CUSTOMERS = 1_840  # customers from non-referral channels; promoters' referrals add roughly 150 more
TOTAL_LEADS = 6_000  # exactly; non-converting leads fill up to this number
SIGNUP_GROWTH = 1.0  # signup intensity grows linearly from 1 to 1 + SIGNUP_GROWTH over the window

CHANNELS = ("organic", "paid_search", "paid_social", "partner", "outbound")  # referral customers come from referrals
CHANNEL_WEIGHTS = (0.30, 0.25, 0.15, 0.13, 0.17)
CHANNEL_PROPENSITY = {"organic": 0.15, "paid_search": 0.0, "paid_social": -0.30, "partner": 0.20,
                      "outbound": -0.10, "referral": 0.45}  # shift of z: referred accounts fit better
CHANNEL_CAC = {"organic": 250.0, "paid_search": 900.0, "paid_social": 650.0, "partner": 1_400.0,
               "outbound": 2_800.0, "referral": 350.0}  # acquisition cost of an SMB account; × SEGMENT_CAC

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_WEIGHTS = {"organic": (0.78, 0.19, 0.03), "paid_search": (0.75, 0.21, 0.04), "paid_social": (0.85, 0.14, 0.01),
                   "partner": (0.45, 0.40, 0.15), "outbound": (0.30, 0.45, 0.25), "referral": (0.65, 0.28, 0.07)}
SEGMENT_CAC = {"SMB": 1.0, "Mid-Market": 3.0, "Enterprise": 9.0}
SEGMENT_SEATS = {"SMB": (2, 12), "Mid-Market": (12, 60), "Enterprise": (60, 250)}  # uniform, inclusive
SEGMENT_PLANS = {"SMB": (0.65, 0.30, 0.05, 0.0), "Mid-Market": (0.10, 0.50, 0.35, 0.05),
                 "Enterprise": (0.0, 0.05, 0.40, 0.55)}  # Starter, Growth, Pro, Enterprise
SEGMENT_SIZES = {"SMB": (("1-10", 0.55), ("11-50", 0.45)), "Mid-Market": (("51-200", 0.7), ("201-1000", 0.3)),
                 "Enterprise": (("201-1000", 0.3), ("1000+", 0.7))}
SEGMENT_SPONSOR = {"SMB": 0.15, "Mid-Market": 0.40, "Enterprise": 0.75}  # P(executive sponsor known)
SEGMENT_CHAMPION = {"SMB": 0.45, "Mid-Market": 0.65, "Enterprise": 0.80}  # P(champion named)

PLANS = ("Starter", "Growth", "Pro", "Enterprise")
PLAN_SEAT_PRICE = {"Starter": 12.0, "Growth": 25.0, "Pro": 45.0, "Enterprise": 80.0}  # MRR = price × seats

# --- activation (first value event = report_created) ------------------------------------------------------
FAST_ACTIVATION_INTERCEPT = 0.25  # logit P(first report within 7 days) = a + b·z (+ assisted onboarding)
FAST_ACTIVATION_Z = 0.9
ASSISTED_ONBOARDING = {"partner": 0.4, "outbound": 0.3}  # channels whose accounts get onboarding help
SLOW_NEVER_ACTIVATE = 0.35  # of the slow accounts, share that never create a report
SLOW_DAYS_MEAN = 20.0  # slow accounts: first report 8 + Exponential(mean) days after signup
ONBOARDING_STEPS = 4  # onboarding_step_completed events, one per step, within 30 days
ONBOARDING_STEP_P = (0.55, 0.90)  # P(complete each step) for slow / fast accounts

# --- usage -------------------------------------------------------------------------------------------------
USAGE_Z = 0.5  # log usage intensity = USAGE_Z·z + USAGE_FAST·fast + N(0, USAGE_NOISE)
USAGE_FAST = 0.4
USAGE_NOISE = 0.5
USER_POOL_SHARE = 0.5  # tracked users = clip(round(seats × share), 1, USER_POOL_MAX)
USER_POOL_MAX = 30
DAILY_ACTIVE_P = 0.08  # P(a tracked user is active on a weekday) before the usage multiplier
WEEKEND_FACTOR = 0.25
PRE_ACTIVATION_FACTOR = 0.6  # usage before the first report
DECAY_DAYS = 60  # usage falls linearly to DECAY_FLOOR over the days before churn
DECAY_FLOOR = 0.15
DIP_MONTHLY_P = 0.04  # healthy accounts have occasional 30-day dips (a signal must not be a certainty)
DIP_FACTOR = 0.55
EVENT_P = {"dashboard_viewed": 0.55, "report_created": 0.18, "export_csv": 0.05}  # per active user-day
INTEGRATION_INTERCEPT = -0.4  # logit P(integration_connected) = a + b·z (+1 for Mid-Market/Enterprise)
INTEGRATION_Z = 0.8
API_DAY_P = 0.6  # integrated accounts: P(api_call on an active day)
API_CALLS_MEDIAN = 8.0  # api_call quantity ~ LogNormal(log(median × usage × day factor), 0.6), at least 2

# --- churn hazard (monthly rate) ---------------------------------------------------------------------------
CHURN_BASE = {"SMB": 0.055, "Mid-Market": 0.032, "Enterprise": 0.016}
CHURN_TENURE = ((3, 1.5), (6, 1.2))  # (months, multiplier): the first months are riskier
CHURN_Z = -0.35  # log-hazard coefficients
CHURN_FAST_ACTIVATION = -1.1
CHURN_DETRACTOR = 1.0  # latest NPS response within 180 days
CHURN_PROMOTER = -0.5
CHURN_LATE_PAYMENT = 0.8  # any of the last three invoices paid late or unpaid
CHURN_BAD_TICKET = 0.4  # a ticket with csat <= 2 in the last 90 days
CHURN_SPONSOR = -0.3
CHURN_CHAMPION = -0.3
NPS_MEMORY_DAYS = 180

# --- expansion / contraction (monthly rate) ----------------------------------------------------------------
EXPAND_INTERCEPT = -4.0  # logit P(expand this month) = a + b·log(usage) + c·z
EXPAND_USAGE = 1.3
EXPAND_Z = 0.3
EXPAND_PLAN_SHARE = 0.4  # of expansions, share that upgrade the plan (else add 10–50% seats)
CONTRACT_INTERCEPT = -5.0  # logit P(contract this month) = a + b·log(usage)
CONTRACT_USAGE = -1.0

# --- reactivation -------------------------------------------------------------------------------------------
REACTIVATE_INTERCEPT = -1.8  # logit P(return after churning) = a + b·z
REACTIVATE_Z = 0.6
REACTIVATE_GAP_DAYS = (45, 240)

# --- NPS ---------------------------------------------------------------------------------------------------
NPS_FIRST_SURVEY_DAY = 30  # ± 7
NPS_INTERVAL_DAYS = 91  # ± 14
NPS_RESPONSE_P = 0.42
NPS_MEAN = 7.0  # score = mean + z·NPS_Z + fast·NPS_FAST + heavy·NPS_HEAVY − bad-ticket + N(0, NPS_NOISE)
NPS_Z = 1.4
NPS_FAST = 0.8
NPS_HEAVY = 0.4
NPS_BAD_TICKET = 1.0
NPS_NOISE = 1.4
NPS_COMMENT_P = 0.35

# --- referrals ---------------------------------------------------------------------------------------------
REFERRAL_P = {"promoter": 0.40, "passive": 0.07, "detractor": 0.015}  # per response, a referral within 60 days
REFERRAL_SECOND_P = 0.25  # a referring promoter refers a second lead
REFERRAL_CONVERT_P = 0.38
REFERRAL_FUNNEL_DAYS = (14, 60)

# --- tickets -----------------------------------------------------------------------------------------------
TICKET_RATE = {"SMB": 0.12, "Mid-Market": 0.28, "Enterprise": 0.6}  # per month, × exp(-0.3 z)
TICKET_PRIORITIES = (("low", 0.30), ("normal", 0.45), ("high", 0.18), ("urgent", 0.07))
TICKET_HOURS_TO_CLOSE = {"low": 40.0, "normal": 24.0, "high": 8.0, "urgent": 3.0}  # lognormal median
TICKET_CSAT_P = 0.55
TICKET_CSAT_MEAN = 3.9  # csat = mean + 0.6 z − 0.5·(high/urgent) + N(0, 0.9), rounded to 1..5

# --- invoices ----------------------------------------------------------------------------------------------
DUE_DAYS = 14
LATE_INTERCEPT = -2.4  # logit of an account's late-payment propensity = a − 0.5 z + N(0, 1)
LATE_DAYS = (1, 45)
UNCOLLECTIBLE_P = 0.35  # a churning late payer leaves its last invoice unpaid

# --- engagement touches ------------------------------------------------------------------------------------
OPEN_INTERCEPT = {"email": -0.5, "in_app": 0.6}  # logit P(open) = a + 0.5 z + 0.3 log(usage)
CLICK_P = 0.22
