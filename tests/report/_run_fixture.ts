/**
 * Hand-made run folders for the reporting, movement and browser tests: a
 * few facilities written in the run-folder contract (the files of
 * `RUN_FILES` but the report and the rejected rows, published whole by
 * `writeOutputFolder`), with the summary summed here (correctly rounded,
 * `Math.sumPrecise`) so the tests do not depend on the run module.
 *
 * @module
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  type Manifest,
  RUN_FILES,
  type RunFile,
  type Summary,
  writeOutputFolder,
} from "../../lib/run_folder/mod.ts";
import type { DataQualityReport } from "../../lib/validation/mod.ts";

/** One facility of a hand-made run. Amounts in the facility currency. */
export interface FixtureLoan {
  loan_id: string;
  currency: string;
  stage: 1 | 2 | 3;
  ecl: number;
  gross: number;
  write_off?: number;
  ead?: number;
  product?: string;
  region?: string;
  pd_12m?: number;
  lgd?: number;
  /** ECL before overlays; defaults to `ecl`. */
  ecl_model?: number;
}

/** Options of {@link writeFixtureRun}. */
export interface FixtureRun {
  runId: string;
  reportingDate: string;
  rates: Record<string, number>;
  loans: FixtureLoan[];
  /** Scenario names and weights; each scenario's ECL is `ecl * factor`. */
  scenarios?: { name: string; weight: number; factor: number }[];
  /** Written as summary.json `simplified_products`. @default [] */
  simplifiedProducts?: string[];
}

const DEFAULT_SCENARIOS = [
  { name: "base", weight: 0.5, factor: 1 },
  { name: "upside", weight: 0.2, factor: 0.8 },
  { name: "downside", weight: 0.3, factor: 4 / 3 },
];

/** The loss allowance part of a facility's ECL (IFRS 7 B8E). */
const allowance = (l: FixtureLoan) => Math.min(l.ecl, Math.max(l.gross, 0));

/** ECL over the gross carrying amount (methodology §9). */
const coverage = (ecl: number, gross: number) =>
  gross > 0 ? ecl / gross : ecl === 0 ? 0 : null;

/**
 * The summary groups of `loans` by `key`, each sum correctly rounded
 * (`Math.sumPrecise`), so a fixture of many facilities has exact totals.
 */
function group(
  loans: FixtureLoan[],
  key: (l: FixtureLoan) => string,
  rates: Record<string, number>,
) {
  const byKey = new Map<string, FixtureLoan[]>();
  for (const l of loans) {
    const k = key(l);
    const group = byKey.get(k);
    if (group) group.push(l);
    else byKey.set(k, [l]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, ls]) => {
      const sum = (f: (l: FixtureLoan) => number) => Math.sumPrecise(ls.map(f));
      const ead = sum((l) => (l.ead ?? l.gross) * rates[l.currency]);
      const ecl = sum((l) => l.ecl * rates[l.currency]);
      const gross = sum((l) => l.gross * rates[l.currency]);
      return {
        key: k,
        count: ls.length,
        gross_carrying_amount: gross,
        ead,
        ecl,
        // IFRS 7 B8E per facility: ECL up to the gross carrying amount is
        // loss allowance, the rest provision.
        loss_allowance: sum((l) => allowance(l) * rates[l.currency]),
        provision: sum((l) => (l.ecl - allowance(l)) * rates[l.currency]),
        coverage: coverage(ecl, gross),
        ead_local: sum((l) => l.ead ?? l.gross),
        ecl_local: sum((l) => l.ecl),
      };
    });
}

/**
 * Writes a run folder as `dir` (replacing a run folder there) and returns
 * `dir`.
 */
export async function writeFixtureRun(
  dir: string,
  run: FixtureRun,
): Promise<string> {
  await writeOutputFolder(dir, Object.values(RUN_FILES), (staging) => {
    const path = (file: RunFile) => join(staging, RUN_FILES[file]);
    return writeFiles(run, path);
  });
  return dir;
}

/** Writes the files of the fixture run to the paths given. */
async function writeFiles(
  run: FixtureRun,
  path: (file: RunFile) => string,
): Promise<void> {
  const scenarios = run.scenarios ?? DEFAULT_SCENARIOS;
  const ls = run.loans;
  const n = ls.length;
  const cols: Record<string, pl.Series> = {
    loan_id: pl.Series("loan_id", ls.map((l) => l.loan_id), pl.Utf8),
    reporting_date: pl.Series(
      "reporting_date",
      ls.map(() => new Date(`${run.reportingDate}T00:00:00Z`)),
      pl.Date,
    ),
    product: pl.Series("product", ls.map((l) => l.product ?? "sme"), pl.Utf8),
    segment: pl.Series("segment", ls.map((l) => l.product ?? "sme"), pl.Utf8),
    region: pl.Series("region", ls.map((l) => l.region ?? "north"), pl.Utf8),
    currency: pl.Series("currency", ls.map((l) => l.currency), pl.Utf8),
    stage: pl.Series("stage", ls.map((l) => l.stage), pl.Int32),
    stage_reason: pl.Series(
      "stage_reason",
      ls.map((l) =>
        l.stage === 1 ? "PERFORMING" : l.stage === 2 ? "DPD_30" : "DPD_90"
      ),
      pl.Utf8,
    ),
    stage_triggers: pl.Series(
      "stage_triggers",
      ls.map((l) => l.stage === 1 ? ["PERFORMING"] : ["DPD_30"]),
      pl.List(pl.Utf8),
    ),
    remaining_term_months: pl.Series(
      "remaining_term_months",
      ls.map(() => 24),
      pl.Int32,
    ),
    ead: pl.Series("ead", ls.map((l) => l.ead ?? l.gross), pl.Float64),
    pd_12m: pl.Series("pd_12m", ls.map((l) => l.pd_12m ?? 0.02), pl.Float64),
    pd_lifetime: pl.Series(
      "pd_lifetime",
      ls.map((l) => Math.min(1, (l.pd_12m ?? 0.02) * 2)),
      pl.Float64,
    ),
    lgd: pl.Series("lgd", ls.map((l) => l.lgd ?? 0.45), pl.Float64),
    ecl_12m: pl.Series("ecl_12m", ls.map((l) => l.ecl), pl.Float64),
    ecl_lifetime: pl.Series("ecl_lifetime", ls.map((l) => l.ecl), pl.Float64),
    ecl_model: pl.Series(
      "ecl_model",
      ls.map((l) => l.ecl_model ?? l.ecl),
      pl.Float64,
    ),
    ecl: pl.Series("ecl", ls.map((l) => l.ecl), pl.Float64),
  };
  for (const s of scenarios) {
    cols[`ecl_${s.name}`] = pl.Series(
      `ecl_${s.name}`,
      ls.map((l) => (l.ecl_model ?? l.ecl) * s.factor),
      pl.Float64,
    );
  }
  cols.overlays_applied = pl.Series(
    "overlays_applied",
    ls.map(() => [] as string[]),
    pl.List(pl.Utf8),
  );
  cols.overlay_impacts = pl.Series(
    "overlay_impacts",
    ls.map(() => [] as number[]),
    pl.List(pl.Float64),
  );
  cols.overlay_floor = pl.Series(
    "overlay_floor",
    ls.map(() => 0),
    pl.Float64,
  );
  pl.DataFrame(Object.values(cols)).writeParquet(path("loanResults"));
  pl.DataFrame({
    loan_id: ls.map((l) => l.loan_id),
    currency: ls.map((l) => l.currency),
    gross_carrying_amount: ls.map((l) => l.gross),
    write_off_amount: ls.map((l) => l.write_off ?? 0),
  }).writeParquet(path("carryingAmounts"));

  const r = run.rates;
  const total = (f: (l: FixtureLoan) => number) =>
    Math.sumPrecise(ls.map((l) => f(l) * r[l.currency]));
  const ead = total((l) => l.ead ?? l.gross);
  const ecl = total((l) => l.ecl);
  const gross = total((l) => l.gross);
  const summary = {
    run_id: run.runId,
    reporting_date: run.reportingDate,
    reporting_currency: "EUR",
    simplified_products: run.simplifiedProducts ?? [],
    fx: {
      file: "config/fx_rates.yaml",
      sha256: "0".repeat(64),
      base: "EUR",
      as_of: run.reportingDate,
      rates: r,
    },
    scenarios: scenarios.map((s) => ({
      name: s.name,
      weight: s.weight,
      ecl: total((l) => (l.ecl_model ?? l.ecl) * s.factor),
    })),
    totals: {
      count: n,
      gross_carrying_amount: gross,
      ead,
      ecl_model: total((l) => l.ecl_model ?? l.ecl),
      ecl,
      loss_allowance: total(allowance),
      provision: total((l) => l.ecl - allowance(l)),
      coverage: coverage(ecl, gross),
    },
    by_stage: group(ls, (l) => String(l.stage), r).map(strip),
    by_product: group(ls, (l) => l.product ?? "sme", r).map(strip),
    by_segment: group(ls, (l) => l.product ?? "sme", r).map(strip),
    by_region: group(ls, (l) => l.region ?? "north", r).map(strip),
    by_currency: group(ls, (l) => l.currency, r),
    overlays: [],
    overlay_floor: { facilities: 0, ecl_impact: 0 },
  } satisfies Summary;
  await Deno.writeTextFile(
    path("summary"),
    JSON.stringify(summary, null, 2),
  );
  await Deno.writeTextFile(
    path("manifest"),
    JSON.stringify(
      {
        run_id: run.runId,
        status: "complete",
        reporting_date: run.reportingDate,
        started_at: `${run.reportingDate}T06:00:00.000Z`,
        finished_at: `${run.reportingDate}T06:00:01.500Z`,
        code_version: "test",
        inputs: {
          portfolio: { path: "data/x.csv", sha256: "a".repeat(64) },
          rules: { path: "config/ifrs9_rules.yaml", sha256: "b".repeat(64) },
          fx: { path: "config/fx_rates.yaml", sha256: "c".repeat(64) },
        },
        rows: { read: n + 1, valid: n, rejected: 1, computed: n },
        timings_ms: { validate: 12, stage: 3, ecl: 40, write: 9 },
        warnings: [],
      } satisfies Manifest,
      null,
      2,
    ),
  );
  await Deno.writeTextFile(
    path("dataQuality"),
    JSON.stringify(
      {
        file: "data/x.csv",
        reporting_date: run.reportingDate,
        rows_read: n + 1,
        rows_valid: n,
        rows_rejected: 1,
        reject_rate: 1 / (n + 1),
        max_reject_rate: 0.5,
        passed: true,
        warnings: [],
        rules: [
          {
            code: "BALANCE_NEGATIVE",
            description: "balance is below 0",
            rows_checked: n + 1,
            rows_failed: 1,
            examples: ["BAD1"],
          },
          {
            code: "NULL_LOAN_ID",
            description: "loan_id is missing",
            rows_checked: n + 1,
            rows_failed: 0,
            examples: [],
          },
        ],
      } satisfies DataQualityReport,
      null,
      2,
    ),
  );
}

function strip<T extends { ead_local: number; ecl_local: number }>(g: T) {
  const { ead_local: _a, ecl_local: _b, ...rest } = g;
  return rest;
}
