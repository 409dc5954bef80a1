/**
 * Tests of the FX table (lib/fx.ts): parsing, hashing, problems reported
 * with the file and key, missing currencies named, and cross rates when the
 * table's base is not the reporting currency.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  fxDateWarning,
  FxError,
  fxFileFor,
  loadFx,
  parseFx,
  reportingRates,
} from "../lib/fx.ts";
import { projectPath } from "../lib/project.ts";
import { parse as parseYaml } from "yaml";
import pl from "nodejs-polars";
import { runPortfolio } from "../lib/run/mod.ts";
import { main as runTask } from "../tasks/run.ts";
import { portfolioFrame } from "./run/_portfolio.ts";

const TABLE = `base: EUR
as_of: 2025-12-31
rates:
  EUR: 1.0
  USD: 0.92
  MXN: 0.051
`;

Deno.test("loadFx() reads the table and hashes the file's bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/fx.yaml`;
    await Deno.writeTextFile(path, TABLE);
    const fx = await loadFx(path);
    assert.equal(fx.file, path);
    assert.equal(fx.base, "EUR");
    assert.equal(fx.as_of, "2025-12-31");
    assert.deepEqual(fx.rates, { EUR: 1, USD: 0.92, MXN: 0.051 });
    const expected = createHash("sha256").update(TABLE).digest("hex");
    assert.equal(fx.sha256, expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFx() reads the project's default table", async () => {
  const fx = await loadFx("config/fx_rates.yaml");
  assert.equal(fx.base, "EUR");
  assert.equal(fx.rates.EUR, 1);
  assert.match(fx.sha256, /^[0-9a-f]{64}$/);
});

Deno.test("the sample's 2025-09-30 table has the default table's currencies at other rates", async () => {
  const q3 = await loadFx("config/fx_rates_2025-09-30.yaml");
  const q4 = await loadFx("config/fx_rates.yaml");
  assert.equal(q3.as_of, "2025-09-30");
  assert.equal(q3.base, q4.base);
  assert.deepEqual(Object.keys(q3.rates).sort(), Object.keys(q4.rates).sort());
  // Different non-base rates, so the sample movement has an FX line.
  for (const cur of Object.keys(q4.rates)) {
    if (cur !== q4.base) assert.notEqual(q3.rates[cur], q4.rates[cur], cur);
  }
});

Deno.test("fxFileFor() picks the dated table when there is one, else the default", async () => {
  // The project's config/, whatever the working directory.
  assert.equal(
    await fxFileFor("2025-09-30"),
    projectPath("config/fx_rates_2025-09-30.yaml"),
  );
  assert.equal(
    await fxFileFor("2025-12-31"),
    projectPath("config/fx_rates.yaml"),
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/fx_rates_2026-03-31.yaml`, "");
    assert.equal(
      await fxFileFor("2026-03-31", dir),
      `${dir}/fx_rates_2026-03-31.yaml`,
    );
    assert.equal(await fxFileFor("2026-06-30", dir), `${dir}/fx_rates.yaml`);
    // Several folders: the first dated table, else the last folder's default.
    const config = projectPath("config");
    assert.equal(
      await fxFileFor("2026-03-31", [dir, config]),
      `${dir}/fx_rates_2026-03-31.yaml`,
    );
    assert.equal(
      await fxFileFor("2025-09-30", [dir, config]),
      `${config}/fx_rates_2025-09-30.yaml`,
    );
    assert.equal(
      await fxFileFor("2026-06-30", [dir, config]),
      `${config}/fx_rates.yaml`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fxDateWarning() is null on the reporting date and names file and dates otherwise", () => {
  const fx = parseFx(
    "base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1}",
    "cfg/fx.yaml",
  );
  assert.equal(fxDateWarning(fx, "2025-12-31"), null);
  assert.equal(
    fxDateWarning(fx, "2026-03-31"),
    "FX table cfg/fx.yaml is as of 2025-12-31, not the reporting date 2026-03-31: totals in the reporting currency use that date's rates (pass --fx with the closing rates of 2026-03-31)",
  );
});

Deno.test("loadFx() names the file when it cannot be read", async () => {
  await assert.rejects(
    () => loadFx("no/such/fx.yaml"),
    (e: Error) =>
      e instanceof FxError &&
      e.message.startsWith("Cannot read FX table no/such/fx.yaml:"),
  );
});

Deno.test("parseFx() reports every problem with its key", () => {
  const text = `base: euro
as_of: yesterday
rates: { EUR: 1, USD: -2, usd: 1 }
extra: 1
`;
  assert.throws(() => parseFx(text, "bad.yaml"), (e: Error) => {
    assert.ok(e instanceof FxError);
    assert.match(e.message, /^Cannot read FX table bad\.yaml: /);
    assert.match(e.message, /key extra: unknown key/);
    assert.match(e.message, /key base: must be an ISO 4217 code, got "euro"/);
    assert.match(e.message, /key as_of: must be a date YYYY-MM-DD/);
    assert.match(
      e.message,
      /key rates\.USD: must be a positive number, got -2/,
    );
    assert.match(e.message, /key rates\.usd: not an ISO 4217 code/);
    return true;
  });
});

Deno.test("parseFx() reports a file that is not a mapping as one problem, saying what it holds", () => {
  assert.throws(
    () => parseFx("- EUR\n- USD\n", "list.yaml"),
    (e: Error) => {
      assert.equal(
        e.message,
        'Cannot read FX table list.yaml: the file must be a mapping (keys: base, as_of, rates), got ["EUR","USD"]',
      );
      return true;
    },
  );
});

Deno.test("parseFx() checks the base currency's rate only once base and rates are valid", () => {
  assert.throws(
    () => parseFx("base: EUR\nas_of: 2025-12-31\nrates: {}", "empty.yaml"),
    (e: Error) => {
      assert.equal(
        e.message,
        "Cannot read FX table empty.yaml: key rates: must map currency codes to positive numbers",
      );
      return true;
    },
  );
});

Deno.test("parseFx() requires the base currency at rate 1", () => {
  const text = "base: EUR\nas_of: 2025-12-31\nrates: { EUR: 1.1, USD: 0.9 }";
  assert.throws(
    () => parseFx(text, "fx.yaml"),
    /key rates\.EUR: the base currency's rate must be 1, got 1\.1/,
  );
});

Deno.test("parseFx() refuses text that is not valid YAML", () => {
  assert.throws(
    () => parseFx("rates: [1, 2", "broken.yaml"),
    /Cannot read FX table broken\.yaml: not valid YAML/,
  );
});

Deno.test("reportingRates() returns the rates of the currencies asked for", () => {
  const fx = parseFx(TABLE, "fx.yaml");
  assert.deepEqual(reportingRates(fx, "EUR", ["USD", "EUR", "USD"]), {
    EUR: 1,
    USD: 0.92,
  });
});

Deno.test("reportingRates() names every missing currency and the FX file", () => {
  const fx = parseFx(TABLE, "config/fx.yaml");
  assert.throws(
    () => reportingRates(fx, "EUR", ["USD", "GBP", "CHF"]),
    (e: Error) =>
      e instanceof FxError &&
      e.message.startsWith(
        "FX table config/fx.yaml (as of 2025-12-31) has no rate for CHF, GBP",
      ),
  );
});

Deno.test("reportingRates() crosses through the base when it differs", () => {
  // Quoted in USD: 1 EUR = 1.10 USD, 1 MXN = 0.055 USD. In EUR:
  // 1 USD = 1/1.10 EUR, 1 MXN = 0.055/1.10 = 0.05 EUR.
  const fx = parseFx(
    "base: USD\nas_of: 2025-12-31\nrates: { USD: 1, EUR: 1.10, MXN: 0.055 }",
    "usd.yaml",
  );
  const r = reportingRates(fx, "EUR", ["EUR", "USD", "MXN"]);
  assert.equal(r.EUR, 1);
  assert.ok(Math.abs(r.USD - 1 / 1.1) < 1e-15);
  assert.ok(Math.abs(r.MXN - 0.05) < 1e-15);
});

Deno.test("reportingRates() refuses a reporting currency the table lacks", () => {
  const fx = parseFx(TABLE, "fx.yaml");
  assert.throws(() => reportingRates(fx, "GBP", ["EUR"]), /no rate for GBP/);
});

const SAMPLE_Q3 = projectPath("data/sample/portfolio_2025-09-30.parquet");
const SAMPLE_RULES = projectPath("config/sample_rules.yaml");
const DATED = projectPath("config/fx_rates_2025-09-30.yaml");

/**
 * A run's total ECL by a plain loop over its loan results, at the rates of
 * an FX file read here as YAML (its base is the reporting currency, EUR).
 */
async function totalAt(dir: string, fxFile: string): Promise<number> {
  const rates = parseYaml(await Deno.readTextFile(fxFile)).rates;
  const df = pl.readParquet(`${dir}/loan_results.parquet`);
  const cur = df.getColumn("currency").toArray() as string[];
  const ecl = df.getColumn("ecl").toArray() as number[];
  let total = 0;
  for (let i = 0; i < ecl.length; i++) total += ecl[i] * rates[cur[i]];
  return total;
}

Deno.test("runPortfolio() without fx converts the sample's 2025-09-30 book at that date's closing rates, as the demo does", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = await runPortfolio({
      portfolio: SAMPLE_Q3,
      rules: SAMPLE_RULES,
      out,
      runId: "q3",
      report: false,
    });
    assert.equal(run.manifest.inputs.fx.path, DATED);
    assert.equal(run.summary.fx.as_of, "2025-09-30");
    assert.deepEqual(run.manifest.warnings, []);
    const total = run.summary.totals.ecl;
    assert.ok(Math.abs(total - await totalAt(run.dir, DATED)) < 0.005);
    // The demo's figure (it names the dated table itself).
    const demo = await runPortfolio({
      portfolio: SAMPLE_Q3,
      rules: SAMPLE_RULES,
      fx: DATED,
      out,
      runId: "demo",
      report: false,
    });
    assert.equal(total, demo.summary.totals.ecl);
    // Not what the project's default table (2025-12-31) gives.
    const atDefault = await totalAt(
      run.dir,
      projectPath("config/fx_rates.yaml"),
    );
    assert.ok(Math.abs(total - atDefault) > 1_000, `${total} ${atDefault}`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task run without --fx converts the sample's 2025-09-30 book at that date's closing rates", async () => {
  const out = await Deno.makeTempDir();
  const log = console.log, error = console.error;
  console.log = console.error = () => {};
  try {
    const code = await runTask([
      "--portfolio",
      SAMPLE_Q3,
      "--rules",
      SAMPLE_RULES,
      "--out",
      out,
      "--run-id",
      "q3",
      "--no-report",
      "--quiet",
    ]);
    assert.equal(code, 0);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${out}/q3/manifest.json`),
    );
    assert.equal(manifest.inputs.fx.path, DATED);
    assert.deepEqual(manifest.warnings, []);
    const summary = JSON.parse(
      await Deno.readTextFile(`${out}/q3/summary.json`),
    );
    assert.equal(summary.fx.as_of, "2025-09-30");
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(out, { recursive: true });
  }
});

/** Writes an FX table with every currency of the run fixtures. */
async function writeTable(path: string, asOf: string, usd: number) {
  await Deno.writeTextFile(
    path,
    `base: EUR\nas_of: ${asOf}\nrates: {EUR: 1, USD: ${usd}, MXN: 0.05}\n`,
  );
}

Deno.test("runPortfolio() without fx takes the dated table beside the portfolio before config/'s, and refuses a broken one before opening a folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const portfolio = `${dir}/book.parquet`;
    portfolioFrame(200).writeParquet(portfolio);
    const table = `${dir}/fx_rates_2025-12-31.yaml`;
    await writeTable(table, "2025-12-31", 0.9);
    const run = await runPortfolio({
      portfolio,
      out: `${dir}/runs`,
      runId: "beside",
      report: false,
    });
    assert.equal(run.manifest.inputs.fx.path, table);
    assert.equal(run.summary.fx.rates.USD, 0.9);

    await Deno.writeTextFile(
      table,
      "base: EUR\nas_of: 2025-12-31\nrates: {USD: -1}\n",
    );
    await assert.rejects(
      () =>
        runPortfolio({
          portfolio,
          out: `${dir}/runs`,
          runId: "broken",
          report: false,
        }),
      (e: unknown) =>
        e instanceof FxError &&
        e.message.startsWith(`Cannot read FX table ${table}: `),
    );
    const folders = [...Deno.readDirSync(`${dir}/runs`)].map((e) => e.name);
    assert.deepEqual(folders, ["beside"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPortfolio() without fx follows the validated reporting date when the first rows carry another", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 600 rows dated a quarter earlier first, then 1,400 at 2025-12-31:
    // the first 1,000 rows say 2025-09-30, the file says 2025-12-31.
    const book = portfolioFrame(2000).withColumns(
      pl.when(pl.col("loan_id").lt(pl.lit("L0000600")))
        .then(pl.lit("2025-09-30").str.strptime(pl.Date, "%Y-%m-%d"))
        .otherwise(pl.col("reporting_date")).alias("reporting_date"),
    );
    const portfolio = `${dir}/book.parquet`;
    book.writeParquet(portfolio);
    await writeTable(`${dir}/fx_rates_2025-09-30.yaml`, "2025-09-30", 0.95);
    await writeTable(`${dir}/fx_rates_2025-12-31.yaml`, "2025-12-31", 0.9);
    const rules = `${dir}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(projectPath("config/ifrs9_rules.yaml")))
        .replace("max_reject_rate: 0.05", "max_reject_rate: 0.5"),
    );
    const run = await runPortfolio({
      portfolio,
      rules,
      out: dir,
      runId: "mixed",
      report: false,
    });
    assert.equal(run.manifest.reporting_date, "2025-12-31");
    assert.equal(run.manifest.rows.rejected, 600);
    assert.equal(
      run.manifest.inputs.fx.path,
      `${dir}/fx_rates_2025-12-31.yaml`,
    );
    assert.equal(run.summary.fx.as_of, "2025-12-31");
    assert.deepEqual(run.manifest.warnings, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
