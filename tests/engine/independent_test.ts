/**
 * The engine against a second implementation of the methodology written in
 * another language from the methodology text alone
 * (`tests/engine/independent_ecl.py`, plain Python floats, Python's own
 * `statistics.NormalDist` for Phi and its inverse), on a generated book of
 * every product, under the reference rules and under a `shape` + `z_shift`
 * configuration with a segment override. This is the check the outside
 * world runs: stage, reason, triggers and term equal, every amount within
 * 1e-9 relative (methodology, preamble).
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { generateBook } from "../../lib/generate/mod.ts";
import { loadRules, parseRules, type Rules } from "../../lib/rules.ts";
import { computeEcl, stageFacilities } from "../../lib/engine/mod.ts";

const SCRIPT = new URL("./independent_ecl.py", import.meta.url).pathname;

const Z_SHIFT_RULES = `
reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  auto: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
segments:
  default: { pd_curve: shape, pd_shape: [1.0, 1.3, 1.1, 0.9], lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
  mortgage_es: { lgd_unsecured: 0.25, rho: 0.10, pd_curve: flat }
scenario_adjustment: z_shift
scenarios:
  - { name: base, weight: 0.5, z: [0.0], collateral_haircut: 0.20 }
  - { name: upside, weight: 0.2, z: [1.0, 0.5], collateral_haircut: 0.15 }
  - { name: downside, weight: 0.3, z: [-2.0, -1.5, -1.0], collateral_haircut: 0.35 }
`;

interface Verdict {
  loans: number;
  stage_mismatches: number;
  worst_relative_error: number;
  worst: unknown;
}

async function compare(rules: Rules): Promise<Verdict> {
  const dir = await Deno.makeTempDir({ prefix: "independent-" });
  try {
    const [book] = generateBook({
      loans: 3_000,
      seed: 11,
      reportingDate: "2025-12-31",
    });
    book.writeCSV(`${dir}/input.csv`);
    const results = await computeEcl(
      stageFacilities(book.lazy(), rules),
      rules,
    );
    results.withColumns(
      pl.col("stage_triggers").lst.join("|"),
      pl.col("overlays_applied").lst.join("|"),
    ).writeCSV(`${dir}/results.csv`);
    await Deno.writeTextFile(`${dir}/rules.json`, JSON.stringify(rules));
    const out = await new Deno.Command("python3", {
      args: [SCRIPT, `${dir}/rules.json`, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `independent_ecl.py failed:\n${stderr}`);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("computeEcl() agrees with an independent Python implementation under the reference rules", async () => {
  const v = await compare(await loadRules("config/ifrs9_rules.yaml"));
  assert.equal(v.loans, 3_000);
  assert.equal(v.stage_mismatches, 0);
  assert.ok(v.worst_relative_error < 1e-9, JSON.stringify(v));
});

Deno.test("computeEcl() agrees with an independent Python implementation under shape + z_shift", async () => {
  const v = await compare(parseRules(Z_SHIFT_RULES, "z_shift.yaml"));
  assert.equal(v.loans, 3_000);
  assert.equal(v.stage_mismatches, 0);
  assert.ok(v.worst_relative_error < 1e-9, JSON.stringify(v));
});
