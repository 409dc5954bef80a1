/**
 * The run's FX table: the rates that convert facility-currency amounts
 * into the reporting currency for portfolio totals (methodology §9:
 * "portfolio totals across currencies are converted with the run's FX table
 * to the reporting currency, and say so"), and for the `fx_rate` and `_rc`
 * columns of the loan results (methodology §12). A run takes the table of
 * its reporting date ({@link fxFileFor}; `config/fx_rates.yaml` when there
 * is none) unless it is given one.
 *
 * The table is a file of its own, not part of the rules file, so the
 * methodology parameters and the treasury's closing rates change on their own
 * schedules and each is hashed separately in the run manifest.
 *
 * File format:
 *
 * ```yaml
 * base: EUR          # the currency the rates are quoted in
 * as_of: 2025-12-31  # the date the rates are valid for
 * rates:             # units of `base` per one unit of each currency
 *   EUR: 1.0
 *   USD: 0.92
 * ```
 *
 * When `base` differs from the reporting currency, the rate of a currency
 * `C` into the reporting currency `P` is the cross rate
 * `rates[C] / rates[P]`.
 *
 * Checks: `as_of` is a real day of the calendar (2025-02-30 is refused);
 * every rate is a finite number in [{@link MIN_FX_RATE},
 * {@link MAX_FX_RATE}]; the file is a regular file of at most 1 MiB
 * (`MAX_CONFIG_BYTES` of `_config_file.ts`). A table built or changed in
 * code is checked again where it is used ({@link requireValidFx}, called by
 * {@link reportingRates}), so it cannot reach a total unchecked.
 *
 * @module
 */
import { UserError } from "./errors.ts";
import { inputExists, isS3Url } from "./storage/mod.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { projectPath } from "./project.ts";
import { z } from "zod";
import {
  bound,
  checkDocument,
  mapping,
  readConfigFile,
  readYaml,
  shown,
  whenValid,
} from "./_config_file.ts";

/** A loaded FX table, with the provenance a run reports. */
export interface FxTable {
  /** Path of the file the table was read from. */
  file: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
  /** Currency the rates are quoted in (ISO 4217). */
  base: string;
  /** Date the rates are valid for, `YYYY-MM-DD`. */
  as_of: string;
  /**
   * Units of `base` per one unit of each currency; `rates[base]` is 1, and
   * every rate is in [{@link MIN_FX_RATE}, {@link MAX_FX_RATE}].
   */
  rates: Record<string, number>;
}

/**
 * Smallest rate an FX table may give: 1e-9 units of the base per unit of a
 * currency. The widest spread between two currencies quoted today is
 * under 1e7 (the Kuwaiti dinar against the Iranian rial at its market
 * rate, about 4e6), so 1e-9 and {@link MAX_FX_RATE} leave two orders of
 * magnitude of room whatever the base, and still refuse a rate that is no
 * rate (a zero typed as 1e-300, a rate inverted twice) before it turns
 * amounts into infinities or zeros.
 */
export const MIN_FX_RATE = 1e-9;

/** Largest rate an FX table may give: 1e9; see {@link MIN_FX_RATE}. */
export const MAX_FX_RATE = 1e9;

/** Thrown when an FX file is unreadable or malformed, or lacks a currency. */
export class FxError extends UserError {
  /** A problem with the FX table `file`; `message` names the file. */
  constructor(readonly file: string, message: string) {
    super("input", message);
    this.name = "FxError";
  }
}

/** SHA-256 of a byte array as lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const ISO_4217 = /^[A-Z]{3}$/;

const positiveRate = (issue: { input?: unknown }) =>
  `must be a positive number, got ${shown(issue.input)}`;

const RATE_RANGE =
  "units of the base per unit; the widest spread between currencies is under 1e7";

/** Whether `text` is `YYYY-MM-DD` naming a real day of the calendar. */
export function isRealDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  // Date.UTC reads years 0-99 as 1900-1999: set the year itself.
  d.setUTCFullYear(+m[1]);
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 &&
    d.getUTCDate() === +m[3];
}

const fxSchema = mapping({
  base: z.string().regex(ISO_4217, {
    error: (issue) => `must be an ISO 4217 code, got ${shown(issue.input)}`,
  }),
  // YAML 1.2 (the `yaml` package's default schema) keeps a bare date as a
  // string; a Date object would come from a YAML 1.1 timestamp tag.
  as_of: z.preprocess(
    (v) => v instanceof Date ? v.toISOString().slice(0, 10) : v,
    z.string().regex(/^\d{4}-\d{2}-\d{2}$/, {
      error: (issue) => `must be a date YYYY-MM-DD, got ${shown(issue.input)}`,
      abort: true,
    }).refine(isRealDate, {
      error: (issue) =>
        `must be a real day of the calendar, got ${
          shown(issue.input)
        } (that month has no such day)`,
    }),
  ),
  rates: z.record(
    z.string().regex(ISO_4217),
    z.number({ error: positiveRate })
      .positive({ error: positiveRate, abort: true })
      .min(MIN_FX_RATE, bound(RATE_RANGE)).max(
        MAX_FX_RATE,
        bound(RATE_RANGE),
      ),
    {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "not an ISO 4217 code"
          : "must map currency codes to positive numbers",
    },
  ).refine((rates) => Object.keys(rates).length > 0, {
    error: "must map currency codes to positive numbers",
  }),
}).superRefine(
  ({ base, rates }, ctx) => {
    if (!(base in rates)) {
      ctx.addIssue({
        code: "custom",
        path: ["rates", base],
        message: "the base currency needs rate 1",
      });
    } else if (rates[base] !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["rates", base],
        message: `the base currency's rate must be 1, got ${rates[base]}`,
      });
    }
  },
  whenValid(([key, ...rest]) =>
    key === "base" || (key === "rates" && rest.length === 0)
  ),
);

/**
 * Parses an FX table from YAML text and reports every problem at once, each
 * with the file and key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: 0.92}", "fx.yaml");
 * assert.equal(fx.rates.USD, 0.92);
 * assert.throws(
 *   () => parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: -1}", "fx.yaml"),
 *   /Cannot read FX table fx\.yaml: key rates\.USD: must be a positive number, got -1/,
 * );
 * ```
 */
export function parseFx(text: string, file: string, sha256 = ""): FxTable {
  const read = readYaml(text);
  if ("syntaxError" in read) {
    throw new FxError(
      file,
      `Cannot read FX table ${file}: ${read.syntaxError}`,
    );
  }
  const { value, issues } = checkDocument(fxSchema, read.doc);
  if (value === undefined) {
    throw new FxError(
      file,
      `Cannot read FX table ${file}: ${problemsText(issues)}`,
    );
  }
  return { file, sha256, ...value };
}

/** Every problem of a table, each at its key, on one line. */
const problemsText = (issues: readonly { path: string; message: string }[]) =>
  issues.map((i) =>
    i.path === "(root)"
      ? `the file ${i.message}`
      : `key ${i.path}: ${i.message}`
  ).join("; ");

/**
 * The FX table an entry point works with, checked again like a file: a
 * table built or changed in code (`fx.rates.USD = 1e308`, `as_of:
 * "2025-02-30"`) is refused with the key, as {@link parseFx} would refuse
 * the file. {@link reportingRates} calls it, so every conversion to the
 * reporting currency (the run, `computeEcl`, the summary) goes through it.
 * The check is a few microseconds for a table of tens of currencies.
 *
 * @param caller what refuses the table, opening the message
 * @throws {FxError} naming the table's file and every problem with its key
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: 0.92}", "fx.yaml");
 * assert.equal(requireValidFx(fx, "computeEcl()"), fx);
 * fx.rates.USD = 1e308;
 * assert.throws(
 *   () => requireValidFx(fx, "computeEcl()"),
 *   /^FxError: computeEcl\(\) refuses the FX table fx\.yaml it was given: key rates\.USD: must be <= 1000000000/,
 * );
 * ```
 */
export function requireValidFx(table: FxTable, caller: string): FxTable {
  return checkedTable(
    table,
    (file) => `${caller} refuses the FX table ${file} it was given`,
  );
}

/** `table` when it passes the file's checks; else an error opened by `context`. */
function checkedTable(
  table: FxTable,
  context: (file: string) => string,
): FxTable {
  const file = typeof table?.file === "string" && table.file !== ""
    ? table.file
    : "(built in code)";
  const doc = typeof table === "object" && table !== null
    ? { base: table.base, as_of: table.as_of, rates: table.rates }
    : table;
  const { issues } = checkDocument(fxSchema, doc);
  if (issues.length > 0) {
    throw new FxError(file, `${context(file)}: ${problemsText(issues)}`);
  }
  return table;
}

/**
 * The warning a run records when its FX table is not as of the portfolio's
 * reporting date, or null when it is. IFRS 9 §B5.7.2 / IAS 21 §23 translate
 * monetary items at the closing rate of the reporting date; totals converted
 * at another date's rates are still computed (a draft run may only have last
 * month's table) but must say so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1}", "fx.yaml");
 * assert.equal(fxDateWarning(fx, "2025-12-31"), null);
 * assert.match(
 *   fxDateWarning(fx, "2025-09-30")!,
 *   /^FX table fx\.yaml is as of 2025-12-31, not the reporting date 2025-09-30/,
 * );
 * ```
 */
export function fxDateWarning(
  fx: Pick<FxTable, "file" | "as_of">,
  reportingDate: string,
): string | null {
  if (fx.as_of === reportingDate) return null;
  return `FX table ${fx.file} is as of ${fx.as_of}, not the reporting date ${reportingDate}: totals in the reporting currency use that date's rates (pass --fx with the closing rates of ${reportingDate})`;
}

/** The file name of the FX table of a reporting date. */
export function datedFxFileName(reportingDate: string): string {
  return `fx_rates_${reportingDate}.yaml`;
}

/**
 * The FX table file for a reporting date: `fx_rates_<date>.yaml` (the
 * treasury's closing rates of that date, IAS 21 §23) from the first of
 * `dirs` that has one, else `fx_rates.yaml` of the last of `dirs`. `dirs`
 * is the project's `config/` unless given, whatever the working directory;
 * a run without `--fx` looks beside its portfolio first, then there
 * (`fxDirs` of `lib/run/run.ts`). Check the result with
 * {@link fxDateWarning}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectPath } from "./project.ts";
 * assert.equal(
 *   await fxFileFor("2025-09-30"),
 *   projectPath("config/fx_rates_2025-09-30.yaml"),
 * );
 * assert.equal(await fxFileFor("2026-06-30"), projectPath("config/fx_rates.yaml"));
 * // A folder without that date's table: config/'s, then the default.
 * assert.equal(
 *   await fxFileFor("2025-09-30", ["data/sample", projectPath("config")]),
 *   projectPath("config/fx_rates_2025-09-30.yaml"),
 * );
 * ```
 */
export async function fxFileFor(
  reportingDate: string,
  dirs: string | readonly string[] = projectPath("config"),
): Promise<string> {
  const list = typeof dirs === "string" ? [dirs] : dirs;
  if (list.length === 0) {
    throw new UserError(
      "usage",
      "Cannot choose an FX table: no folder to look in",
    );
  }
  for (const dir of list) {
    // A folder in object storage (a portfolio read from s3://) is asked.
    if (isS3Url(dir)) {
      const dated = `${dir.replace(/\/+$/, "")}/${
        datedFxFileName(reportingDate)
      }`;
      if (await inputExists(dated)) return dated;
      continue;
    }
    const dated = join(dir, datedFxFileName(reportingDate));
    try {
      await Deno.stat(dated);
      return dated;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return join(list[list.length - 1], "fx_rates.yaml");
}

/**
 * Reads, hashes and checks an FX table file. The file must be a regular
 * file of at most 1 MiB (`MAX_CONFIG_BYTES`; a real table is a few hundred
 * bytes); a directory, a device or a pipe is refused unless `stream` asks
 * for it on purpose.
 *
 * @param options.stream read a device or a pipe as a stream (still at most
 *   1 MiB). @default false
 * @throws {FxError} naming the file, and each problem's key
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fx = await loadFx("config/fx_rates.yaml");
 * assert.equal(fx.base, "EUR");
 * assert.match(fx.sha256, /^[0-9a-f]{64}$/);
 * ```
 */
export async function loadFx(
  path: string,
  options: { stream?: boolean } = {},
): Promise<FxTable> {
  const read = await readConfigFile(path, options);
  if ("problem" in read) {
    throw new FxError(path, `Cannot read FX table ${path}: ${read.problem}`);
  }
  const { bytes } = read;
  return parseFx(new TextDecoder().decode(bytes), path, sha256Hex(bytes));
}

/**
 * Reporting-currency units per one unit of each given currency. Throws
 * {@link FxError} naming every missing currency and the FX file, so a run
 * never reports a total that silently leaves a currency out. The table is
 * checked first ({@link requireValidFx}), so a table changed in code with
 * an impossible date or an implausible rate is refused, naming the key.
 *
 * @param currencies the currencies to convert; defaults to every currency
 *   of the table.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: 0.92}", "fx.yaml");
 * assert.deepEqual(reportingRates(fx, "EUR", ["USD"]), { USD: 0.92 });
 * ```
 */
export function reportingRates(
  table: FxTable,
  reportingCurrency: string,
  currencies: Iterable<string> = Object.keys(table.rates),
): Record<string, number> {
  checkedTable(
    table,
    (file) =>
      `Cannot convert to the reporting currency ${reportingCurrency} with FX table ${file}`,
  );
  const wanted = [...new Set(currencies)].sort();
  const missing = [reportingCurrency, ...wanted].filter((c) =>
    !(c in table.rates)
  );
  if (missing.length > 0) {
    const list = [...new Set(missing)].join(", ");
    throw new FxError(
      table.file,
      `FX table ${table.file} (as of ${table.as_of}) has no rate for ${list}: ` +
        `add ${
          missing.length === 1 ? "it" : "them"
        } under rates, or choose another table with --fx`,
    );
  }
  const out: Record<string, number> = {};
  const pivot = table.rates[reportingCurrency];
  for (const c of wanted) {
    // Cross rate through the base: (base per C) / (base per P) = P per C.
    out[c] = c === reportingCurrency ? 1 : table.rates[c] / pivot;
  }
  return out;
}
