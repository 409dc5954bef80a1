"""An independent implementation of docs/methodology.md sections 2-8, in
Python with plain floats, written from the methodology text alone (not from
lib/engine). tests/engine/independent_test.ts runs it on a generated book
and compares every facility with the engine.

Usage: python3 independent_ecl.py RULES.json DIR
DIR holds input.csv (the validated portfolio) and results.csv (the engine's
loan results, list columns joined with "|"). Prints one JSON object: loans,
stage_mismatches, worst_relative_error, worst (loan, column, engine, here).
"""
import csv, json, sys, math
from statistics import NormalDist
N = NormalDist()
rules = json.load(open(sys.argv[1]))
d = sys.argv[2]
st = rules.get('staging', {})
dpd_def = st.get('dpd_default', 90); dpd_sicr = st.get('dpd_sicr', 30)
lcr = st.get('low_credit_risk_pd', 0.003); rel = st.get('pd_relative_threshold', 2.0); ab = st.get('pd_absolute_threshold', 0.005)
segs = rules['segments']; default = segs['default']
adj = rules.get('scenario_adjustment', 'multiplier')
scen = rules['scenarios']
def seg(s): return {**default, **segs.get(s, {})} if s in segs else default
def b(x): return x.lower() == 'true'
def f(x): return float(x) if x != '' else None
def ymd(s): y, m, dd = s.split('-'); return int(y), int(m), int(dd)
worst = 0; wk = None; n = 0; bad = 0
res = {r['loan_id']: r for r in csv.DictReader(open(f'{d}/results.csv'))}
for row in csv.DictReader(open(f'{d}/input.csv')):
    prod = rules['products'][row['product']]
    segname = row['segment'] or row['product']
    sp = seg(segname)
    p0 = float(row['pd_12m_origination']); p1 = float(row['pd_12m_current'])
    dpd = int(row['days_past_due'])
    trig = []
    if b(row['default_flag'] or 'false'): trig.append(('DEFAULT_FLAG', 3))
    if dpd >= dpd_def: trig.append(('DPD_90', 3))
    if dpd > dpd_sicr: trig.append(('DPD_30', 2))
    if b(row['watchlist'] or 'false'): trig.append(('WATCHLIST', 2))
    if b(row['forborne'] or 'false'): trig.append(('FORBORNE', 2))
    if p1 > lcr and p1 / p0 >= rel and p1 - p0 >= ab: trig.append(('PD_SICR', 2))
    stage, reason = (trig[0][1], trig[0][0]) if trig else (1, 'PERFORMING')
    if prod['repayment'] == 'revolving':
        m = prod['behavioural_life_months']
    else:
        yM, mM, dM = ymd(row['maturity_date']); yR, mR, dR = ymd(row['reporting_date'])
        m = 12 * (yM - yR) + (mM - mR) + (1 if dM > dR else 0)
    m = max(m, 1)
    B = float(row['balance']); r = float(row['interest_rate']) / 12
    C = f(row['collateral_value']) or 0.0
    def ead(t):
        rp = prod['repayment']
        if rp == 'annuity':
            if r == 0: return B * (m - t + 1) / m
            return B * ((1 + r) ** m - (1 + r) ** (t - 1)) / ((1 + r) ** m - 1)
        if rp == 'linear': return B * (m - t + 1) / m
        if rp == 'bullet': return B
        L = f(row['credit_limit']); L = B if L is None else L
        return B + prod['ccf'] * max(0.0, L - B)
    def qbase(y):
        if sp['pd_curve'] == 'flat': return p1
        g = sp['pd_shape']; return min(1.0, p1 * g[min(y, len(g)) - 1])
    eclw = e12w = eltw = pdlt = lgdw = 0.0
    per = {}
    for s in scen:
        w = s['weight']; h = s.get('collateral_haircut', 0.0)
        def q(y):
            qb = qbase(y)
            if adj == 'multiplier':
                k = s['pd_multiplier']; return min(1.0, qb * k[min(y, len(k)) - 1])
            z = s['z'][min(y, len(s['z'])) - 1]; rho = sp['rho']
            if qb >= 1: return 1.0
            return N.cdf((N.inv_cdf(qb) - math.sqrt(rho) * z) / math.sqrt(1 - rho))
        def lgd(t):
            e = ead(t)
            if e == 0: return 0.0
            rec = min(e, C * (1 - h))
            return max(sp['lgd_floor'], (e - rec) * sp['lgd_unsecured'] / e)
        S = 1.0; e12 = elt = 0.0
        for t in range(1, m + 1):
            y = math.ceil(t / 12)
            hz = 1 - (1 - q(y)) ** (1 / 12)
            Snew = S * (1 - hz); mpd = S - Snew; S = Snew
            term = mpd * lgd(t) * ead(t) * (1 + r) ** (-t)
            elt += term
            if t <= 12: e12 += term
        ecl = e12 if stage == 1 else elt if stage == 2 else lgd(1) * ead(1)
        per[s['name']] = ecl
        eclw += w * ecl; e12w += w * e12; eltw += w * elt; pdlt += w * (1 - S); lgdw += w * lgd(1)
    o = res[row['loan_id']]
    n += 1
    if int(o['stage']) != stage or o['stage_reason'] != reason or o['stage_triggers'] != '|'.join(t for t, _ in trig) or int(o['remaining_term_months']) != m:
        bad += 1
        if bad < 5: print('MISMATCH', row['loan_id'], stage, reason, trig, m, o['stage'], o['stage_reason'], o['stage_triggers'], o['remaining_term_months'], file=sys.stderr)
    for k, v in [('ecl_model', eclw), ('ecl_12m', e12w), ('ecl_lifetime', eltw), ('pd_lifetime', pdlt), ('lgd', lgdw), ('ead', ead(1))] + [(f'ecl_{k}', v) for k, v in per.items()]:
        got = float(o[k]); err = abs(got - v) / max(abs(v), 1e-300) if v != 0 else abs(got)
        if err > worst: worst = err; wk = (row['loan_id'], k, got, v)
print(json.dumps({'loans': n, 'stage_mismatches': bad, 'worst_relative_error': worst, 'worst': wk}))
