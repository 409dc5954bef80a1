/**
 * irbRiskWeight against an independent implementation of the Basel IRB
 * formulas (BCBS CRE31; Basel II §272-§273, §328-§330) written in Python
 * with the standard library's `statistics.NormalDist` (its `inv_cdf` is
 * Wichura's AS241, its `cdf` is erf-based: other algorithms than the
 * Cody / Acklam-Halley pair of lib/engine/normal.ts), and against
 * published risk weights.
 */
import assert from "node:assert/strict";

function assertAlmostEquals(a: number, b: number, tol: number, msg = "") {
  assert(Math.abs(a - b) <= tol, `${msg}: ${a} vs ${b} (tolerance ${tol})`);
}

import {
  ASSET_CLASSES,
  type AssetClass,
  irbRiskWeight,
} from "../../lib/mod.ts";

const PY = `
import json, math, sys
from statistics import NormalDist
N = NormalDist()
out = []
for c, pd, lgd, m, s in json.load(sys.stdin):
    if c == "corporate":
        f = (1 - math.exp(-50 * pd)) / (1 - math.exp(-50))
        r = 0.12 * f + 0.24 * (1 - f)
        if s is not None:
            s = min(50.0, max(5.0, s))
            r -= 0.04 * (1 - (s - 5) / 45)
    elif c == "residential_mortgage":
        r = 0.15
    elif c == "qualifying_revolving_retail":
        r = 0.04
    else:
        g = (1 - math.exp(-35 * pd)) / (1 - math.exp(-35))
        r = 0.03 * g + 0.16 * (1 - g)
    x = (1 - r) ** -0.5 * N.inv_cdf(pd) + (r / (1 - r)) ** 0.5 * N.inv_cdf(0.999)
    k = lgd * N.cdf(x) - pd * lgd
    if c == "corporate":
        b = (0.11852 - 0.05478 * math.log(pd)) ** 2
        k *= (1 + ((2.5 if m is None else m) - 2.5) * b) / (1 - 1.5 * b)
    out.append(k)
print(json.dumps(out))
`;

type Case = [AssetClass, number, number, number | null, number | null];

/** K by the Python implementation, one call for the whole grid. */
async function pythonK(cases: Case[]): Promise<number[]> {
  const child = new Deno.Command("python3", {
    args: ["-c", PY],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(cases)));
  await w.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

const PDS = [
  0.0003,
  0.0005,
  0.001,
  0.0025,
  0.004,
  0.005,
  0.0075,
  0.01,
  0.013,
  0.015,
  0.02,
  0.025,
  0.03,
  0.04,
  0.05,
  0.06,
  0.08,
  0.1,
  0.15,
  0.2,
];
const LGDS = [0, 0.1, 0.25, 0.45, 0.6, 0.85, 1];

Deno.test("irbRiskWeight() matches an independent Python implementation on a PD x LGD grid of every class to 1e-9", async () => {
  const cases: Case[] = [];
  for (const c of ASSET_CLASSES) {
    for (const pd of PDS) {
      for (const lgd of LGDS) cases.push([c, pd, lgd, null, null]);
    }
  }
  // Corporate: maturities and SME turnovers, bounded to 5-50 inside.
  for (const pd of PDS) {
    for (const m of [1, 2.5, 3.7, 5]) {
      cases.push(["corporate", pd, 0.45, m, null]);
    }
    for (const s of [1, 5, 12.5, 30, 50, 80]) {
      cases.push(["corporate", pd, 0.45, 2.5, s]);
    }
  }
  const expected = await pythonK(cases);
  assert(expected.length === cases.length);
  let worst = 0;
  cases.forEach(([assetClass, pd, lgd, m, s], i) => {
    const { k, riskWeight } = irbRiskWeight({
      assetClass,
      pd,
      lgd,
      maturityYears: m ?? undefined,
      turnoverMEur: s ?? undefined,
    });
    worst = Math.max(worst, Math.abs(k - expected[i]));
    assertAlmostEquals(k, expected[i], 1e-9, JSON.stringify(cases[i]));
    assertAlmostEquals(riskWeight, 12.5 * expected[i], 12.5e-9);
  });
  assert(cases.length > 600);
  console.log(`  ${cases.length} cases, worst |dK| ${worst.toExponential(2)}`);
});

// Published figures: Basel II (BCBS, June 2006), Annex "Illustrative IRB
// risk weights" (the same tables as BCBS, "An Explanatory Note on the Basel
// II IRB Risk Weight Functions", July 2005), LGD 45%, M 2.5 years for
// corporates, risk weights in percent to two decimals.
const PUBLISHED: [AssetClass, number, number][] = [
  ["corporate", 0.0003, 14.44],
  ["corporate", 0.01, 92.32],
  ["corporate", 0.2, 238.23],
  ["residential_mortgage", 0.0003, 4.15],
  ["residential_mortgage", 0.01, 56.40],
  ["qualifying_revolving_retail", 0.0003, 0.98],
];

Deno.test("irbRiskWeight() reproduces the BCBS illustrative IRB risk weights (LGD 45%)", () => {
  for (const [assetClass, pd, percent] of PUBLISHED) {
    const { riskWeight } = irbRiskWeight({ assetClass, pd, lgd: 0.45 });
    assertAlmostEquals(riskWeight * 100, percent, 0.005, `${assetClass} ${pd}`);
  }
});

Deno.test("irbRiskWeight() SME turnover below 5 counts as 5, above 50 as no adjustment", () => {
  const at = (t?: number) =>
    irbRiskWeight({
      assetClass: "corporate",
      pd: 0.01,
      lgd: 0.45,
      turnoverMEur: t,
    }).k;
  assert(at(1) === at(5));
  assert(at(80) === at(50));
  assert(at(50) === at(undefined));
  assert(at(5) < at(50));
});

Deno.test("irbRiskWeight() refuses a PD of 1, an LGD above 1 and an unknown class", () => {
  assert.throws(
    () => irbRiskWeight({ assetClass: "corporate", pd: 1, lgd: 0.45 }),
    /defaulted/,
  );
  assert.throws(
    () => irbRiskWeight({ assetClass: "corporate", pd: 0.01, lgd: 1.2 }),
    RangeError,
  );
  assert.throws(
    () =>
      irbRiskWeight({
        assetClass: "sovereign" as AssetClass,
        pd: 0.01,
        lgd: 0.45,
      }),
    RangeError,
  );
});
