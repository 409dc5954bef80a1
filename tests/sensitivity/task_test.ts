/**
 * `deno task sensitivity` (tasks/sensitivity.ts): the files it writes, its
 * table against a run of the same book, and the rules it refuses with the
 * key path.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { main } from "../../tasks/sensitivity.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import { DEFAULT_FX, runPortfolio } from "../../lib/run/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";

const RULES = `reporting_currency: EUR
products:
  mortgage: { repayment: annuity }
  auto: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
segments:
  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }
scenarios:
  - { name: base, weight: 0.6, pd_multiplier: [1.0], collateral_haircut: 0.2 }
  - { name: downside, weight: 0.4, pd_multiplier: [1.8, 1.3], collateral_haircut: 0.4 }
`;

const SECTION = `sensitivity:
  stresses:
    - { name: pd_x2, pd_multiplier: 2 }
    - { name: coll_30, collateral_shock: 0.3 }
`;

Deno.test("deno task sensitivity writes sensitivity.json, .html and .csv, its lines those of a run's table", async () => {
  await withTempDir(async (dir) => {
    const portfolio = writePortfolio(`${dir}/book.parquet`, 120);
    await Deno.writeTextFile(`${dir}/rules.yaml`, RULES + SECTION);
    const r = await callMain(
      main,
      "--portfolio",
      portfolio,
      "--rules",
      `${dir}/rules.yaml`,
      "--fx",
      DEFAULT_FX,
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    const names: string[] = [];
    for await (const e of Deno.readDir(`${dir}/out`)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "sensitivity.csv",
      "sensitivity.html",
      "sensitivity.json",
    ]);
    const file = JSON.parse(
      await Deno.readTextFile(`${dir}/out/sensitivity.json`),
    );
    assert.equal(file.rows.valid, 120);
    assert.deepEqual(
      file.sensitivity.lines.map((l: { name: string }) => l.name),
      ["weighted", "base", "downside", "pd_x2", "coll_30"],
    );
    // The same book run with the same rules: the run's allowance and its
    // own table, line by line, to the cent.
    const run = await runPortfolio({
      portfolio,
      rules: `${dir}/rules.yaml`,
      fx: DEFAULT_FX,
      out: `${dir}/runs`,
      runId: "q4",
      report: false,
    });
    const lines = file.sensitivity.lines as { ecl: number; name: string }[];
    assert.ok(Math.abs(lines[0].ecl - run.summary.totals.ecl) < 0.005);
    run.summary.sensitivity!.lines.forEach((l, i) => {
      assert.equal(lines[i].name, l.name);
      assert.ok(Math.abs(lines[i].ecl - l.ecl) < 0.005, l.name);
    });
    // The CSV: a line per variant, amounts to the cent.
    const csv = pl.readCSV(
      await Deno.readTextFile(`${dir}/out/sensitivity.csv`),
      { inferSchemaLength: 0 },
    );
    assert.equal(csv.height, lines.length);
    assert.deepEqual(csv.columns.slice(0, 5), [
      "kind",
      "name",
      "variant",
      "staging",
      "ecl",
    ]);
    assert.deepEqual(csv.getColumn("staging").toArray(), [
      "run",
      "run",
      "run",
      "restaged",
      "run",
    ]);
    assert.deepEqual(
      csv.getColumn("ecl").toArray(),
      lines.map((l) => l.ecl.toFixed(2)),
    );
    const html = await Deno.readTextFile(`${dir}/out/sensitivity.html`);
    assert.match(html, /id="chart-sensitivity"/);
    assert.match(html, /stress: pd_x2/);
    assert.match(r.stdout, /stress pd_x2/);
  });
});

Deno.test("deno task sensitivity refuses a bad sensitivity section with its key path, writing nothing", async () => {
  await withTempDir(async (dir) => {
    const portfolio = writePortfolio(`${dir}/book.parquet`, 10);
    await Deno.writeTextFile(
      `${dir}/rules.yaml`,
      RULES + "sensitivity: { stresses: [{ name: pd, pd_multiplier: -2 }] }\n",
    );
    const r = await callMain(
      main,
      "--portfolio",
      portfolio,
      "--rules",
      `${dir}/rules.yaml`,
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /rules\.yaml[\s\S]*key sensitivity\.stresses\[0\]\.pd_multiplier: must be > 0, got -2/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    await assert.rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);
  });
});

Deno.test("deno task sensitivity without a section gives each scenario alone", async () => {
  await withTempDir(async (dir) => {
    const portfolio = writePortfolio(`${dir}/book.parquet`, 30);
    await Deno.writeTextFile(`${dir}/rules.yaml`, RULES);
    const r = await callMain(
      main,
      "--portfolio",
      portfolio,
      "--rules",
      `${dir}/rules.yaml`,
      "--fx",
      DEFAULT_FX,
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    const file = JSON.parse(
      await Deno.readTextFile(`${dir}/out/sensitivity.json`),
    );
    assert.deepEqual(
      file.sensitivity.lines.map((l: { kind: string }) => l.kind),
      ["weighted", "scenario", "scenario"],
    );
  });
});

Deno.test("deno task sensitivity prints its usage on --help and refuses a bad command line with exit code 2", async () => {
  const help = await callMain(main, "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task sensitivity --portfolio PATH/);
  const missing = await callMain(main, "--portfolio", "p.parquet");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--rules.*--out|--out.*--rules/);
  const bad = await callMain(
    main,
    ...["--portfolio", "p", "--rules", "r", "--out", "o", "--max-rows", "x"],
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-rows must be a whole number, got x/);
});
