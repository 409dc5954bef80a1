"""An independent implementation of the methodology (version 2) sections
2-8, in Python with plain floats, written from the contract text alone
(../shared/docs/methodology.md, not from lib/engine). tests/engine/
independent_test.ts runs it on generated books and compares every facility
with the engine. Overlays (the rest of section 8) are not implemented: the
comparison is on `ecl_model`, the ECL before overlays.

Usage: python3 independent_ecl.py RULES.json DIR
DIR holds input.csv (the portfolio) and results.csv (the engine's loan
results, list columns joined with "|"). Prints one JSON object: loans,
stage_mismatches, worst_relative_error, worst (loan, column, engine, here)
and `exercised`, how many loans reached each version 2 rule (so a test can
check that its book tests them at all).
"""
import calendar, csv, json, sys, math
from statistics import NormalDist

N = NormalDist()
rules = json.load(open(sys.argv[1]))
d = sys.argv[2]
st = rules.get('staging', {})
if st.get('probation_exit_via_stage2'):
    sys.exit('independent_ecl.py: staging.probation_exit_via_stage2 is not part of the contract')
dpd_def = st.get('dpd_default', 90); dpd_sicr = st.get('dpd_sicr', 30)
lcr = st.get('low_credit_risk_pd', 0.003); rel = st.get('pd_relative_threshold', 2.0); ab = st.get('pd_absolute_threshold', 0.005)
segs = rules['segments']
adj = rules.get('scenario_adjustment', 'multiplier')
scen = rules['scenarios']
# §4: absent means "the last value repeats"; a whole number N >= 0 means
# linear reversion to neutral over N years, neutral from year L + N + 1.
reversion = rules.get('scenario_reversion_years')
SEGMENT_DEFAULTS = {'pd_curve': 'flat', 'recovery_lag_months': 0}


def seg(name):
    # §10: a segment entry overrides the default entry key by key; a
    # segment without an entry takes the default entry.
    return {**SEGMENT_DEFAULTS, **segs['default'], **segs.get(name, {})}


def b(x): return x.lower() == 'true'
def f(x): return float(x) if x != '' else None
def ymd(s): y, m, dd = s.split('-'); return int(y), int(m), int(dd)


def last_day(y, m): return calendar.monthrange(y, m)[1]


def add_months(D, k):
    """§2: the date k calendar months after D, same day of the month clipped
    to the target month's last day; from the last day of a month, the last
    day of the target month (end-of-month convention)."""
    y, m, dd = D
    i = (m - 1) + k
    ty, tm = y + i // 12, i % 12 + 1
    if dd == last_day(y, m):
        return (ty, tm, last_day(ty, tm))
    return (ty, tm, min(dd, last_day(ty, tm)))


def remaining_term(R, M):
    """§2: the smallest whole k >= 1 with addMonths(R, k) >= M (tuples
    compare as dates)."""
    k = 1
    while add_months(R, k) < M:
        k += 1
    return k


def v1_term(R, M):
    # The version 1 count, only to report how many loans the end-of-month
    # convention changes (`exercised.eom_terms`).
    return max(1, 12 * (M[0] - R[0]) + (M[1] - R[1]) + (1 if M[2] > R[2] else 0))


def scenario_value(v, y, neutral):
    """§4: the scenario vector's value in year y (1-based). Past its end, of
    length L: the last value repeats, or with scenario_reversion_years N,
    year L + j is last + (neutral - last) * j / (N + 1) for j = 1..N and
    neutral afterwards."""
    L = len(v)
    if y <= L:
        return v[y - 1]
    last = v[-1]
    if reversion is None:
        return last
    j = y - L
    if j <= reversion:
        return last + (neutral - last) * j / (reversion + 1)
    return neutral


worst = 0; wk = None; n = 0; bad = 0
exercised = {'eom_terms': 0, 'reverted_years': 0, 'lagged_recoveries': 0,
             'stage3_revolving_undrawn': 0, 'shaped_declining': 0,
             'pd_test_tolerance': 0}
res = {r['loan_id']: r for r in csv.DictReader(open(f'{d}/results.csv'))}
for row in csv.DictReader(open(f'{d}/input.csv')):
    prod = rules['products'][row['product']]
    segname = row['segment'] or row['product']
    sp = seg(segname)
    p0 = float(row['pd_12m_origination']); p1 = float(row['pd_12m_current'])
    dpd = int(row['days_past_due'])
    # §3, in the contract's order; the PD test with its tolerances.
    trig = []
    if b(row['default_flag'] or 'false'): trig.append(('DEFAULT_FLAG', 3))
    if dpd >= dpd_def: trig.append(('DPD_90', 3))
    if dpd > dpd_sicr: trig.append(('DPD_30', 2))
    if b(row['watchlist'] or 'false'): trig.append(('WATCHLIST', 2))
    if b(row['forborne'] or 'false'): trig.append(('FORBORNE', 2))
    if p1 > lcr and p1 / p0 >= rel - 1e-9 and p1 - p0 >= ab - 1e-12:
        trig.append(('PD_SICR', 2))
        if not (p1 / p0 >= rel and p1 - p0 >= ab): exercised['pd_test_tolerance'] += 1
    stage, reason = (trig[0][1], trig[0][0]) if trig else (1, 'PERFORMING')
    if prod['repayment'] == 'revolving':
        m = prod['behavioural_life_months']
    else:
        R = ymd(row['reporting_date']); M = ymd(row['maturity_date'])
        m = remaining_term(R, M)
        if m != v1_term(R, M): exercised['eom_terms'] += 1
    B = float(row['balance']); r = float(row['interest_rate']) / 12
    C = f(row['collateral_value']) or 0.0
    lag = sp['recovery_lag_months']
    if lag > 0 and C > 0: exercised['lagged_recoveries'] += 1
    L_ = f(row['credit_limit']) if prod['repayment'] == 'revolving' else None
    if stage == 3 and L_ is not None and L_ > B: exercised['stage3_revolving_undrawn'] += 1
    if sp['pd_curve'] == 'shape' and sp['pd_shape'][-1] < 1: exercised['shaped_declining'] += 1

    def ead(t):
        rp = prod['repayment']
        if rp == 'annuity':
            if r == 0: return B * (m - t + 1) / m
            return B * ((1 + r) ** m - (1 + r) ** (t - 1)) / ((1 + r) ** m - 1)
        if rp == 'linear': return B * (m - t + 1) / m
        if rp == 'bullet': return B
        # §5 revolving: stage 3 treats the undrawn limit as cancelled.
        if stage == 3: return B
        lim = B if L_ is None else L_
        return B + prod['ccf'] * max(0.0, lim - B)

    def qbase(y):
        if sp['pd_curve'] == 'flat': return p1
        g = sp['pd_shape']; return min(1.0, p1 * g[min(y, len(g)) - 1])

    vec_len = max(len(s['pd_multiplier'] if adj == 'multiplier' else s['z']) for s in scen)
    if math.ceil(m / 12) > vec_len: exercised['reverted_years'] += 1
    eclw = e12w = eltw = pdlt = lgdw = 0.0
    per = {}
    for s in scen:
        w = s['weight']; h = s.get('collateral_haircut', 0.0)

        def q(y):
            qb = qbase(y)
            if adj == 'multiplier':
                return min(1.0, qb * scenario_value(s['pd_multiplier'], y, 1.0))
            z = scenario_value(s['z'], y, 0.0); rho = sp['rho']
            if qb >= 1: return 1.0
            return N.cdf((N.inv_cdf(qb) - math.sqrt(rho) * z) / math.sqrt(1 - rho))

        def lgd(t):
            e = ead(t)
            if e == 0: return 0.0
            # §6: the recovery, realised `lag` months after default, is
            # discounted at the monthly EIR.
            rec = min(e, C * (1 - h)) * (1 + r) ** (-lag)
            return max(sp['lgd_floor'], (e - rec) * sp['lgd_unsecured'] / e)

        S = 1.0; e12 = elt = 0.0
        for t in range(1, m + 1):
            y = math.ceil(t / 12)
            hz = 1 - (1 - q(y)) ** (1 / 12)
            Snew = S * (1 - hz); mpd = S - Snew; S = Snew
            term = mpd * lgd(t) * ead(t) * (1 + r) ** (-t)
            elt += term
            if t <= 12: e12 += term
        if stage == 3:
            # §8: PD = 1, no discounting; ecl_12m and ecl_lifetime report it.
            e12 = elt = ecl = lgd(1) * ead(1)
        else:
            ecl = e12 if stage == 1 else elt
        per[s['name']] = ecl
        eclw += w * ecl; e12w += w * e12; eltw += w * elt; pdlt += w * (1 - S); lgdw += w * lgd(1)
    o = res[row['loan_id']]
    n += 1
    if int(o['stage']) != stage or o['stage_reason'] != reason or o['stage_triggers'] != '|'.join(t for t, _ in trig) or int(o['remaining_term_months']) != m:
        bad += 1
        if bad < 5: print('MISMATCH', row['loan_id'], stage, reason, trig, m, o['stage'], o['stage_reason'], o['stage_triggers'], o['remaining_term_months'], file=sys.stderr)
    for k, v in [('ecl_model', eclw), ('ecl_12m', e12w), ('ecl_lifetime', eltw), ('pd_lifetime', pdlt), ('lgd', lgdw), ('ead', ead(1)), ('pd_12m', p1)] + [(f'ecl_{k}', v) for k, v in per.items()]:
        got = float(o[k]); err = abs(got - v) / max(abs(v), 1e-300) if v != 0 else abs(got)
        if err > worst: worst = err; wk = (row['loan_id'], k, got, v)
print(json.dumps({'loans': n, 'stage_mismatches': bad, 'worst_relative_error': worst, 'worst': wk, 'exercised': exercised}))
