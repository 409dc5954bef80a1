/**
 * The default-rate history the satellite model is fitted on
 * (docs/scenarios.md §2): a CSV with one row per segment and year,
 *
 * ```csv
 * segment,region,year,obligors,defaults
 * mortgage_es,ES,2005,12000,96
 * ```
 *
 * `obligors` performing at the start of the year, `defaults` among them
 * during the year (the one-year cohort default rate of Basel CRE36.78 and
 * methodology §4's annual PD). Every problem is listed with its 1-based
 * line, column and the fix; years are contiguous per segment.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { UserError } from "../errors.ts";
import { splitCsvLine } from "../io/_csv.ts";

/** The columns of a default-rate history, in any order. */
export const HISTORY_COLUMNS = [
  "segment",
  "region",
  "year",
  "obligors",
  "defaults",
] as const;

/**
 * Largest history file read: 16 MiB. A history is a few hundred rows (tens
 * of segments, tens of years); a larger file is a loan tape given by
 * mistake.
 */
export const MAX_HISTORY_BYTES = 16 * 1024 * 1024;

/** Most obligors of a segment-year: 1e9, more than any bank's book. */
export const MAX_OBLIGORS = 1e9;

/** One segment's yearly default rates, years contiguous. */
export interface SegmentHistory {
  /** The segment (rules' `segments` key, `<product>_<country>`). */
  segment: string;
  /** Region code of the scenario file (`ES`, `MX`, ...). */
  region: string;
  /** The years, contiguous and increasing. */
  years: number[];
  /** Obligors at the start of each year. */
  obligors: number[];
  /** Defaults during each year. */
  defaults: number[];
}

/** A checked default-rate history. */
export interface DefaultRateHistory {
  /** The file read. */
  file: string;
  /** SHA-256 (hex) of its bytes. */
  sha256: string;
  /** The segments, in the order of their first row. */
  segments: SegmentHistory[];
}

/** Most problems of a history listed one by one, then "and K more". */
export const MAX_LISTED_HISTORY_PROBLEMS = 20;

/** Refused history: every problem found, one per line. */
export class HistoryError extends UserError {
  /**
   * The file `file` with every problem found in it.
   *
   * @param file The history file.
   * @param problems Every problem, each naming its line and column.
   */
  constructor(readonly file: string, readonly problems: string[]) {
    super(
      "input",
      `Cannot read default-rate history ${file}: ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }\n` +
        problems.slice(0, MAX_LISTED_HISTORY_PROBLEMS).map((p) => `  - ${p}`)
          .join("\n") +
        (problems.length > MAX_LISTED_HISTORY_PROBLEMS
          ? `\n  - and ${
            problems.length - MAX_LISTED_HISTORY_PROBLEMS
          } more problem(s)`
          : ""),
    );
    this.name = "HistoryError";
  }
}

/**
 * Parses a default-rate history from CSV text (comma-separated, a header
 * line; fields split by lib/io's `splitCsvLine`, RFC 4180 quoting). A gap
 * in a segment's years that a refused row could fill (its segment and
 * year, where readable) is not reported on top of that row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDefaultRateHistory } from "./history.ts";
 * const h = parseDefaultRateHistory(
 *   "segment,region,year,obligors,defaults\nsme_es,ES,2024,100,3\nsme_es,ES,2025,100,2\n",
 *   "h.csv",
 * );
 * assert.deepEqual(h.segments[0].defaults, [3, 2]);
 * ```
 */
export function parseDefaultRateHistory(
  text: string,
  file: string,
): DefaultRateHistory {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = splitCsvLine(lines[0]).map((c) => c.trim());
  const problems: string[] = [];
  const at: Record<string, number> = {};
  for (const c of HISTORY_COLUMNS) {
    const i = header.indexOf(c);
    if (i < 0) {
      problems.push(
        `line 1: column ${c} is missing (the header must name ${
          HISTORY_COLUMNS.join(", ")
        })`,
      );
    }
    at[c] = i;
  }
  if (problems.length > 0) throw new HistoryError(file, problems);
  const bySegment = new Map<string, {
    region: string;
    rows: { year: number; obligors: number; defaults: number; line: number }[];
  }>();
  // Rows refused, with the segment and year they were meant for when
  // readable: a gap such a row would fill is not reported again.
  const refused: { segment?: string; year?: number }[] = [];
  lines.slice(1).forEach((raw, k) => {
    const line = k + 2;
    if (raw.trim() === "") return;
    const count = problems.length;
    row(raw, line);
    if (problems.length > count) {
      const cells = splitCsvLine(raw).map((c) => c.trim());
      const segment = cells[at.segment];
      const year = Number(cells[at.year]);
      refused.push({
        ...(segment !== undefined && /^[a-z0-9_]+$/.test(segment)
          ? { segment }
          : {}),
        ...(Number.isInteger(year) ? { year } : {}),
      });
    }
  });
  const filled = (segment: string, from: number, to: number) =>
    refused.some((r) =>
      (r.segment === undefined || r.segment === segment) &&
      (r.year === undefined || (r.year > from && r.year < to))
    );
  function row(raw: string, line: number) {
    const cells = splitCsvLine(raw).map((c) => c.trim());
    if (cells.length !== header.length) {
      problems.push(
        `line ${line}: ${cells.length} fields, the header has ${header.length}`,
      );
      return;
    }
    const segment = cells[at.segment];
    const region = cells[at.region];
    const whole = (col: string, max: number) => {
      const v = Number(cells[at[col]]);
      if (!Number.isInteger(v) || v < 0 || v > max) {
        problems.push(
          `line ${line}, column ${col}: must be a whole number in 0..${max}, got ${
            JSON.stringify(cells[at[col]])
          }`,
        );
        return undefined;
      }
      return v;
    };
    if (!/^[a-z0-9_]+$/.test(segment)) {
      problems.push(
        `line ${line}, column segment: must be a segment key (a-z, 0-9, _), got ${
          JSON.stringify(segment)
        }`,
      );
      return;
    }
    if (!/^[A-Z]{2}$/.test(region)) {
      problems.push(
        `line ${line}, column region: must be a region code of the scenario file (ES, MX, ...), got ${
          JSON.stringify(region)
        }`,
      );
      return;
    }
    const year = whole("year", 2200);
    const obligors = whole("obligors", MAX_OBLIGORS);
    const defaults = whole("defaults", MAX_OBLIGORS);
    if (
      year === undefined || obligors === undefined || defaults === undefined
    ) {
      return;
    }
    if (obligors === 0) {
      problems.push(`line ${line}, column obligors: must be above 0`);
      return;
    }
    if (defaults > obligors) {
      problems.push(
        `line ${line}, column defaults: ${defaults} is more than the ${obligors} obligors`,
      );
      return;
    }
    const entry = bySegment.get(segment) ?? { region, rows: [] };
    if (entry.region !== region) {
      problems.push(
        `line ${line}, column region: segment ${segment} is in region ${entry.region} on an earlier line, got ${region}`,
      );
      return;
    }
    entry.rows.push({ year, obligors, defaults, line });
    bySegment.set(segment, entry);
  }
  const segments: SegmentHistory[] = [];
  for (const [segment, { region, rows }] of bySegment) {
    rows.sort((a, b) => a.year - b.year);
    for (let i = 1; i < rows.length; i++) {
      if (rows[i].year === rows[i - 1].year) {
        problems.push(
          `line ${rows[i].line}: segment ${segment} year ${
            rows[i].year
          } is also on line ${rows[i - 1].line}`,
        );
      } else if (
        rows[i].year !== rows[i - 1].year + 1 &&
        !filled(segment, rows[i - 1].year, rows[i].year)
      ) {
        problems.push(
          `line ${rows[i].line}: segment ${segment} jumps from ${
            rows[i - 1].year
          } to ${rows[i].year}; years must be contiguous`,
        );
      }
    }
    segments.push({
      segment,
      region,
      years: rows.map((r) => r.year),
      obligors: rows.map((r) => r.obligors),
      defaults: rows.map((r) => r.defaults),
    });
  }
  if (segments.length === 0 && problems.length === 0) {
    problems.push("holds no rows after the header");
  }
  if (problems.length > 0) throw new HistoryError(file, problems);
  return {
    file,
    sha256: createHash("sha256").update(text).digest("hex"),
    segments,
  };
}

/**
 * Reads a default-rate history file (at most {@link MAX_HISTORY_BYTES}).
 *
 * @throws {HistoryError} naming the file, line and column of each problem.
 */
export async function readDefaultRateHistory(
  path: string,
): Promise<DefaultRateHistory> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new HistoryError(path, ["is not a regular file"]);
    }
    if (info.size > MAX_HISTORY_BYTES) {
      throw new HistoryError(path, [
        `is ${info.size} bytes, above MAX_HISTORY_BYTES (${MAX_HISTORY_BYTES}); a history is a few hundred rows`,
      ]);
    }
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof HistoryError) throw e;
    throw new HistoryError(path, [
      e instanceof Deno.errors.NotFound
        ? "no such file"
        : `cannot be read: ${(e as Error).message}`,
    ]);
  }
  const history = parseDefaultRateHistory(
    new TextDecoder().decode(bytes),
    path,
  );
  history.sha256 = createHash("sha256").update(bytes).digest("hex");
  return history;
}

/**
 * The text of a default-rate history CSV (the format
 * {@link parseDefaultRateHistory} reads).
 */
export function defaultRateHistoryCsv(
  segments: readonly SegmentHistory[],
): string {
  const lines = [HISTORY_COLUMNS.join(",")];
  for (const s of segments) {
    s.years.forEach((y, i) =>
      lines.push(
        `${s.segment},${s.region},${y},${s.obligors[i]},${s.defaults[i]}`,
      )
    );
  }
  return lines.join("\n") + "\n";
}
