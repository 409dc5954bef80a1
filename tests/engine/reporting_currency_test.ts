/**
 * The loan results in the reporting currency (methodology §12): with an FX
 * table, `computeEcl` ends each row with `fx_rate`, `ead_rc` and `ecl_rc`,
 * so a notebook adds up `ecl_rc` across currencies and gets the run's
 * total (issue 9: summing `ecl` across EUR, COP and CLP gave about 220
 * million where the EUR figure is 904,697).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { computeEcl, stageFacilities } from "../../lib/engine/mod.ts";
import { FxError, loadFx, parseFx } from "../../lib/fx.ts";
import { loadRules } from "../../lib/rules.ts";
import { projectPath } from "../../lib/project.ts";
import { scanPortfolio } from "../../lib/io/mod.ts";
import { validatePortfolio } from "../../lib/validation/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { RESULT_COLUMNS } from "../../lib/schema.ts";
import { portfolio, rulesFrom, rulesYaml } from "./_helpers.ts";

/** One EUR and one USD facility; USD at 0.92 EUR, MXN at 0.05. */
const FX = parseFx(
  "base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: 0.92, MXN: 0.05}",
  "fx.yaml",
);

Deno.test("computeEcl() with an FX table ends each row with fx_rate, ead_rc and ecl_rc", async () => {
  const rules = rulesFrom(rulesYaml());
  const book = portfolio([
    { currency: "EUR", pd_12m_current: 0.12 },
    { currency: "USD", pd_12m_current: 0.12 },
  ]);
  const staged = stageFacilities(book.lazy(), rules);
  const plain = await computeEcl(staged, rules);
  const rc = await computeEcl(staged, rules, { fx: FX });
  // The columns without the table come first, unchanged.
  assert.deepEqual(rc.columns, [
    ...plain.columns,
    "fx_rate",
    "ead_rc",
    "ecl_rc",
  ]);
  assert.ok(rc.select(...plain.columns).frameEqual(plain, true));
  const rows = rc.toRecords();
  assert.deepEqual(rows.map((r) => r.fx_rate), [1, 0.92]);
  // Both facilities are the §11 loan: ECL 90.31546325313 in its currency.
  for (const r of rows) {
    assert.ok(Math.abs((r.ecl as number) - 90.31546325313) < 1e-9);
    assert.equal(r.ecl_rc, (r.ecl as number) * (r.fx_rate as number));
    assert.equal(r.ead_rc, (r.ead as number) * (r.fx_rate as number));
  }
  assert.ok(Math.abs((rows[1].ecl_rc as number) - 83.0902261929) < 1e-9);
  for (const c of ["fx_rate", "ead_rc", "ecl_rc"]) {
    assert.ok(rc.getColumn(c).dtype.equals(pl.Float64), c);
  }
});

Deno.test("computeEcl() refuses a currency the FX table lacks before computing, naming it and the file", async () => {
  const rules = rulesFrom(rulesYaml());
  const book = portfolio([{ currency: "EUR" }, { currency: "CLP" }]);
  await assert.rejects(
    () => computeEcl(stageFacilities(book.lazy(), rules), rules, { fx: FX }),
    (e: unknown) =>
      e instanceof FxError &&
      e.message.startsWith(
        "FX table fx.yaml (as of 2025-12-31) has no rate for CLP",
      ),
  );
});

Deno.test("the lib/mod.ts example's total of ecl_rc equals the run summary's total ECL", async () => {
  // The example's steps (lib/mod.ts, README "Library"), sample book at
  // 2025-12-31 with the sample rules and that date's FX table.
  const rules = await loadRules(projectPath("config/sample_rules.yaml"));
  const fx = await loadFx(projectPath("config/fx_rates.yaml"));
  const file = projectPath("data/sample/portfolio_2025-12-31.parquet");
  const { valid } = await validatePortfolio(scanPortfolio(file), rules, {
    file,
  });
  const staged = stageFacilities(valid.lazy(), rules);
  const results = await computeEcl(staged, rules, { fx });
  // More than one currency, so a sum of `ecl` would mix units.
  const currencies = results.getColumn("currency").unique().toArray();
  assert.ok(currencies.length > 2, `${currencies}`);
  const total = results.getColumn("ecl_rc").sum() as number;

  const out = await Deno.makeTempDir();
  try {
    const run = await runPortfolio({
      portfolio: file,
      rules: projectPath("config/sample_rules.yaml"),
      out,
      runId: "sample",
      report: false,
    });
    assert.equal(run.summary.fx.as_of, "2025-12-31");
    assert.ok(
      Math.abs(total - run.summary.totals.ecl) < 0.005,
      `${total} vs ${run.summary.totals.ecl}`,
    );
    // The figure the examples assert (lib/mod.ts, README) is this total.
    const shown = (text: string) =>
      Number(
        text.match(
          /assert\.equal\(Math\.round\(total \* 100\) \/ 100, ([\d_.]+)\)/,
        )![1].replaceAll("_", ""),
      );
    const root = new URL("../../", import.meta.url).pathname;
    for (const doc of ["lib/mod.ts", "README.md"]) {
      assert.equal(
        shown(await Deno.readTextFile(`${root}${doc}`)),
        Math.round(run.summary.totals.ecl * 100) / 100,
        doc,
      );
    }
    // The run writes the same columns, the §9 ones first and unchanged.
    const written = pl.readParquet(`${run.dir}/loan_results.parquet`);
    assert.deepEqual(written.columns, results.columns);
    assert.deepEqual(
      written.columns.slice(0, RESULT_COLUMNS.length),
      [...RESULT_COLUMNS],
    );
    assert.ok(written.frameEqual(results, true));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the README's library example runs and its total of ecl_rc is the run's", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const readme = await Deno.readTextFile(`${root}README.md`);
  const block = readme.match(/One run, step by step:\n\n```ts\n([\s\S]*?)```/);
  assert.ok(block, "README has its library example");
  assert.match(block[1], /getColumn\("ecl_rc"\)\.sum\(\)/);
  // Run as written, from a file in the project's data/tmp (git-ignored).
  const dir = `${root}data/tmp`;
  await Deno.mkdir(dir, { recursive: true });
  const file = await Deno.makeTempFile({ dir, suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      file,
      block[1].replace('from "./lib/mod.ts"', `from "${root}lib/mod.ts"`),
    );
    const cmd = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      cwd: root,
    }).output();
    assert.equal(cmd.code, 0, new TextDecoder().decode(cmd.stderr));
  } finally {
    await Deno.remove(file);
  }
});
