/**
 * A star schema for BI tools (Power BI, Looker Studio over BigQuery) from
 * one or more run folders: a facility fact table with one row per facility
 * and reporting date, and stage, product, region and date dimensions joined
 * by integer surrogate keys. Every table is written as Parquet and as CSV
 * (UTF-8, header row, `.` decimal point), with a README on loading it.
 *
 * Amounts are given both in the facility currency (as computed, methodology
 * §9) and in the reporting currency with the run's own FX rate, so a report
 * can sum across currencies without redoing the conversion. Each facility's
 * ECL is also split into loss allowance and provision (IFRS 7 B8E,
 * `allowanceSplit`), and coverage is ECL over the gross carrying amount.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import pl from "nodejs-polars";
import type { DataFrame, LazyFrame } from "../frame.ts";
import { allowanceSplit } from "../allowance.ts";
import {
  checkOutputFolder,
  type FileWriter,
  locate,
  type Location,
  readRunFolder,
  type RunFolder,
  writeOutputFolder,
} from "../run_folder/mod.ts";
import {
  disclosuresOf,
  IFRS7_CSV_COLUMNS,
  ifrs7Csv,
} from "../disclosure/mod.ts";

/** Stage descriptions for the stage dimension (IFRS 9 §5.5.3, §5.5.5). */
const STAGE_ROWS = [
  {
    stage_key: 1,
    stage: "Stage 1",
    measurement: "12-month ECL",
    description: "Performing: no significant increase in credit risk",
  },
  {
    stage_key: 2,
    stage: "Stage 2",
    measurement: "Lifetime ECL",
    description:
      "Significant increase in credit risk since initial recognition",
  },
  {
    stage_key: 3,
    stage: "Stage 3",
    measurement: "Lifetime ECL",
    description: "Credit-impaired",
  },
];

/** The tables {@link exportStarSchema} writes, by name. */
export const STAR_TABLES = [
  "fact_facility",
  "dim_stage",
  "dim_product",
  "dim_region",
  "dim_date",
] as const;

/** The README beside the tables, saying how to load them. */
const README = "README.md";

/**
 * The IFRS 7 credit-risk figures of every run (lib/disclosure), each tagged
 * with its IFRS Accounting Taxonomy element: a CSV beside the tables.
 */
export const IFRS7_CSV = "ifrs7_credit_risk.csv";

/**
 * The files of an export: each table as Parquet and CSV, the IFRS 7 CSV
 * and the README.
 */
export const STAR_FILES: readonly string[] = [
  ...STAR_TABLES.flatMap((t) => [`${t}.parquet`, `${t}.csv`]),
  IFRS7_CSV,
  README,
];

/** Options of {@link exportStarSchema}. */
export interface StarSchemaOptions {
  /**
   * How the files are written (a test passes one that fails part-way, as
   * a full disk does). @default the file system
   */
  writer?: FileWriter;
}

/** What {@link exportStarSchema} wrote. */
export interface StarSchemaExport {
  /** The export folder as published: its path (or URL), as messages name it. */
  outDir: string;
  /** Rows per table. */
  rows: Record<(typeof STAR_TABLES)[number], number>;
  /** Every file written, Parquet and CSV. */
  files: string[];
}

/** `YYYY-MM-DD` to the integer date key `YYYYMMDD`. */
export function dateKey(date: string): number {
  return Number(date.replaceAll("-", ""));
}

/** One run's facilities with the fact columns, lazily. */
function runFacts(run: RunFolder): LazyFrame {
  const rates = run.summary.fx.rates;
  const currencies = Object.keys(rates);
  const rateFrame = pl.DataFrame({
    currency: currencies,
    fx_rate: currencies.map((c) => rates[c]),
  }, { schema: { currency: pl.Utf8, fx_rate: pl.Float64 } }).lazy();
  const carrying = run.carrying.select(
    pl.col("loan_id"),
    pl.col("gross_carrying_amount").cast(pl.Float64),
    pl.col("write_off_amount").cast(pl.Float64).fillNull(0),
  );
  const rc = (c: string) => pl.col(c).mul(pl.col("fx_rate")).alias(`${c}_rc`);
  return run.results
    .join(carrying, { on: "loan_id", how: "left" })
    .join(rateFrame, { on: "currency", how: "left" })
    .withColumns(
      ...allowanceSplit(pl.col("ecl"), pl.col("gross_carrying_amount")),
    )
    .select(
      pl.lit(dateKey(run.summary.reporting_date)).cast(pl.Int32).alias(
        "date_key",
      ),
      pl.lit(run.summary.run_id).alias("run_id"),
      pl.col("loan_id"),
      pl.col("stage").cast(pl.Int32).alias("stage_key"),
      pl.col("product"),
      pl.col("region").fillNull("(none)"),
      pl.col("segment"),
      pl.col("currency"),
      pl.col("stage_reason"),
      pl.col("remaining_term_months").cast(pl.Int32),
      pl.col("pd_12m"),
      pl.col("pd_lifetime"),
      pl.col("lgd"),
      pl.col("gross_carrying_amount"),
      pl.col("write_off_amount"),
      pl.col("ead"),
      pl.col("ecl_12m"),
      pl.col("ecl_lifetime"),
      pl.col("ecl_model"),
      pl.col("ecl"),
      pl.col("loss_allowance"),
      pl.col("provision"),
      pl.col("fx_rate"),
      rc("gross_carrying_amount"),
      rc("write_off_amount"),
      rc("ead"),
      rc("ecl_model"),
      rc("ecl"),
      rc("loss_allowance"),
      rc("provision"),
    );
}

function keyed(values: string[], name: string): DataFrame {
  const sorted = [...new Set(values)].sort();
  return pl.DataFrame({
    [`${name}_key`]: sorted.map((_, i) => i + 1),
    [name]: sorted,
  }, { schema: { [`${name}_key`]: pl.Int32, [name]: pl.Utf8 } });
}

/**
 * Exports the star schema of the given run folders as the folder `outDir`:
 * `fact_facility`, `dim_stage`, `dim_product`, `dim_region` and
 * `dim_date`, each as `.parquet` and `.csv`, plus `README.md`. The folder
 * is written whole or not at all, replacing an earlier export there; a
 * failure (a full disk) leaves nothing under `outDir` but what was there.
 * `outDir` is checked before any run is read: a file, a folder holding
 * other files (a run folder among them), a run folder's inside or an
 * input is refused. Only complete runs are exported (`readRunFolder` with
 * `trusted`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { type Manifest, openRunFolder, type Summary } from "../run_folder/mod.ts";
 * import { exportStarSchema } from "./star_schema.ts";
 *
 * // A run of one facility in MXN, reported in EUR at 0.05.
 * const root = await Deno.makeTempDir();
 * const folder = await openRunFolder(root, "q4");
 * folder.writeParquet("loanResults", pl.DataFrame([{
 *   loan_id: "L1", reporting_date: new Date("2025-12-31"), product: "sme",
 *   segment: "sme", region: "north", currency: "MXN", stage: 2,
 *   stage_reason: "DPD_30", stage_triggers: ["DPD_30"],
 *   remaining_term_months: 24, ead: 1000, pd_12m: 0.05, pd_lifetime: 0.1,
 *   lgd: 0.4, ecl_12m: 20, ecl_lifetime: 40, ecl_model: 40, ecl: 40,
 * }]));
 * folder.writeParquet("carryingAmounts", pl.DataFrame([{
 *   loan_id: "L1", currency: "MXN", gross_carrying_amount: 1000, write_off_amount: 0,
 * }]));
 * await folder.writeJson("summary", {
 *   run_id: "q4", reporting_date: "2025-12-31", reporting_currency: "EUR",
 *   fx: { file: "fx.yaml", sha256: "", base: "EUR", as_of: "2025-12-31",
 *     rates: { MXN: 0.05 } },
 *   scenarios: [], by_stage: [],
 *   totals: { count: 1, gross_carrying_amount: 50, ead: 50, ecl: 2 },
 * } as unknown as Summary);
 * // Only a complete run is exported: its manifest says so.
 * await folder.writeJson("manifest", {
 *   run_id: "q4", status: "complete", reporting_date: "2025-12-31",
 * } as unknown as Manifest);
 *
 * const star = await exportStarSchema([await folder.commit()], `${root}/bi`);
 * assert.equal(star.rows.fact_facility, 1);
 * const fact = pl.readParquet(`${root}/bi/fact_facility.parquet`);
 * assert.equal(fact.getColumn("ecl_rc").get(0), 2); // 40 MXN at 0.05
 * assert.equal(fact.getColumn("date_key").get(0), 20251231);
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @throws {RunFolderReadError} When a run folder lacks a required file
 *   or is not a complete run.
 * @throws {OutputLocationError} When `outDir` cannot take the export.
 * @throws {UserError} When two runs share a reporting date or a currency
 *   has no rate (it would vanish from reporting-currency sums), naming
 *   them; of kind `output` when a file cannot be written.
 */
export async function exportStarSchema(
  runDirs: (string | Location)[],
  outDir: string,
  opts: StarSchemaOptions = {},
): Promise<StarSchemaExport> {
  if (runDirs.length === 0) {
    throw new UserError(
      "usage",
      "Cannot export star schema: no run folder given",
    );
  }
  const inputs = runDirs.map((d) => locate(d).href);
  await checkOutputFolder(outDir, STAR_FILES, { inputs });
  const runs = await Promise.all(
    runDirs.map((d) => readRunFolder(d, { trusted: true })),
  );
  runs.sort((a, b) =>
    a.summary.reporting_date.localeCompare(b.summary.reporting_date)
  );
  const seen = new Map<string, string>();
  for (const r of runs) {
    const prev = seen.get(r.summary.reporting_date);
    if (prev) {
      throw new UserError(
        "input",
        `Cannot export star schema: runs ${prev} and ${r.dir} share reporting date ${r.summary.reporting_date}; give one run per reporting date`,
      );
    }
    seen.set(r.summary.reporting_date, r.dir);
  }
  const facts = await pl.concat(runs.map(runFacts)).collect();
  const noRate = facts.filter(pl.col("fx_rate").isNull());
  if (noRate.height > 0) {
    throw new UserError(
      "input",
      `Cannot export star schema: currency ${
        noRate.getColumn("currency").get(0)
      } of loan ${
        noRate.getColumn("loan_id").get(0)
      } has no rate in summary.json fx.rates of run ${
        noRate.getColumn("run_id").get(0)
      }`,
    );
  }
  const dimProduct = keyed(
    facts.getColumn("product").toArray() as string[],
    "product",
  );
  const dimRegion = keyed(
    facts.getColumn("region").toArray() as string[],
    "region",
  );
  const dimStage = pl.DataFrame(STAGE_ROWS, {
    schema: {
      stage_key: pl.Int32,
      stage: pl.Utf8,
      measurement: pl.Utf8,
      description: pl.Utf8,
    },
  });
  const dimDate = pl.DataFrame({
    date_key: runs.map((r) => dateKey(r.summary.reporting_date)),
    date: runs.map((r) => new Date(`${r.summary.reporting_date}T00:00:00Z`)),
    year: runs.map((r) => Number(r.summary.reporting_date.slice(0, 4))),
    quarter: runs.map((r) =>
      Math.ceil(Number(r.summary.reporting_date.slice(5, 7)) / 3)
    ),
    month: runs.map((r) => Number(r.summary.reporting_date.slice(5, 7))),
    quarter_label: runs.map((r) =>
      `${r.summary.reporting_date.slice(0, 4)} Q${
        Math.ceil(Number(r.summary.reporting_date.slice(5, 7)) / 3)
      }`
    ),
    run_id: runs.map((r) => r.summary.run_id),
    reporting_currency: runs.map((r) => r.summary.reporting_currency),
  }, {
    schema: {
      date_key: pl.Int32,
      date: pl.Date,
      year: pl.Int32,
      quarter: pl.Int32,
      month: pl.Int32,
      quarter_label: pl.Utf8,
      run_id: pl.Utf8,
      reporting_currency: pl.Utf8,
    },
  });
  const fact = facts
    .join(dimProduct, { on: "product" })
    .join(dimRegion, { on: "region" })
    .select(
      "date_key",
      "loan_id",
      "stage_key",
      "product_key",
      "region_key",
      ...facts.columns.filter((c) =>
        !["date_key", "loan_id", "stage_key", "product", "region"].includes(c)
      ),
    )
    .sort(["date_key", "loan_id"]);

  const tables: Record<(typeof STAR_TABLES)[number], DataFrame> = {
    fact_facility: fact,
    dim_stage: dimStage,
    dim_product: dimProduct,
    dim_region: dimRegion,
    dim_date: dimDate,
  };
  const rows = Object.fromEntries(
    STAR_TABLES.map((name) => [name, tables[name].height]),
  ) as StarSchemaExport["rows"];
  const { folder } = await writeOutputFolder(
    outDir,
    STAR_FILES,
    async (_, out) => {
      for (const name of STAR_TABLES) {
        await out.parquet(`${name}.parquet`, tables[name]);
        await out.csv(`${name}.csv`, spreadsheetSafe(tables[name]));
      }
      // Runs written before the tables existed contribute no line.
      await out.text(
        IFRS7_CSV,
        runs.map((r) => {
          const d = disclosuresOf(r.summary);
          const csv = d === null ? "" : ifrs7Csv(d, {
            runId: r.summary.run_id,
            reportingDate: r.summary.reporting_date,
          });
          return csv.split("\n").slice(1).join("\n");
        }).reduce(
          (text, lines) => text + lines,
          IFRS7_CSV_COLUMNS.join(",") + "\n",
        ),
      );
      await out.text(README, starSchemaReadme(runs, rows));
    },
    { inputs, writer: opts.writer },
  );
  return {
    outDir: folder.href,
    rows,
    files: STAR_FILES.map((f) => folder.child(f).href),
  };
}

function starSchemaReadme(
  runs: RunFolder[],
  rows: StarSchemaExport["rows"],
): string {
  const cur = runs[0].summary.reporting_currency;
  return `# IFRS 9 ECL star schema

Exported from ${runs.length} run folder(s): ${
    runs.map((r) => `${r.summary.run_id} (${r.summary.reporting_date})`).join(
      ", ",
    )
  }.
Every table is here as Parquet and as CSV (UTF-8, header row, \`.\` decimal point, ISO dates). In the CSV copies a text cell starting with \`=\`, \`+\`, \`-\`, \`@\`, a tab or a carriage return has a leading \`'\`, so a spreadsheet opens it as text, not as a formula; the Parquet copies hold the text as it is.

| table | rows | grain | key |
|---|---|---|---|
| fact_facility | ${rows.fact_facility} | one facility at one reporting date | date_key + loan_id |
| dim_stage | ${rows.dim_stage} | IFRS 9 stage | stage_key (1, 2, 3) |
| dim_product | ${rows.dim_product} | product | product_key |
| dim_region | ${rows.dim_region} | region | region_key |
| dim_date | ${rows.dim_date} | reporting date (one run) | date_key (YYYYMMDD) |

Amounts: columns without suffix are in the facility's currency (methodology §9);
columns ending \`_rc\` are in the reporting currency (${cur}), converted with the
run's FX rate (\`fx_rate\` = ${cur} per unit of the facility currency). Sum only
\`_rc\` columns across currencies. \`loss_allowance\` is the part of a facility's
ECL up to its gross carrying amount and \`provision\` the excess (undrawn
commitments, IFRS 7 B8E); the two add up to \`ecl\`.

## Power BI

1. Get data > Parquet (or Text/CSV) and load the five files.
2. Model view: relate \`fact_facility[stage_key]\` to \`dim_stage[stage_key]\`,
   \`product_key\`, \`region_key\` and \`date_key\` likewise; many-to-one, single
   direction from dimension to fact.
3. Mark \`dim_date\` as a date table on \`dim_date[date]\`.
4. Measures, for example:
   - \`ECL = SUM(fact_facility[ecl_rc])\`
   - \`EAD = SUM(fact_facility[ead_rc])\`
   - \`Gross carrying amount = SUM(fact_facility[gross_carrying_amount_rc])\`
   - \`Loss allowance = SUM(fact_facility[loss_allowance_rc])\`
   - \`Provision = SUM(fact_facility[provision_rc])\`
   - \`Coverage = DIVIDE([ECL], [Gross carrying amount])\` (methodology §9)

## BigQuery / Looker Studio

Load each Parquet file into one dataset with the table name of the file
(\`bq load --source_format=PARQUET DATASET.fact_facility fact_facility.parquet\`),
then create the views in \`dashboards/bigquery/\` and point Looker Studio at them.
`;
}

/**
 * The frame with every text cell that a spreadsheet would run as a formula
 * (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) prefixed
 * with `'`, for the CSV copies only: a loan or region id such as
 * `=HYPERLINK(...)` must open as text in Excel (OWASP, "CSV injection").
 * Numbers are untouched; the Parquet copies keep the text as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { spreadsheetSafe } from "./star_schema.ts";
 * const safe = spreadsheetSafe(pl.DataFrame({ id: ["=1+1", "L1"], x: [-1, 2] }));
 * assert.deepEqual(safe.toRecords(), [{ id: "'=1+1", x: -1 }, { id: "L1", x: 2 }]);
 * ```
 */
export function spreadsheetSafe(frame: DataFrame): DataFrame {
  const text = frame.columns.filter((c) =>
    frame.getColumn(c).dtype.equals(pl.String)
  );
  if (text.length === 0) return frame;
  return frame.withColumns(
    ...text.map((c) =>
      pl.when(pl.col(c).str.contains("^[=+\\-@\\t\\r]"))
        .then(pl.lit("'").add(pl.col(c)))
        .otherwise(pl.col(c))
        .alias(c)
    ),
  );
}
