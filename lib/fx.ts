/**
 * The run's FX table (`config/fx_rates.yaml` by default): the rates that
 * convert facility-currency amounts into the reporting currency for
 * portfolio totals (methodology §9: "portfolio totals across currencies are
 * converted with the run's FX table to the reporting currency, and say so").
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
 * @module
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";

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
  /** Units of `base` per one unit of each currency; `rates[base]` is 1. */
  rates: Record<string, number>;
}

/** Thrown when an FX file is unreadable or malformed, or lacks a currency. */
export class FxError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = "FxError";
  }
}

const ISO_4217 = /^[A-Z]{3}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** SHA-256 of a byte array as lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Parses an FX table from YAML text and reports every problem at once, each
 * with the file and key.
 *
 * @example
 * ```ts
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: 0.92}", "fx.yaml");
 * fx.rates.USD; // 0.92
 * ```
 */
export function parseFx(text: string, file: string, sha256 = ""): FxTable {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new FxError(
      file,
      `Cannot read FX table ${file}: not valid YAML: ${
        (e as Error).message.split("\n")[0]
      }`,
    );
  }
  const problems: string[] = [];
  const root = (typeof doc === "object" && doc !== null && !Array.isArray(doc))
    ? doc as Record<string, unknown>
    : {};
  if (root !== doc) problems.push("the file must hold a YAML mapping");
  for (const key of Object.keys(root)) {
    if (!["base", "as_of", "rates"].includes(key)) {
      problems.push(`key ${key}: unknown key (allowed: base, as_of, rates)`);
    }
  }
  const base = root.base;
  if (typeof base !== "string" || !ISO_4217.test(base)) {
    problems.push(
      `key base: must be an ISO 4217 code, got ${JSON.stringify(base)}`,
    );
  }
  // YAML 1.2 (the `yaml` package's default schema) keeps a bare date as a
  // string; a Date object would come from a YAML 1.1 timestamp tag.
  const asOfRaw = root.as_of instanceof Date
    ? root.as_of.toISOString().slice(0, 10)
    : root.as_of;
  if (typeof asOfRaw !== "string" || !ISO_DATE.test(asOfRaw)) {
    problems.push(
      `key as_of: must be a date YYYY-MM-DD, got ${JSON.stringify(asOfRaw)}`,
    );
  }
  const rates: Record<string, number> = {};
  const ratesDoc = root.rates;
  if (
    typeof ratesDoc !== "object" || ratesDoc === null ||
    Array.isArray(ratesDoc) || Object.keys(ratesDoc).length === 0
  ) {
    problems.push("key rates: must map currency codes to positive numbers");
  } else {
    for (const [cur, v] of Object.entries(ratesDoc)) {
      if (!ISO_4217.test(cur)) {
        problems.push(`key rates.${cur}: not an ISO 4217 code`);
      } else if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
        problems.push(
          `key rates.${cur}: must be a positive number, got ${
            JSON.stringify(v)
          }`,
        );
      } else rates[cur] = v;
    }
    if (typeof base === "string" && ISO_4217.test(base)) {
      if (!(base in rates)) {
        problems.push(`key rates.${base}: the base currency needs rate 1`);
      } else if (rates[base] !== 1) {
        problems.push(
          `key rates.${base}: the base currency's rate must be 1, got ${
            rates[base]
          }`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new FxError(
      file,
      `Cannot read FX table ${file}: ${problems.join("; ")}`,
    );
  }
  return {
    file,
    sha256,
    base: base as string,
    as_of: asOfRaw as string,
    rates,
  };
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
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1}", "fx.yaml");
 * fxDateWarning(fx, "2025-12-31"); // null
 * fxDateWarning(fx, "2025-09-30"); // "FX table fx.yaml is as of 2025-12-31, …"
 * ```
 */
export function fxDateWarning(
  fx: Pick<FxTable, "file" | "as_of">,
  reportingDate: string,
): string | null {
  if (fx.as_of === reportingDate) return null;
  return `FX table ${fx.file} is as of ${fx.as_of}, not the reporting date ${reportingDate}: totals in the reporting currency use that date's rates (pass --fx with the closing rates of ${reportingDate})`;
}

/**
 * The FX table file for a reporting date: `<dir>/fx_rates_<date>.yaml` when
 * the treasury's closing rates of that date are there, else the default
 * `<dir>/fx_rates.yaml`. Check the result with {@link fxDateWarning}.
 *
 * @example
 * ```ts
 * await fxFileFor("2025-09-30"); // "config/fx_rates_2025-09-30.yaml"
 * await fxFileFor("2026-06-30"); // "config/fx_rates.yaml"
 * ```
 */
export async function fxFileFor(
  reportingDate: string,
  dir = "config",
): Promise<string> {
  const dated = `${dir}/fx_rates_${reportingDate}.yaml`;
  try {
    await Deno.stat(dated);
    return dated;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `${dir}/fx_rates.yaml`;
    throw e;
  }
}

/**
 * Reads, hashes and checks an FX table file.
 *
 * @example
 * ```ts
 * const fx = await loadFx("config/fx_rates.yaml");
 * fx.base; // "EUR"
 * ```
 */
export async function loadFx(path: string): Promise<FxTable> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new FxError(
      path,
      `Cannot read FX table ${path}: ${(e as Error).message}`,
    );
  }
  return parseFx(new TextDecoder().decode(bytes), path, sha256Hex(bytes));
}

/**
 * Reporting-currency units per one unit of each given currency. Throws
 * {@link FxError} naming every missing currency and the FX file, so a run
 * never reports a total that silently leaves a currency out.
 *
 * @param currencies the currencies to convert; defaults to every currency
 *   of the table.
 * @example
 * ```ts
 * const fx = parseFx("base: EUR\nas_of: 2025-12-31\nrates: {EUR: 1, USD: 0.92}", "fx.yaml");
 * reportingRates(fx, "EUR", ["USD"]); // { USD: 0.92 }
 * ```
 */
export function reportingRates(
  table: FxTable,
  reportingCurrency: string,
  currencies: Iterable<string> = Object.keys(table.rates),
): Record<string, number> {
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
