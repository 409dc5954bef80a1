/**
 * Tests of the simplified approach (IFRS 9 §5.5.15, B5.5.35;
 * docs/simplified_approach.md): the provision matrix and its bounds, the
 * credit-impaired rate of stage 3 receivables, the rules loader's checks of
 * a matrix, receivables without PDs, and IFRS 9 Illustrative Example 12
 * from the committed receivables file with the documented command.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { computeEcl } from "../../lib/engine/ecl.ts";
import {
  bucketLossRate,
  receivableLossRate,
} from "../../lib/engine/simplified.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { type Rules, RulesError } from "../../lib/rules.ts";
import {
  portfolio,
  relErr,
  type Row,
  rulesFrom,
  rulesYaml,
} from "./_helpers.ts";

/**
 * Company M's provision matrix (IFRS 9 IE74-IE77, Example 12), with its
 * "61-90 days" bucket ending at 89: at 90 days a receivable is stage 3
 * (methodology §3 rule 2), which the loader requires the buckets to respect.
 */
const MATRIX = `      upper_bound: inclusive
      buckets:
        - { max_dpd: 0, loss_rate: 0.003 }
        - { max_dpd: 30, loss_rate: 0.016 }
        - { max_dpd: 60, loss_rate: 0.036 }
        - { max_dpd: 89, loss_rate: 0.066 }
        - { loss_rate: 0.106 }`;

/** A rules file with one simplified product `receivable`. */
function receivableRules(matrix: string, staging?: string): Rules {
  return rulesFrom(rulesYaml({
    products: `  receivable:
    repayment: bullet
    approach: simplified
    provision_matrix:
${matrix}`,
    scenarios: `  - { name: base, weight: 0.5, pd_multiplier: [1] }
  - { name: stress, weight: 0.5, pd_multiplier: [3] }`,
    staging,
  }));
}

const RULES = receivableRules(`${MATRIX}
      segments:
        export:
          - { max_dpd: 30, loss_rate: 0.02 }
          - { loss_rate: 0.5 }`);

async function run(rows: Row[], rules: Rules = RULES) {
  const df = await computeEcl(
    stageFacilities(portfolio(rows).lazy(), rules),
    rules,
  );
  return df.toRecords();
}

/** Receivables of 1,000 at each of the given days past due. */
const atDays = (days: number[], extra: Row = {}): Row[] =>
  days.map((d) => ({
    product: "receivable",
    days_past_due: d,
    balance: 1000,
    ...extra,
  }));

/** The loader's issues for a rules text, as `path: message` lines. */
function refusal(build: () => unknown): { path: string; message: string }[] {
  try {
    build();
  } catch (e) {
    assert.ok(e instanceof RulesError, String(e));
    return e.issues;
  }
  throw new Error("the rules were accepted");
}

Deno.test("computeEcl() reproduces IFRS 9 Illustrative Example 12 (allowance CU 580,000)", async () => {
  const book: [number, number][] = [
    [0, 15_000_000], // current
    [15, 7_500_000], // 1-30 days past due
    [45, 4_000_000], // 31-60
    [75, 2_500_000], // 61-90
    [120, 1_000_000], // more than 90
  ];
  const got = await run(book.map(([dpd, balance]) => ({
    product: "receivable",
    days_past_due: dpd,
    balance,
  })));
  // Example 12's table: 45,000 + 120,000 + 144,000 + 165,000 + 106,000.
  const expected = [45_000, 120_000, 144_000, 165_000, 106_000];
  got.forEach((r, i) =>
    assert.ok(relErr(r.ecl as number, expected[i]) < 1e-15)
  );
  const total = got.reduce((a, r) => a + (r.ecl as number), 0);
  assert.ok(relErr(total, 580_000) < 1e-15);
});

Deno.test("computeEcl() reads max_dpd as inclusive and below_dpd as exclusive: 30 days lands in 1-30 or in 30-59", async () => {
  const inclusive = receivableRules(MATRIX);
  const exclusive = receivableRules(`      upper_bound: exclusive
      buckets:
        - { below_dpd: 1, loss_rate: 0.003 }
        - { below_dpd: 30, loss_rate: 0.016 }
        - { below_dpd: 60, loss_rate: 0.036 }
        - { below_dpd: 90, loss_rate: 0.066 }
        - { loss_rate: 0.106 }`);
  const days = [0, 1, 29, 30, 31, 59, 60, 89];
  // Inclusive: 0 | 1-30 | 31-60 | 61-89 | 90+.
  const inc = [0.003, 0.016, 0.016, 0.016, 0.036, 0.036, 0.036, 0.066];
  // Exclusive: 0 | 1-29 | 30-59 | 60-89 | 90+.
  const exc = [0.003, 0.016, 0.016, 0.036, 0.036, 0.036, 0.066, 0.066];
  for (
    const [rules, rates] of [[inclusive, inc], [exclusive, exc]] as const
  ) {
    const got = await run(atDays(days), rules);
    got.forEach((r, i) =>
      assert.ok(
        relErr(r.ecl as number, 1000 * rates[i]) < 1e-15,
        `${days[i]} days: ${r.ecl}`,
      )
    );
  }
  // The loader turns below_dpd: 30 into the inclusive bound 29.
  const buckets = exclusive.products.receivable.provision_matrix!.buckets;
  assert.deepEqual(buckets.map((b) => b.max_dpd), [0, 29, 59, 89, undefined]);
  assert.equal(bucketLossRate(buckets, 30), 0.036);
});

Deno.test("computeEcl() gives a stage 3 receivable at exactly 90 days past due the credit-impaired rate, not the 61-89 one", async () => {
  // Default: the last bucket's rate, 10.6% (Example 12, more than 90 days).
  const byDefault = await run(atDays([89, 90, 91]));
  assert.deepEqual(
    byDefault.map((r) => [r.stage, r.stage_reason]),
    [[2, "SIMPLIFIED"], [3, "DPD_90"], [3, "DPD_90"]],
  );
  const want = [66, 106, 106]; // 1,000 x 6.6%, 1,000 x 10.6%, 1,000 x 10.6%
  byDefault.forEach((r, i) =>
    assert.ok(relErr(r.ecl as number, want[i]) < 1e-15, `${r.ecl}`)
  );
  // Configured: every stage 3 receivable takes it, the open bucket's rate
  // is left to receivables the stage-3 rule does not reach.
  const configured = receivableRules(`${MATRIX}
      credit_impaired_loss_rate: 0.4`);
  assert.equal(
    configured.products.receivable.provision_matrix!.credit_impaired_loss_rate,
    0.4,
  );
  const got = await run(atDays([89, 90, 400]), configured);
  assert.deepEqual(got.map((r) => r.ecl), [66, 400, 400]);
  for (const c of ["ecl_12m", "ecl_lifetime", "ecl_model", "ecl_base"]) {
    assert.equal(got[1][c], 400, c);
  }
});

Deno.test("computeEcl() gives a defaulted receivable at 0 days past due the credit-impaired rate, not the current 0.3%", async () => {
  const [current, defaulted] = await run([
    ...atDays([0]),
    ...atDays([0], { default_flag: true }),
  ]);
  assert.deepEqual([current.stage, current.stage_reason], [2, "SIMPLIFIED"]);
  assert.deepEqual([defaulted.stage, defaulted.stage_reason], [
    3,
    "DEFAULT_FLAG",
  ]);
  assert.ok(relErr(current.ecl as number, 3) < 1e-15); // 1,000 x 0.3%
  assert.ok(relErr(defaulted.ecl as number, 106) < 1e-15); // 1,000 x 10.6%
  assert.equal(
    receivableLossRate(RULES.products.receivable.provision_matrix!, 0, 3),
    0.106,
  );
});

Deno.test("computeEcl() uses a segment's matrix when the product defines one, with its own or the product's credit-impaired rate", async () => {
  const got = await run([
    { product: "receivable", segment: "export", days_past_due: 10 },
    { product: "receivable", segment: "export", days_past_due: 200 },
    { product: "receivable", segment: "export", default_flag: true },
    { product: "receivable", segment: "domestic", days_past_due: 10 },
  ]);
  // export: 2% up to 30 days, 50% after and (its last bucket) when in default;
  // domestic has no matrix of its own: 1-30 days is 1.6%.
  assert.deepEqual(got.map((r) => r.ecl), [20, 500, 500, 16]);

  const rules = receivableRules(`${MATRIX}
      credit_impaired_loss_rate: 0.3
      segments:
        export: [{ max_dpd: 30, loss_rate: 0.02 }, { loss_rate: 0.5 }]
        retail:
          buckets: [{ max_dpd: 30, loss_rate: 0.01 }, { loss_rate: 0.2 }]
          credit_impaired_loss_rate: 0.9`);
  const m = rules.products.receivable.provision_matrix!;
  // A segment that does not give the key takes the product's (§10: segment
  // entries override key by key); one that gives it keeps its own.
  assert.equal(m.segments!.export.credit_impaired_loss_rate, 0.3);
  assert.equal(m.segments!.retail.credit_impaired_loss_rate, 0.9);
  const seg = await run([
    { product: "receivable", segment: "export", days_past_due: 95 },
    { product: "receivable", segment: "retail", default_flag: true },
    { product: "receivable", segment: "retail", days_past_due: 45 },
  ], rules);
  assert.deepEqual(seg.map((r) => r.ecl), [300, 900, 200]);
});

Deno.test("stageFacilities() and computeEcl() take receivables without PD columns, with a past or no maturity date", async () => {
  const rows = [
    { product: "receivable", maturity_date: "2025-10-31", days_past_due: 61 },
    { product: "receivable", maturity_date: null, days_past_due: 0 },
    { product: "receivable", maturity_date: "2025-12-31", days_past_due: 0 },
  ];
  const noPd = portfolio(rows).drop("pd_12m_origination", "pd_12m_current");
  const got = (await computeEcl(stageFacilities(noPd.lazy(), RULES), RULES))
    .toRecords();
  // 1,000 x 6.6% (61-89 days), then 1,000 x 0.3% twice (current).
  assert.deepEqual(got.map((r) => r.ecl), [66, 3, 3]);
  assert.deepEqual(got.map((r) => r.pd_12m), [null, null, null]);
  // The term is not used; a past due date counts as 1 month (§2), none as none.
  assert.deepEqual(got.map((r) => r.remaining_term_months), [1, null, 1]);
  assert.deepEqual(got.map((r) => r.stage_reason), [
    "SIMPLIFIED",
    "SIMPLIFIED",
    "SIMPLIFIED",
  ]);
});

Deno.test("computeEcl() reports simplified facilities as lifetime ECL in every column, without PD or LGD", async () => {
  const [current, defaulted, general] = await run([
    {
      product: "receivable",
      days_past_due: 10,
      balance: 1000,
      pd_12m_current: 0.3,
      watchlist: true,
    },
    { product: "receivable", days_past_due: 95, balance: 1000 },
    { product: "sme", balance: 1000, default_flag: true },
  ]);
  assert.deepEqual([current.stage, current.stage_reason], [2, "SIMPLIFIED"]);
  assert.deepEqual([defaulted.stage, defaulted.stage_reason], [3, "DPD_90"]);
  for (const r of [current, defaulted]) {
    for (
      const c of [
        "ecl_12m",
        "ecl_lifetime",
        "ecl_model",
        "ecl_base",
        "ecl_stress",
      ]
    ) {
      assert.equal(r[c], r.ecl, `${r.loan_id} ${c}`);
    }
    assert.equal(r.pd_lifetime, null);
    assert.equal(r.lgd, null);
    assert.equal(r.ead, 1000);
  }
  assert.ok(relErr(current.ecl as number, 16) < 1e-15);
  assert.equal(current.pd_12m, 0.3);
  // The general-approach row in the same frame is untouched: stage 3, 0.45 * 1000.
  assert.equal(general.ecl, 450);
  assert.equal(general.lgd, 0.45);
});

Deno.test("parseRules() refuses a provision matrix that does not say how its bounds read, naming the key and what to write", () => {
  const issues = refusal(() =>
    receivableRules(`      buckets:
        - { max_dpd: 30, loss_rate: 0.01 }
        - { loss_rate: 0.5 }`)
  );
  assert.deepEqual(issues.map((i) => i.path), [
    "products.receivable.provision_matrix.upper_bound",
  ]);
  assert.match(issues[0].message, /upper_bound: inclusive/);
  assert.match(issues[0].message, /upper_bound: exclusive/);
  // A matrix of one open bucket has no bound to read either way.
  const flat = receivableRules(`      buckets: [{ loss_rate: 0.01 }]`);
  assert.equal(
    flat.products.receivable.provision_matrix!.upper_bound,
    undefined,
  );
});

Deno.test("parseRules() refuses a bound key that contradicts upper_bound, saying the same bucket in the right key", () => {
  const issues = refusal(() =>
    receivableRules(`      upper_bound: exclusive
      buckets:
        - { below_dpd: 1, loss_rate: 0.003 }
        - { max_dpd: 30, loss_rate: 0.016 }
        - { loss_rate: 0.106 }
      segments:
        export:
          - { below_dpd: 31, max_dpd: 30, loss_rate: 0.02 }
          - { loss_rate: 0.5 }`)
  );
  assert.deepEqual(issues.map((i) => i.path), [
    "products.receivable.provision_matrix.buckets[1].max_dpd",
    "products.receivable.provision_matrix.segments.export[0]",
  ]);
  assert.match(issues[0].message, /write below_dpd: 31 for the same bucket/);
  const inclusive = refusal(() =>
    receivableRules(`      upper_bound: inclusive
      buckets: [{ below_dpd: 31, loss_rate: 0.016 }, { loss_rate: 0.1 }]`)
  );
  assert.deepEqual(inclusive.map((i) => i.path), [
    "products.receivable.provision_matrix.buckets[0].below_dpd",
  ]);
  assert.match(inclusive[0].message, /write max_dpd: 30 for the same bucket/);
  const unknown = refusal(() =>
    receivableRules(`      upper_bound: up_to
      buckets: [{ loss_rate: 0.1 }]`)
  );
  assert.deepEqual(unknown.map((i) => i.path), [
    "products.receivable.provision_matrix.upper_bound",
  ]);
});

Deno.test("parseRules() refuses buckets that reach staging.dpd_default, where receivables are credit-impaired", () => {
  // Example 12's own labels: "61-90" holds 90 days, which §3 rule 2 makes
  // stage 3 with the default dpd_default of 90.
  const issues = refusal(() =>
    receivableRules(`      upper_bound: inclusive
      buckets:
        - { max_dpd: 60, loss_rate: 0.036 }
        - { max_dpd: 90, loss_rate: 0.066 }
        - { max_dpd: 180, loss_rate: 0.2 }
        - { loss_rate: 0.5 }`)
  );
  assert.deepEqual(issues.map((i) => i.path), [
    "products.receivable.provision_matrix.buckets[1].max_dpd",
    "products.receivable.provision_matrix.buckets[2].max_dpd",
  ]);
  assert.match(issues[0].message, /days_past_due 90 to 90/);
  assert.match(issues[0].message, /end the bucket at max_dpd: 89/);
  assert.match(issues[1].message, /days_past_due 91 to 180/);
  assert.match(issues[1].message, /remove the bucket/);
  // Exclusive: below_dpd: 91 also holds 90; below_dpd: 90 does not.
  const exclusive = refusal(() =>
    receivableRules(`      upper_bound: exclusive
      buckets: [{ below_dpd: 91, loss_rate: 0.066 }, { loss_rate: 0.5 }]`)
  );
  assert.deepEqual(exclusive.map((i) => i.path), [
    "products.receivable.provision_matrix.buckets[0].below_dpd",
  ]);
  assert.match(exclusive[0].message, /end the bucket at below_dpd: 90/);
  receivableRules(`      upper_bound: exclusive
      buckets: [{ below_dpd: 90, loss_rate: 0.066 }, { loss_rate: 0.5 }]`);
  // The check follows the configured threshold.
  const at60 = refusal(() =>
    receivableRules(MATRIX, "  dpd_default: 60\n  dpd_sicr: 30")
  );
  assert.deepEqual(at60.map((i) => i.path), [
    "products.receivable.provision_matrix.buckets[2].max_dpd",
    "products.receivable.provision_matrix.buckets[3].max_dpd",
  ]);
});

Deno.test("parseRules() checks order, open last bucket and rates of every matrix", () => {
  const issues = refusal(() =>
    receivableRules(`      upper_bound: inclusive
      buckets:
        - { max_dpd: 30, loss_rate: 0.01 }
        - { max_dpd: 10, loss_rate: 1.2 }
        - { max_dpd: 60, loss_rate: 0.1 }
      credit_impaired_loss_rate: 1.5
      segments:
        export: { buckets: [{ loss_rate: 0.1 }], credit_impaired_loss_rate: -1, extra: 1 }`)
  );
  assert.deepEqual(issues.map((i) => i.path), [
    "products.receivable.provision_matrix.buckets[1].loss_rate",
    "products.receivable.provision_matrix.buckets[1].max_dpd",
    "products.receivable.provision_matrix.buckets[2].max_dpd",
    "products.receivable.provision_matrix.credit_impaired_loss_rate",
    "products.receivable.provision_matrix.segments.export.extra",
    "products.receivable.provision_matrix.segments.export.credit_impaired_loss_rate",
  ]);
  assert.match(issues[1].message, /above the previous bucket's max_dpd 30/);
  assert.match(issues[2].message, /last bucket must be open/);
});

/** The command docs/simplified_approach.md documents, with a temporary --out. */
const EXAMPLE12 = {
  portfolio: "data/sample/receivables_example12.csv",
  rules: "config/example12_rules.yaml",
  fx: "config/fx_rates.yaml",
};

Deno.test("deno task run on the committed Example 12 receivables gives 580,000.00 and Example 12's allowance per bucket", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const file = pl.readCSV(
    await Deno.readTextFile(`${root}${EXAMPLE12.portfolio}`),
    { inferSchemaLength: 0 },
  );
  // What the docs say of the file: no PD columns, due dates some past.
  assert.ok(!file.columns.some((c) => c.startsWith("pd_")));
  const due = file.getColumn("maturity_date").toArray() as string[];
  assert.ok(due.some((d) => d < "2025-12-31"));
  const out = await Deno.makeTempDir({ prefix: "example12_" });
  try {
    const cmd = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "run",
        "--portfolio",
        EXAMPLE12.portfolio,
        "--rules",
        EXAMPLE12.rules,
        "--fx",
        EXAMPLE12.fx,
        "--out",
        out,
        "--quiet",
      ],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(cmd.stderr);
    assert.equal(cmd.code, 0, stderr);
    const dir = new TextDecoder().decode(cmd.stdout).trim().split("\n").at(-1)!;
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    assert.equal(summary.totals.ecl.toFixed(2), "580000.00");
    assert.equal(summary.totals.count, file.height);

    // Example 12's buckets, by the file's own days past due (no invoice is
    // at exactly 90, so "61-90" and the rules' 61-89 hold the same ones).
    const dpd = file.getColumn("days_past_due").cast(pl.Int32);
    assert.ok(!(dpd.toArray() as number[]).includes(90));
    const label = (d: number) =>
      d === 0
        ? "current"
        : d <= 30
        ? "1-30"
        : d <= 60
        ? "31-60"
        : d <= 90
        ? "61-90"
        : "more than 90";
    const fileIds = file.getColumn("loan_id").toArray() as string[];
    const balances = file.getColumn("balance").cast(pl.Float64)
      .toArray() as number[];
    const bucketOf = new Map<string, string>();
    const balance = new Map<string, number>();
    fileIds.forEach((id, i) => {
      const b = label(dpd.get(i) as number);
      bucketOf.set(id, b);
      balance.set(b, (balance.get(b) ?? 0) + balances[i]);
    });
    const results = pl.readParquet(`${dir}/loan_results.parquet`);
    const values = results.getColumn("ecl").toArray() as number[];
    const ecl = new Map<string, number>();
    (results.getColumn("loan_id").toArray() as string[]).forEach((id, i) => {
      const b = bucketOf.get(id)!;
      ecl.set(b, (ecl.get(b) ?? 0) + values[i]);
    });
    // IFRS 9 IE77, Example 12: gross carrying amount and lifetime ECL.
    const published: [string, number, number][] = [
      ["current", 15_000_000, 45_000],
      ["1-30", 7_500_000, 120_000],
      ["31-60", 4_000_000, 144_000],
      ["61-90", 2_500_000, 165_000],
      ["more than 90", 1_000_000, 106_000],
    ];
    for (const [bucket, gross, allowance] of published) {
      assert.equal(balance.get(bucket)!.toFixed(2), gross.toFixed(2), bucket);
      assert.equal(ecl.get(bucket)!.toFixed(2), allowance.toFixed(2), bucket);
    }
    // The report says what stage 2 means for receivables and shows no
    // empty PD or LGD chart (the provision matrix has neither model).
    const page = await Deno.readTextFile(`${dir}/report.html`);
    assert.match(
      page,
      /trade_receivable: simplified approach \(IFRS 9 §5\.5\.15\)/,
    );
    assert.match(page, /No 12-month PD distribution/);
    assert.match(page, /No LGD distribution/);
    assert.doesNotMatch(page, /id="chart-pd"/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
