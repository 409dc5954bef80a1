/**
 * IRB capital in a run (lib/capital/run.ts through runPortfolio): the
 * per-facility `rwa`, `capital_k` and `regulatory_el` recomputed here by
 * hand from the portfolio and the rules (base-scenario LGD of methodology
 * §6 plus the add-on, the floors, the maturity rule, the defaulted
 * treatment), the summary's totals recomputed by a plain loop to the cent,
 * and a run without a `capital:` section unchanged.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { type AssetClass, irbRiskWeight } from "../../lib/mod.ts";
import { DEFAULT_RULES, runPortfolio } from "../../lib/run/mod.ts";
import { portfolioFrame, writePortfolio } from "../run/_portfolio.ts";

const CAPITAL = `
capital:
  asset_classes:
    products:
      mortgage: residential_mortgage
      credit_card: qualifying_revolving_retail
      sme: corporate
      consumer: other_retail
  lgd: { downturn_add_on: 0.1 }
  maturity: remaining
  pd_floor: 0.02
  lgd_floor: 0.1
`;
const CLASS: Record<string, AssetClass> = {
  mortgage: "residential_mortgage",
  credit_card: "qualifying_revolving_retail",
  sme: "corporate",
  consumer: "other_retail",
};

const ADD_OVERLAY = `overlays:
  - { name: mgmt_add, filter: { stage: [2, 3] }, add: 5000, reason: model gap }`;

async function runBoth(n: number, chunkSize?: number, overlay = false) {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, n);
  const rules = `${tmp}/rules.yaml`;
  await Deno.writeTextFile(
    rules,
    (await Deno.readTextFile(DEFAULT_RULES)).replace(
      /^overlays: \[\]$/m,
      overlay ? ADD_OVERLAY : "overlays: []",
    ) + CAPITAL,
  );
  const opts = { portfolio, out: `${tmp}/runs`, report: false, chunkSize };
  const withK = await runPortfolio({ ...opts, rules, runId: "k" });
  const plain = await runPortfolio({ ...opts, runId: "plain" });
  return { tmp, withK, plain };
}

const rows = (dir: string) =>
  pl.readParquet(`${dir}/loan_results.parquet`).toRecords() as Record<
    string,
    // deno-lint-ignore no-explicit-any
    any
  >[];

Deno.test("a run with a capital section writes rwa, capital_k and regulatory_el equal to the formulas by hand", async () => {
  const { tmp, withK, plain } = await runBoth(200);
  try {
    const input = new Map(
      portfolioFrame(200).toRecords().map((r) => [r.loan_id as string, r]),
    );
    const results = rows(withK.dir);
    let checked = 0, defaulted = 0, excluded = 0;
    for (const r of results) {
      const cls = CLASS[r.product];
      if (cls === undefined) {
        assert.equal(r.rwa, null);
        assert.equal(r.capital_k, null);
        assert.equal(r.regulatory_el, null);
        excluded++;
        continue;
      }
      const p = input.get(r.loan_id)!;
      // Methodology §6, base scenario (haircut 0.20), lgd_unsecured 0.45,
      // lgd_floor 0.05, no recovery lag; then the add-on and the floor.
      const c = (p.collateral_value as number | null) ?? 0;
      const base = r.ead > 0
        ? Math.max(0.05, (r.ead - Math.min(r.ead, c * 0.8)) * 0.45 / r.ead)
        : 0;
      const lgd = Math.max(0.1, Math.min(1, base + 0.1));
      let k: number, el: number;
      if (r.stage === 3 || Math.max(0.02, r.pd_12m ?? 1) >= 1) {
        k = Math.max(0, lgd - r.ecl / r.ead);
        el = r.ecl;
        defaulted++;
      } else {
        const pd = Math.max(0.02, r.pd_12m);
        const m = Math.min(5, Math.max(1, r.remaining_term_months / 12));
        k = irbRiskWeight({
          assetClass: cls,
          pd,
          lgd,
          maturityYears: cls === "corporate" ? m : undefined,
        }).k;
        el = pd * lgd * r.ead;
      }
      const near = (a: number, b: number) =>
        Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
      assert(
        near(r.capital_k, k),
        `${r.loan_id} capital_k ${r.capital_k} vs ${k}`,
      );
      assert(near(r.rwa, 12.5 * k * r.ead), `${r.loan_id} rwa`);
      assert(near(r.regulatory_el, el), `${r.loan_id} regulatory_el`);
      checked++;
    }
    assert(checked > 100 && defaulted > 0 && excluded > 0);

    // The summary: totals by a plain loop in the reporting currency.
    const s = withK.summary.capital!;
    assert.equal(s.facilities, checked);
    assert.equal(s.excluded_facilities, excluded);
    let rwa = 0, cap = 0, ead = 0, elNd = 0, allowNd = 0, elD = 0, allowD = 0;
    for (const r of results) {
      if (r.rwa === null) continue;
      rwa += r.rwa * r.fx_rate;
      cap += r.capital_k * r.ead * r.fx_rate;
      ead += r.ead_rc;
      if (r.stage === 3 || Math.max(0.02, r.pd_12m ?? 1) >= 1) {
        elD += r.regulatory_el * r.fx_rate;
        allowD += r.ecl_rc;
      } else {
        elNd += r.regulatory_el * r.fx_rate;
        allowNd += r.ecl_rc;
      }
    }
    const cent = (a: number, b: number, what: string) =>
      assert(Math.abs(a - b) < 0.005, `${what}: ${a} vs ${b}`);
    cent(s.totals.rwa, rwa, "rwa");
    cent(s.totals.capital, cap, "capital");
    cent(s.totals.ead, ead, "ead");
    cent(s.totals.capital, s.totals.rwa * 0.08, "capital = 8% RWA");
    const g = s.by_asset_class_stage;
    cent(g.reduce((a, x) => a + x.rwa, 0), s.totals.rwa, "groups rwa");
    assert.equal(g.reduce((a, x) => a + x.count, 0), checked);
    const e = s.el_vs_allowance;
    cent(e.non_defaulted.regulatory_el, elNd, "EL non-defaulted");
    cent(e.non_defaulted.allowance, allowNd, "allowance non-defaulted");
    cent(e.defaulted.regulatory_el, elD, "EL defaulted");
    cent(e.defaulted.allowance, allowD, "allowance defaulted");
    cent(e.non_defaulted.shortfall, Math.max(0, elNd - allowNd), "shortfall");
    cent(e.non_defaulted.excess, Math.max(0, allowNd - elNd), "excess");
    // Defaulted: regulatory EL is the ECL, so neither shortfall nor excess.
    cent(e.defaulted.shortfall + e.defaulted.excess, 0, "defaulted pool");
    // net = (EL_nd − P_nd) + max(0, EL_d − P_d) (EU CRR Art. 159(2)).
    const net = (elNd - allowNd) + Math.max(0, elD - allowD);
    cent(e.cet1_deduction, Math.max(0, net), "CET1 deduction");
    cent(
      e.tier2_eligible_excess,
      Math.min(Math.max(0, -net), 0.006 * rwa),
      "Tier 2 excess",
    );

    // Without a capital section: no new column, no summary section, and
    // every other figure the same.
    const before = rows(plain.dir);
    assert.equal(plain.summary.capital, undefined);
    assert(!("rwa" in before[0]));
    for (let i = 0; i < before.length; i++) {
      for (const [key, v] of Object.entries(before[i])) {
        assert.deepEqual(results[i][key], v, `${before[i].loan_id} ${key}`);
      }
    }
    assert.deepEqual(
      { ...withK.summary, capital: undefined, run_id: "" },
      { ...plain.summary, capital: undefined, run_id: "" },
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a run with a capital section computed in chunks (an add overlay: two passes) gives the same capital, after the overlay", async () => {
  const { tmp, withK } = await runBoth(200, 70, true);
  const { tmp: tmp1, withK: whole } = await runBoth(200, undefined, true);
  try {
    const a = rows(withK.dir), b = rows(whole.dir);
    const near = (x: number | null, y: number | null) =>
      x === y || Math.abs(x! - y!) <= 1e-9 * Math.max(1, Math.abs(y!));
    let stage3 = 0;
    for (let i = 0; i < a.length; i++) {
      assert(near(a[i].rwa, b[i].rwa), a[i].loan_id);
      assert(near(a[i].regulatory_el, b[i].regulatory_el), a[i].loan_id);
      // Defaulted: the regulatory EL is the ECL after the overlay.
      if (a[i].stage === 3 && a[i].rwa !== null) {
        assert.equal(a[i].regulatory_el, a[i].ecl);
        assert(a[i].ecl > a[i].ecl_model);
        stage3++;
      }
    }
    assert(stage3 > 0);
    const [x, y] = [withK.summary.capital!, whole.summary.capital!];
    assert(Math.abs(x.totals.rwa - y.totals.rwa) < 0.005);
    assert(
      Math.abs(
        x.el_vs_allowance.total.allowance - y.el_vs_allowance.total.allowance,
      ) < 0.005,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
    await Deno.remove(tmp1, { recursive: true });
  }
});

Deno.test("report.html of a run with a capital section shows RWA by asset class and EL against the allowance", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = writePortfolio(`${tmp}/book.parquet`, 120);
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(DEFAULT_RULES)) + CAPITAL,
    );
    const run = await runPortfolio({ portfolio, rules, out: tmp, runId: "r" });
    const html = await Deno.readTextFile(`${run.dir}/report.html`);
    assert.match(html, /<section id="capital"><h2>IRB capital<\/h2>/);
    assert.match(html, /href="#capital"/);
    for (const c of ["residential_mortgage", "corporate", "other_retail"]) {
      assert(html.includes(c), c);
    }
    assert.match(html, /BCBS CRE35/);
    assert.match(html, /12-month PD \(pd_12m\), not the long-run average PD/);
    assert.match(html, /Basel III final/);
    assert.match(html, /no 1\.06 scaling factor/);
    const plain = await runPortfolio({ portfolio, out: tmp, runId: "p" });
    const without = await Deno.readTextFile(`${plain.dir}/report.html`);
    assert(!without.includes('id="capital"'));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
