/**
 * Figures of methodology version 2 derived by hand: the reversion of
 * scenario adjustments (§4) and the discounted time to recovery (§6). Each
 * expected figure is a closed-form sum written here (a geometric series per
 * forecast year, not the month-by-month loop of the engine or of
 * `_reference.ts`), itself checked against a 40-digit value computed
 * outside the project (mpmath) or against the contract's §11 example.
 *
 * @module
 */
import assert from "node:assert/strict";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import type { Rules } from "../../lib/rules.ts";
import {
  portfolio,
  relErr,
  type Row,
  rulesFrom,
  rulesYaml,
} from "./_helpers.ts";

async function run(rows: Row[], rules: Rules) {
  return (await computeEcl(
    stageFacilities(portfolio(rows).lazy(), rules),
    rules,
  )).toRecords();
}

function close(got: unknown, want: number, what: string, tol = 1e-12) {
  assert.ok(
    relErr(got as number, want) < tol,
    `${what}: ${got} vs ${want} (rel ${relErr(got as number, want)})`,
  );
}

/**
 * Discounted expected loss of a bullet loan `B` at monthly rate `r` with a
 * constant LGD and conditional annual PDs `q[y-1]`, y = 1..q.length (§4,
 * §7, §8). In year y the monthly survival factor is a = (1 - q)^(1/12);
 * month u of the year (t = 12(y-1) + u) has marginal PD S_y a^(u-1) (1-a),
 * S_y the survival to the year's start, so the year contributes
 * S_y (1-a) (1+r)^-(12(y-1)+1) (1 - (a/(1+r))^12) / (1 - a/(1+r)).
 */
function bulletEcl(B: number, r: number, lgd: number, q: number[]): number {
  let sum = 0;
  let survival = 1;
  q.forEach((qy, i) => {
    const a = Math.pow(1 - qy, 1 / 12);
    const x = a / (1 + r);
    sum += survival * (1 - a) * Math.pow(1 + r, -(12 * i + 1)) *
      (1 - Math.pow(x, 12)) / (1 - x);
    survival *= 1 - qy;
  });
  return B * lgd * sum;
}

Deno.test("computeEcl() reverts scenario multipliers linearly to 1 after their last year (methodology v2 §4)", async () => {
  // Bullet 1000 at 12% (r = 0.01), R = 2025-12-31, maturity 2032-12-31:
  // m = 84, seven forecast years; stage 2 (watchlist), p1 = 0.02 flat, no
  // collateral (LGD 0.45), one scenario with multipliers [1.6, 1.4, 1.2].
  const row: Row = {
    maturity_date: "2032-12-31",
    watchlist: true,
    pd_12m_origination: 0.02,
    pd_12m_current: 0.02,
  };
  const scenario =
    "  - { name: base, weight: 1, pd_multiplier: [1.6, 1.4, 1.2] }";
  const p1 = 0.02;
  // scenario_reversion_years: 2 (N = 2, L = 3): year 4 = L + 1 uses
  // 1.2 + (1 - 1.2) * 1/3, year 5 uses 1.2 + (1 - 1.2) * 2/3, years 6 and
  // 7 the neutral 1.0.
  const reverted = [
    p1 * 1.6,
    p1 * 1.4,
    p1 * 1.2,
    p1 * (1.2 + (1 - 1.2) * 1 / 3),
    p1 * (1.2 + (1 - 1.2) * 2 / 3),
    p1,
    p1,
  ];
  const want = bulletEcl(1000, 0.01, 0.45, reverted);
  // The same sum at 40 digits (mpmath): 49.960850249864372950...; the
  // 12-month ECL is year 1 alone, 13.510432568023592516...
  close(want, 49.96085024986437295, "closed form");
  const want12 = bulletEcl(1000, 0.01, 0.45, reverted.slice(0, 1));
  close(want12, 13.51043256802359252, "closed form, 12 months");
  const [two] = await run(
    [row],
    rulesFrom(
      rulesYaml({ scenarios: scenario }) + "scenario_reversion_years: 2\n",
    ),
  );
  close(two.ecl_lifetime, want, "ecl_lifetime");
  close(two.ecl, want, "ecl");
  close(two.ecl_12m, want12, "ecl_12m");
  // pd_lifetime = 1 - S[84] = 1 - prod (1 - q[y]).
  close(
    two.pd_lifetime,
    1 - reverted.reduce((s, q) => s * (1 - q), 1),
    "pd_lifetime",
  );

  // N = 0: neutral from year L + 1 = 4.
  const [zero] = await run(
    [row],
    rulesFrom(
      rulesYaml({ scenarios: scenario }) + "scenario_reversion_years: 0\n",
    ),
  );
  close(
    zero.ecl,
    bulletEcl(1000, 0.01, 0.45, [p1 * 1.6, p1 * 1.4, p1 * 1.2, p1, p1, p1, p1]),
    "ecl with N = 0",
  );

  // Without the key the last multiplier repeats for years 4-7: a larger
  // figure, 52.413447519703984884... at 40 digits.
  const [repeat] = await run(
    [row],
    rulesFrom(rulesYaml({ scenarios: scenario })),
  );
  const wantRepeat = bulletEcl(1000, 0.01, 0.45, [
    p1 * 1.6,
    p1 * 1.4,
    ...Array(5).fill(p1 * 1.2),
  ]);
  close(wantRepeat, 52.41344751970398488, "closed form without reversion");
  close(repeat.ecl, wantRepeat, "ecl without reversion");
});

Deno.test("computeEcl() discounts the recovery over the segment's recovery_lag_months (methodology v2 §6)", async () => {
  // One scenario, haircut 0.2; segment `secured` has a 24-month lag, the
  // default segment none. Bullet 1000 at 12%: r = 0.01, 1.01^24 =
  // 1.26973464853191...
  const rules = rulesFrom(rulesYaml({
    segments:
      `  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
  secured: { recovery_lag_months: 24 }`,
    scenarios:
      "  - { name: base, weight: 1, pd_multiplier: [1.0], collateral_haircut: 0.2 }",
  }));
  const [short, covered, projected, unlagged] = await run([
    { segment: "secured", default_flag: true, collateral_value: 500 },
    { segment: "secured", default_flag: true, collateral_value: 2000 },
    {
      segment: "secured",
      watchlist: true,
      maturity_date: "2027-12-31",
      pd_12m_origination: 0.12,
      pd_12m_current: 0.12,
      collateral_value: 500,
    },
    { default_flag: true, collateral_value: 500 },
  ], rules);

  // Collateral 500: recovery = min(1000, 500 * 0.8) * 1.01^-24 = 400 /
  // 1.01^24 = 315.02620585...; LGD = (1000 - 315.0262...) * 0.45 / 1000
  // = 0.30823809706373012774 (40 digits); stage 3: ECL = LGD * 1000.
  const lgd = (1000 - 400 * Math.pow(1.01, -24)) * 0.45 / 1000;
  close(lgd, 0.30823809706373012774, "LGD by hand");
  close(short.lgd, lgd, "lgd");
  close(short.ecl, 1000 * lgd, "stage 3 ecl");

  // Collateral 2000: the recovery is capped at the EAD before discounting,
  // 1000 * 1.01^-24 = 787.57...: LGD = 0.09559524265932531935, above the
  // 0.05 floor that applies without a lag.
  close(covered.lgd, 0.09559524265932531935, "lgd, covered");
  close(covered.ecl, 95.59524265932531935, "stage 3 ecl, covered");

  // Stage 2, m = 24, p1 = 0.12: the §11 example (90.31546325313 lifetime,
  // 50.71180749370 12-month at LGD 0.45) with the lagged LGD, a constant
  // since a bullet's EAD is: the ECL scales by LGD / 0.45.
  close(
    bulletEcl(1000, 0.01, 0.45, [0.12, 0.12]),
    90.31546325313,
    "closed form = §11",
  );
  close(
    projected.ecl_lifetime,
    bulletEcl(1000, 0.01, lgd, [0.12, 0.12]),
    "ecl_lifetime",
  );
  close(
    projected.ecl_lifetime,
    90.31546325313 * lgd / 0.45,
    "§11 scaled",
    1e-11,
  );
  close(
    projected.ecl_12m,
    50.71180749370 * lgd / 0.45,
    "§11 12m scaled",
    1e-11,
  );

  // The default segment keeps recovery_lag_months 0: (1000 - 400) * 0.45
  // / 1000 = 0.27.
  close(unlagged.lgd, 0.27, "lgd without lag");
});
