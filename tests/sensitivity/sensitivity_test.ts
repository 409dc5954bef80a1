/**
 * Acceptance tests of the sensitivity table (lib/sensitivity,
 * docs/sensitivity.md; issue 16 item 4): the weighted line is the run's
 * allowance, each scenario-alone line is a separate run with that scenario
 * alone at weight 1, and a stress line is a separate run on a portfolio
 * the test shocks itself; every comparison to the cent, by stage.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parseRules, RulesError } from "../../lib/rules.ts";
import { DEFAULT_FX, runPortfolio, summarize } from "../../lib/run/mod.ts";
import { loadFx } from "../../lib/fx.ts";
import { scanPortfolio } from "../../lib/io/mod.ts";
import { validatePortfolio } from "../../lib/validation/mod.ts";
import { sensitivityAnalysis } from "../../lib/sensitivity/mod.ts";
import type { Summary } from "../../lib/run_folder/mod.ts";
import { portfolioFrame } from "../run/_portfolio.ts";

/** The reference rules (methodology §10) with two overlays, as YAML text. */
function rulesText(opts: {
  scenarios?: string;
  sensitivity?: string;
  adjustment?: "multiplier" | "z_shift";
} = {}): string {
  const z = opts.adjustment === "z_shift";
  const scenarios = opts.scenarios ??
    (z
      ? `  - { name: base, weight: 0.5, z: [0.0], collateral_haircut: 0.20 }
  - { name: upside, weight: 0.2, z: [0.8, 0.5], collateral_haircut: 0.15 }
  - { name: downside, weight: 0.3, z: [-1.5, -1.0], collateral_haircut: 0.35 }`
      : `  - { name: base, weight: 0.5, pd_multiplier: [1.0], collateral_haircut: 0.20 }
  - { name: upside, weight: 0.2, pd_multiplier: [0.8, 0.9], collateral_haircut: 0.15 }
  - { name: downside, weight: 0.3, pd_multiplier: [1.6, 1.4, 1.2], collateral_haircut: 0.35 }`);
  return `reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  auto: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
segments:
  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
scenario_adjustment: ${z ? "z_shift" : "multiplier"}
scenarios:
${scenarios}
overlays:
  - { name: sme_uplift, filter: { product: [sme] }, multiplier: 1.1, reason: test }
  - { name: cards_add, filter: { product: [credit_card] }, add: 5000, reason: test }
${opts.sensitivity ?? ""}
`;
}

const SCENARIOS = ["base", "upside", "downside"];
const cent = 0.005;

/** Within a cent, with the figures in the message. */
function sameCent(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) < cent,
    `${what}: ${actual} vs ${expected}`,
  );
}

/** A run of `portfolio` under `rules` (YAML) in `tmp`. */
async function run(
  tmp: string,
  id: string,
  portfolio: string,
  rules: string,
  report = false,
) {
  const path = `${tmp}/${id}.yaml`;
  await Deno.writeTextFile(path, rules);
  return await runPortfolio({
    portfolio,
    rules: path,
    fx: DEFAULT_FX,
    out: `${tmp}/runs`,
    runId: id,
    report,
  });
}

/** The line of the table by name, its stage groups by key. */
function line(s: Summary, name: string) {
  const l = s.sensitivity?.lines.find((x) => x.name === name);
  assert.ok(l, `line ${name} in ${JSON.stringify(s.sensitivity?.lines)}`);
  return l;
}

/** Compares a line with a separate run's summary, stage by stage. */
function sameAsRun(
  l: ReturnType<typeof line>,
  other: Summary,
  what: string,
) {
  sameCent(l.ecl, other.totals.ecl, `${what} total`);
  for (const key of ["1", "2", "3"]) {
    const g = other.by_stage.find((x) => x.key === key);
    const mine = l.by_stage.find((x) => x.key === key)!;
    assert.equal(mine.count, g?.count ?? 0, `${what} stage ${key} count`);
    sameCent(mine.ecl, g?.ecl ?? 0, `${what} stage ${key} ECL`);
  }
}

/** The fixture portfolio with an origination PD low enough to re-stage. */
function book(): pl.DataFrame {
  return portfolioFrame(240);
}

Deno.test("sensitivity: the weighted line is the run's allowance and each 100% line a separate run of that scenario alone", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    book().writeParquet(portfolio);
    const main = await run(
      tmp,
      "main",
      portfolio,
      rulesText({ sensitivity: "sensitivity: { scenarios: true }" }),
    );
    const s = main.summary;
    assert.deepEqual(
      s.sensitivity!.lines.map((l) => [l.kind, l.name]),
      [
        ["weighted", "weighted"],
        ...SCENARIOS.map((n) => ["scenario", n]),
      ],
    );
    // The weighted line: the run's own allowance, by stage.
    sameAsRun(line(s, "weighted"), s, "weighted");
    // The overlays apply to every line (cards_add is an amount).
    assert.ok(s.overlays.every((o) => o.facilities > 0));
    for (const name of SCENARIOS) {
      const scenario = rulesText().match(
        new RegExp(`  - \\{ name: ${name}, .*\\}`),
      )![0].replace(/weight: [0-9.]+/, "weight: 1");
      const alone = await run(
        tmp,
        `alone_${name}`,
        portfolio,
        rulesText({ scenarios: scenario }),
      );
      assert.deepEqual(alone.summary.scenarios.map((x) => x.weight), [1]);
      sameAsRun(line(s, name), alone.summary, name);
      const l = line(s, name);
      assert.equal(l.staging, "run");
      sameCent(
        l.change_vs_weighted,
        alone.summary.totals.ecl - s.totals.ecl,
        `${name} change`,
      );
    }
    // The lines differ: the downside above the weighted, the upside below.
    assert.ok(line(s, "downside").ecl > s.totals.ecl);
    assert.ok(line(s, "upside").ecl < s.totals.ecl);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sensitivity: a PD shock line is a separate run on the shocked PDs (re-staged), a collateral shock one on the shocked collateral", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    const frame = book();
    frame.writeParquet(portfolio);
    const main = await run(
      tmp,
      "main",
      portfolio,
      rulesText({
        sensitivity: `sensitivity:
  scenarios: false
  stresses:
    - { name: pd_x3, pd_multiplier: 3 }
    - { name: coll_40, collateral_shock: 0.4 }
    - { name: both, pd_multiplier: 40, collateral_shock: 0.4 }`,
      }),
    );
    const s = main.summary;
    assert.deepEqual(s.sensitivity!.lines.map((l) => l.name), [
      "weighted",
      "pd_x3",
      "coll_40",
      "both",
    ]);
    // Shocked by hand: p1 x f, never above 0.9999 unless it was already.
    const shockPd = (f: number) =>
      (frame.getColumn("pd_12m_current").toArray() as number[]).map((p) =>
        Math.min(p * f, Math.max(p, 0.9999))
      );
    const shockColl = (c: number) =>
      (frame.getColumn("collateral_value").toArray() as (number | null)[]).map((
        v,
      ) => v === null ? null : v * (1 - c));
    const write = (name: string, cols: pl.Series[]) => {
      const path = `${tmp}/${name}.parquet`;
      frame.withColumns(...cols).writeParquet(path);
      return path;
    };
    const plain = rulesText();
    const cases = [
      ["pd_x3", [pl.Series("pd_12m_current", shockPd(3), pl.Float64)]],
      ["coll_40", [pl.Series("collateral_value", shockColl(0.4), pl.Float64)]],
      ["both", [
        pl.Series("pd_12m_current", shockPd(40), pl.Float64),
        pl.Series("collateral_value", shockColl(0.4), pl.Float64),
      ]],
    ] as const;
    for (const [name, cols] of cases) {
      const other = await run(
        tmp,
        `sep_${name}`,
        write(name, [...cols]),
        plain,
      );
      sameAsRun(line(s, name), other.summary, name);
    }
    // The PD shock re-stages: more facilities in stage 2 than the run.
    const stage2 = (l: ReturnType<typeof line>) =>
      l.by_stage.find((g) => g.key === "2")!.count;
    assert.equal(line(s, "pd_x3").staging, "restaged");
    assert.ok(stage2(line(s, "pd_x3")) > stage2(line(s, "weighted")));
    // The collateral shock keeps the run's stages and raises the ECL.
    assert.equal(line(s, "coll_40").staging, "run");
    assert.deepEqual(line(s, "coll_40").by_stage.map((g) => g.count), [
      ...line(s, "weighted").by_stage.map((g) => g.count),
    ]);
    assert.ok(line(s, "coll_40").ecl > s.totals.ecl);
    // The cap binds under x40 (PDs up to 0.9 in the fixture).
    assert.ok(shockPd(40).some((p) => p === 0.9999));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sensitivity: a z_shift stress is a separate run with every scenario's z path shifted", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    book().writeParquet(portfolio);
    const main = await run(
      tmp,
      "main",
      portfolio,
      rulesText({
        adjustment: "z_shift",
        sensitivity:
          "sensitivity: { scenarios: false, stresses: [{ name: z_down, z_shift: -1 }] }",
      }),
    );
    // The shifted paths written out by hand.
    const shifted = rulesText({
      adjustment: "z_shift",
      scenarios:
        `  - { name: base, weight: 0.5, z: [-1.0], collateral_haircut: 0.20 }
  - { name: upside, weight: 0.2, z: [-0.2, -0.5], collateral_haircut: 0.15 }
  - { name: downside, weight: 0.3, z: [-2.5, -2.0], collateral_haircut: 0.35 }`,
    });
    const other = await run(tmp, "shifted", portfolio, shifted);
    sameAsRun(line(main.summary, "z_down"), other.summary, "z_down");
    assert.ok(line(main.summary, "z_down").ecl > main.summary.totals.ecl);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sensitivity: a run without the section has no sensitivity key", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    portfolioFrame(30).writeParquet(portfolio);
    const r = await run(tmp, "plain", portfolio, rulesText());
    assert.equal(r.summary.sensitivity, undefined);
    assert.equal(r.manifest.timings_ms.sensitivity, undefined);
    const written = JSON.parse(
      await Deno.readTextFile(`${r.dir}/summary.json`),
    );
    assert.equal("sensitivity" in written, false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sensitivity: bad sections are refused with their key paths", () => {
  const refused = (sensitivity: string, adjustment?: "z_shift") => {
    try {
      parseRules(rulesText({ sensitivity, adjustment }), "s.yaml");
    } catch (e) {
      assert.ok(e instanceof RulesError, String(e));
      return e.message;
    }
    assert.fail(`accepted: ${sensitivity}`);
  };
  assert.match(
    refused("sensitivity: { stresses: [{ name: a, pd_multiplier: 0 }] }"),
    /key sensitivity\.stresses\[0\]\.pd_multiplier: must be > 0/,
  );
  assert.match(
    refused("sensitivity: { stresses: [{ name: a, collateral_shock: 1.5 }] }"),
    /key sensitivity\.stresses\[0\]\.collateral_shock: must be a share in \[0, 1\]/,
  );
  assert.match(
    refused("sensitivity: { stresses: [{ name: a }] }"),
    /key sensitivity\.stresses\[0\]: a stress needs at least one of/,
  );
  assert.match(
    refused("sensitivity: { stresses: [{ name: a, z_shift: -1 }] }"),
    /key sensitivity\.stresses\[0\]\.z_shift: only applies to scenario_adjustment: z_shift/,
  );
  assert.match(
    refused(
      "sensitivity: { stresses: [{ name: a, z_shift: -9 }] }",
      "z_shift",
    ),
    /key sensitivity\.stresses\[0\]\.z_shift: takes a scenario's z to -10\.5/,
  );
  assert.match(
    refused(
      "sensitivity: { stresses: [{ name: a, pd_multiplier: 2 }, { name: a, pd_multiplier: 3 }] }",
    ),
    /key sensitivity\.stresses\[1\]\.name: duplicate stress name a/,
  );
  // A stress named like a scenario or the weighted line: two lines of one
  // name in the table.
  assert.match(
    refused(
      "sensitivity: { stresses: [{ name: downside, pd_multiplier: 2 }] }",
    ),
    /key sensitivity\.stresses\[0\]\.name: downside names a scenario's line of the sensitivity table; give the stress another name/,
  );
  assert.match(
    refused(
      "sensitivity: { stresses: [{ name: weighted, pd_multiplier: 2 }] }",
    ),
    /key sensitivity\.stresses\[0\]\.name: weighted names the probability-weighted line/,
  );
  assert.match(
    refused("sensitivity: { stresses: [{ name: a, pd_multipler: 2 }] }"),
    /key sensitivity\.stresses\[0\]\.pd_multipler: unknown key/,
  );
  assert.match(
    refused(
      `sensitivity: { stresses: [${
        Array.from(
          { length: 21 },
          (_, i) => `{ name: s${i}, pd_multiplier: 2 }`,
        )
          .join(", ")
      }] }`,
    ),
    /key sensitivity\.stresses: must list at most 20 stresses/,
  );
  assert.match(
    refused("sensitivity: { scenarios: yes please }"),
    /key sensitivity\.scenarios: must be true or false/,
  );
});

Deno.test("sensitivity: the weighted line is the allowance of a run computed in chunks (an add overlay shared over the book)", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    book().writeParquet(portfolio);
    const path = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      path,
      rulesText({ sensitivity: "sensitivity: { scenarios: false }" }),
    );
    const r = await runPortfolio({
      portfolio,
      rules: path,
      fx: DEFAULT_FX,
      out: `${tmp}/runs`,
      runId: "chunked",
      report: false,
      chunkSize: 70,
    });
    assert.equal(r.summary.sensitivity!.lines.length, 1);
    sameAsRun(line(r.summary, "weighted"), r.summary, "weighted, chunked");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sensitivityAnalysis() in chunks gives the lines of one pass, an add overlay shared over the whole book", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    book().writeParquet(portfolio);
    const text = rulesText({
      sensitivity: `sensitivity:
  stresses:
    - { name: pd_x2, pd_multiplier: 2 }
    - { name: coll_50, collateral_shock: 0.5 }`,
    });
    const main = await run(tmp, "main", portfolio, text);
    const rules = parseRules(text, "inline.yaml");
    const fx = await loadFx(DEFAULT_FX);
    const { valid } = await validatePortfolio(
      scanPortfolio(portfolio),
      rules,
      { file: portfolio },
    );
    const chunked = await sensitivityAnalysis(valid.lazy(), rules, fx, {
      reportingDate: "2025-12-31",
      summarize,
      chunkSize: 70,
    });
    const one = main.summary.sensitivity!;
    assert.equal(chunked.lines.length, one.lines.length);
    chunked.lines.forEach((l, i) => {
      assert.equal(l.name, one.lines[i].name);
      sameCent(l.ecl, one.lines[i].ecl, `${l.name} total`);
      sameCent(l.ecl_model, one.lines[i].ecl_model, `${l.name} model`);
      l.by_stage.forEach((g, k) => {
        assert.equal(g.count, one.lines[i].by_stage[k].count);
        sameCent(g.ecl, one.lines[i].by_stage[k].ecl, `${l.name} ${g.key}`);
      });
    });
    // The add overlay is shared over the book, not added per chunk.
    const cards = main.summary.overlays.find((o) => o.name === "cards_add")!;
    assert.ok(Math.abs(cards.ecl_impact - 5000) < 0.005);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
