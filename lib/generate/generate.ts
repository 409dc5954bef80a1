/**
 * Entry points of the synthetic portfolio generator: {@link generatePortfolio}
 * streams quarterly snapshot files to a folder in bounded memory, and
 * {@link generateBook} returns the same snapshots as in-memory frames for
 * notebooks and tests.
 *
 * The book is split into batches of facilities. Each batch is seeded from
 * `(seed, batch index)` and simulated through every period before the next
 * batch starts, so memory holds one batch, and the output is the same
 * whatever the batch schedule. A snapshot file is the concatenation of its
 * batches in batch order.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import { isoDay, parseIsoDay, quarterlyDates } from "./calendar.ts";
import { DYNAMICS } from "./catalogue.ts";
import { BatchBook, ID_PERIOD_FACTOR } from "./book.ts";
import {
  injectableCodes,
  injectBreakage,
  type InjectedRow,
  type InjectionFormat,
} from "./inject.ts";
import { Rng } from "./random.ts";
import { fxTableText, generateFxTables } from "./fx_tables.ts";
import { datedFxFileName } from "../fx.ts";
import { type Snapshot, snapshotFrame } from "./snapshot.ts";
import {
  entryKind,
  makeOutputDir,
  OutputLocationError,
} from "../run_folder/output_path.ts";
import { localFolder } from "../run_folder/location.ts";

/** Options of {@link generatePortfolio}; the CLI flags map one to one. */
export interface GenerateOptions {
  /** Facilities in the first snapshot (`--loans`). */
  loans: number;
  /**
   * Random seed (`--seed`), a whole number from 0 to {@link MAX_SEED}; the
   * same seed gives byte-identical files.
   */
  seed: number;
  /**
   * First reporting date, `YYYY-MM-DD` (`--reporting-date`); it and the
   * last snapshot's date within {@link GENERATE_DATES}.
   */
  reportingDate: string;
  /** Quarterly snapshots to write (`--periods`). @default 1 */
  periods?: number;
  /** Output folder (`--out`), created when missing. */
  out: string;
  /**
   * Replace files of the names this generation writes that are already in
   * `out` (`--replace`): snapshots, FX tables, sidecars. Without it, such a
   * file is refused before anything is generated, naming it. An entry of
   * such a name that is not a file (a folder, a link, a device) is refused
   * either way. @default false
   */
  replace?: boolean;
  /** File format (`--format`). @default "parquet" */
  format?: "parquet" | "csv";
  /** Share of broken rows per snapshot, 0 to 0.5 (`--inject-broken`). @default 0 */
  injectBroken?: number;
  /** Facilities per batch; bounds memory. @default 250_000 */
  batchSize?: number;
  /** Called after each batch of each period with work done and total. */
  onProgress?: (progress: GenerateProgress) => void;
}

/** Progress of a generation, in batch-periods. */
export interface GenerateProgress {
  /** Batch-periods simulated and written so far (one batch for one period). */
  done: number;
  /** Batch-periods in the whole generation: batches times periods. */
  total: number;
  /** Rows written so far, over all snapshots. */
  rows: number;
}

/** One written snapshot. */
export interface GeneratedSnapshot {
  /** The snapshot's reporting date, `YYYY-MM-DD`. */
  reportingDate: string;
  /** The file written, `<out>/portfolio_<YYYY-MM-DD>.parquet` (or `.csv`). */
  path: string;
  /** Data rows in the file (header not counted), broken rows included. */
  rows: number;
  /**
   * The FX table of the snapshot's date written beside it,
   * `<out>/fx_rates_<YYYY-MM-DD>.yaml`, which a run of the snapshot without
   * `--fx` uses (`lib/generate/fx_tables.ts`).
   */
  fxPath: string;
  /** Sidecar listing the injected rows, when injection was asked for. */
  injectedPath?: string;
  /**
   * Entries of the sidecar's `rows` (0 without injection): one per
   * injected code, plus for each `LOAN_ID_DUPLICATE` the row whose loan_id
   * was copied, since the validator rejects both. Each row is listed
   * once.
   */
  injectedRows: number;
}

/** What {@link generatePortfolio} wrote. */
export interface GenerateResult {
  /** Every snapshot written, oldest reporting date first. */
  snapshots: GeneratedSnapshot[];
  /**
   * Batches the book was simulated in: `loans` divided by the batch size,
   * rounded up (each batch also takes its share of new business).
   */
  batches: number;
}

/** Sidecar content: every broken row of one snapshot and its code. */
export interface InjectedSidecar {
  /** The snapshot's file name, without its folder. */
  file: string;
  /** The snapshot's reporting date, `YYYY-MM-DD`. */
  reporting_date: string;
  /** The share of broken rows asked for (`--inject-broken`, 0 to 0.5). */
  share: number;
  /** Data rows in the snapshot file, broken rows included. */
  rows_total: number;
  /**
   * Entries of `rows`: one per injected code, plus for each
   * `LOAN_ID_DUPLICATE` the row whose loan_id was copied, so it can
   * exceed `share * rows_total`. Each row is listed once.
   */
  rows_injected: number;
  /** Codes the format can carry, each injected once the share allows. */
  codes: Record<string, number>;
  /**
   * Every row the validator must reject, with the code it must get, in the
   * order the codes were injected (batch by batch, not strictly by row).
   */
  rows: InjectedRow[];
}

/**
 * The largest seed (`--seed`): 2^32 - 1. The random streams are seeded
 * from 32 bits (`Rng`), so a larger seed would give the files of a smaller
 * one (4294967296 those of 0 folded with 1, the files of seed 1) instead of
 * a book of its own; seeds from 0 to this bound each give their own book.
 */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * The reporting dates a generated book may have, first snapshot and last
 * alike: 1950-01-01 to 2199-12-31.
 *
 * Why: the book derives dates decades from its reporting dates
 * (originations up to 30 years earlier for a mortgage, maturities up to 30
 * years later), and every one of them must stay a four-digit year, which
 * file names, Polars dates and JavaScript dates write alike; JavaScript's
 * `Date.UTC` also reads years 0-99 as 1900-1999, so `0001-01-01` wrote
 * `portfolio_1901-01-01.parquet`, and year 10000 wrote
 * `portfolio_+010000-03-31.parquet`. The range covers any book of today's
 * products (the catalogue's amounts, rates and FX tables are 2025's) with
 * room for what-if dates, and keeps every derived date within 1920-2230.
 */
export const GENERATE_DATES = {
  first: "1950-01-01",
  last: "2199-12-31",
} as const;

interface Plan {
  loans: number;
  seed: number;
  days: number[];
  batchSize: number;
  batches: number;
  share: number;
  format: InjectionFormat;
}

function plan(opts: {
  loans: number;
  seed: number;
  reportingDate: string;
  periods?: number;
  batchSize?: number;
  injectBroken?: number;
  format?: InjectionFormat;
}): Plan {
  const { loans, seed } = opts;
  const periods = opts.periods ?? 1;
  const batchSize = opts.batchSize ?? 250_000;
  const share = opts.injectBroken ?? 0;
  const bad = (what: string, v: unknown, rule: string) =>
    new RangeError(`Cannot generate portfolio: ${what} ${v} ${rule}`);
  if (!Number.isInteger(loans) || loans < 1) {
    throw bad("--loans", loans, "must be a whole number >= 1");
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw bad("--seed", seed, `must be a whole number from 0 to ${MAX_SEED}`);
  }
  if (!Number.isInteger(periods) || periods < 1 || periods > 99) {
    throw bad("--periods", periods, "must be a whole number from 1 to 99");
  }
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    throw bad("batch size", batchSize, "must be a whole number >= 2");
  }
  if (!(share >= 0 && share <= 0.5)) {
    throw bad("--inject-broken", share, "must be a share from 0 to 0.5");
  }
  if (opts.format && opts.format !== "csv" && opts.format !== "parquet") {
    throw bad("--format", opts.format, "must be parquet or csv");
  }
  const first = parseIsoDay(opts.reportingDate, "--reporting-date");
  const range = `${GENERATE_DATES.first} to ${GENERATE_DATES.last}`;
  // ISO dates of four-digit years compare as text.
  if (
    opts.reportingDate < GENERATE_DATES.first ||
    opts.reportingDate > GENERATE_DATES.last
  ) {
    throw bad(
      "--reporting-date",
      opts.reportingDate,
      `must be from ${range} (GENERATE_DATES, docs/generator.md)`,
    );
  }
  const days = quarterlyDates(first, periods);
  const last = isoDay(days.at(-1)!);
  if (last > GENERATE_DATES.last) {
    throw bad(
      "--periods",
      periods,
      `from ${opts.reportingDate} puts the last snapshot at ${last}, after the last date a book may have (dates from ${range}, GENERATE_DATES): give fewer --periods or an earlier --reporting-date`,
    );
  }
  // Loan numbers carry 10 digits of sequence (see ID_PERIOD_FACTOR).
  if (loans >= ID_PERIOD_FACTOR) {
    throw bad("--loans", loans, `must be below ${ID_PERIOD_FACTOR}`);
  }
  return {
    loans,
    seed,
    days,
    batchSize,
    batches: Math.ceil(loans / batchSize),
    share,
    format: opts.format ?? "parquet",
  };
}

/**
 * Simulates the whole book batch by batch, yielding each snapshot of each
 * batch in batch-major order (batch 0 periods 0..P-1, batch 1, ...). Lazy:
 * one batch is alive at a time.
 */
function* simulate(
  p: Plan,
): Generator<{ period: number; batch: number; snap: Snapshot }> {
  const periods = p.days.length;
  for (let b = 0; b < p.batches; b++) {
    const count = Math.min(p.batchSize, p.loans - b * p.batchSize);
    const newPerPeriod = Math.round(count * DYNAMICS.originationRate);
    const book = new BatchBook(
      new Rng(p.seed, b),
      count + newPerPeriod * (periods - 1),
      b * p.batchSize,
      characteristicsRng(p.seed, b),
    );
    book.seed(count, p.days[0]);
    yield { period: 0, batch: b, snap: book.snapshot(p.days[0]) };
    for (let t = 1; t < periods; t++) {
      book.roll(p.days[t - 1], p.days[t], t, newPerPeriod);
      yield { period: t, batch: b, snap: book.snapshot(p.days[t]) };
    }
  }
}

/**
 * The borrower characteristics run on a stream of their own per batch
 * (docs/generator.md), so the same seed gives the same values in every
 * other column as a book without them.
 */
function characteristicsRng(seed: number, batch: number): Rng {
  return new Rng(seed ^ 0x2545f491, 2_000_000_000 + batch);
}

/**
 * Injection runs on its own random stream per (period, batch), so that the
 * same seed gives the same book with or without broken rows.
 */
function injectionRng(seed: number, period: number, batch: number): Rng {
  return new Rng(seed ^ 0x5bd1e995, 1_000_000 + period * 100_000 + batch);
}

/**
 * Generates the book in memory: one frame per quarterly snapshot, columns
 * in `PORTFOLIO_COLUMNS` order typed as `PORTFOLIO_SCHEMA` (with
 * `write_off_amount`). For notebooks and tests; large books belong in
 * {@link generatePortfolio}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateBook } from "./generate.ts";
 * const [q1, q2] = generateBook({ loans: 1000, seed: 7, reportingDate: "2025-12-31", periods: 2 });
 * // The first snapshot at the reporting date, the next a quarter later.
 * const date = (q: typeof q1) => q.toRecords()[0].reporting_date as unknown as Date;
 * assert.equal(q1.height, 1000);
 * assert.equal(date(q1).toISOString().slice(0, 10), "2025-12-31");
 * assert.equal(date(q2).toISOString().slice(0, 10), "2026-03-31");
 * ```
 */
export function generateBook(opts: {
  loans: number;
  seed: number;
  reportingDate: string;
  periods?: number;
  /** Share of broken rows (NaN / infinity for unparseable floats). @default 0 */
  injectBroken?: number;
  /** @default 250_000 */
  batchSize?: number;
}): DataFrame[] {
  const p = plan({ ...opts, format: "parquet" });
  const parts: DataFrame[][] = p.days.map(() => []);
  const counters = p.days.map(() => 0);
  const offsets = p.days.map(() => 0);
  for (const { period: t, batch: b, snap } of simulate(p)) {
    if (p.share > 0) {
      const r = injectBreakage(snap, {
        share: p.share,
        format: "parquet",
        rng: injectionRng(p.seed, t, b),
        counter: counters[t],
        rowOffset: offsets[t],
      });
      counters[t] = r.counter;
    }
    offsets[t] += snap.n;
    parts[t].push(snapshotFrame(snap));
  }
  return parts.map((frames) =>
    frames.length === 1 ? frames[0] : pl.concat(frames, { how: "vertical" })
  );
}

/**
 * The snapshot files `generatePortfolio` wrote into `dir`
 * (`portfolio_<YYYY-MM-DD>.parquet` or `.csv`), oldest first; empty when
 * the folder does not exist.
 */
export async function snapshotFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (/^portfolio_\d{4}-\d{2}-\d{2}\.(parquet|csv)$/.test(e.name)) {
        files.push(`${dir}/${e.name}`);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return files.sort();
}

/**
 * Writes `periods` quarterly snapshots `out/portfolio_<date>.<format>` of one
 * rolled-forward book, the FX table of each date `out/fx_rates_<date>.yaml`
 * (`lib/generate/fx_tables.ts`), and with `injectBroken` a sidecar
 * `out/injected_<date>.json` per snapshot ({@link InjectedSidecar}).
 *
 * Before anything is generated, `out` is checked (`makeOutputDir`: a
 * folder, not a run's) and so is every file the generation would write:
 * one that exists already is refused, naming it, unless `replace`; an
 * entry of such a name that is not a file is refused either way. Other
 * files in `out` are left alone.
 *
 * Memory is bounded by the batch size: each batch of each period is written
 * as a part file (Parquet) or appended (CSV), and the Parquet parts are
 * stream-concatenated at the end. Everything is written in a staging folder
 * in `out` named as a run's (`.generate.partial-<pid>-<12 hex>`,
 * `lib/run_folder/location.ts`), so a second generation into `out` while
 * this one runs is refused as busy, and the folder of a killed generation
 * is removed by the next one and by `deno task clean`
 * (`lib/run_folder/stale.ts`). Files appear under their final names only
 * when complete (a rename, or a hard link that fails rather than replace a
 * file that appeared meanwhile).
 *
 * @throws {RangeError} for an option out of its range, naming its flag.
 * @throws {OutputLocationError} when `out`, or a file the generation
 *   would write, cannot take it (kind `usage`).
 * @throws {FolderBusyError} when another live process generates into `out`.
 */
export async function generatePortfolio(
  opts: GenerateOptions,
): Promise<GenerateResult> {
  const p = plan(opts);
  const periods = p.days.length;
  const ext = p.format === "csv" ? "csv" : "parquet";
  const replace = opts.replace ?? false;
  // A file where the folder goes, or a place where no folder can be
  // created, is a usage error naming --out (lib/run_folder/output_path.ts).
  await makeOutputDir(opts.out);
  const finals = p.days.map((d) => `${opts.out}/portfolio_${isoDay(d)}.${ext}`);
  const fxPaths = p.days.map((d) =>
    `${opts.out}/${datedFxFileName(isoDay(d))}`
  );
  const sidecars = p.days.map((d) => `${opts.out}/injected_${isoDay(d)}.json`);
  await checkGeneratedFiles(
    opts.out,
    [...finals, ...fxPaths, ...(p.share > 0 ? sidecars : [])],
    replace,
  );
  // The staging folder: a busy error if another generation writes here.
  const staging = await localFolder(opts.out).stage(STAGING_NAME);
  const partsDir = staging.dir;
  const publish = (temp: string, final: string) =>
    publishFile(opts.out, temp, final, replace);
  const rows = p.days.map(() => 0);
  const injected: InjectedRow[][] = p.days.map(() => []);
  const counters = p.days.map(() => 0);
  const csvFiles: Deno.FsFile[] = [];
  let done = 0;
  let written = 0;
  try {
    if (p.format === "csv") {
      for (let t = 0; t < periods; t++) {
        csvFiles.push(
          await Deno.open(`${partsDir}/snapshot_${t}.csv`, {
            write: true,
            create: true,
            truncate: true,
          }),
        );
      }
    }
    const total = p.batches * periods;
    for (const { period: t, batch: b, snap } of simulate(p)) {
      if (p.share > 0) {
        const r = injectBreakage(snap, {
          share: p.share,
          format: p.format,
          rng: injectionRng(p.seed, t, b),
          counter: counters[t],
          rowOffset: rows[t],
        });
        counters[t] = r.counter;
        for (const row of r.rows) injected[t].push(row);
      }
      rows[t] += snap.n;
      written += snap.n;
      const df = snapshotFrame(snap);
      if (p.format === "csv") {
        const text = df.writeCSV({ includeHeader: b === 0 });
        const bytes = typeof text === "string"
          ? new TextEncoder().encode(text)
          : new Uint8Array(text);
        let off = 0;
        while (off < bytes.length) {
          off += await csvFiles[t].write(bytes.subarray(off));
        }
      } else {
        const part = `${partsDir}/p${String(t).padStart(2, "0")}_b${
          String(b).padStart(6, "0")
        }.parquet`;
        df.writeParquet(part);
      }
      opts.onProgress?.({ done: ++done, total, rows: written });
      // Polars frames free their native memory in finalizers, which run
      // only when the event loop turns: yield once per batch, or memory
      // grows with the book instead of staying at one batch.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    for (const f of csvFiles) f.close();
    csvFiles.length = 0;
    const snapshots: GeneratedSnapshot[] = [];
    const fxTables = generateFxTables(p.seed, p.days.map(isoDay));
    for (let t = 0; t < periods; t++) {
      const tmp = `${partsDir}/final_${t}.${ext}`;
      if (p.format === "csv") {
        await Deno.rename(`${partsDir}/snapshot_${t}.csv`, tmp);
      } else {
        // Streaming concatenation: the parts are read and written in
        // morsels, never all in memory (a nodejs-polars sink writes only
        // when its result is collected).
        // Part names are zero-padded, so the glob expands in batch order.
        await pl.scanParquet(
          `${partsDir}/p${String(t).padStart(2, "0")}_b*.parquet`,
        ).sinkParquet(tmp).collect();
      }
      await publish(tmp, finals[t]);
      const fxTmp = `${partsDir}/fx_${t}.yaml`;
      await Deno.writeTextFile(fxTmp, fxTableText(fxTables[t], p.seed));
      await publish(fxTmp, fxPaths[t]);
      const snap: GeneratedSnapshot = {
        reportingDate: isoDay(p.days[t]),
        path: finals[t],
        rows: rows[t],
        fxPath: fxPaths[t],
        injectedRows: injected[t].length,
      };
      if (p.share > 0) {
        snap.injectedPath = sidecars[t];
        const codes: Record<string, number> = {};
        for (const c of injectableCodes(p.format)) codes[c] = 0;
        for (const r of injected[t]) codes[r.code]++;
        const sidecar: InjectedSidecar = {
          file: finals[t].split("/").pop()!,
          reporting_date: isoDay(p.days[t]),
          share: p.share,
          rows_total: rows[t],
          rows_injected: injected[t].length,
          codes,
          rows: injected[t],
        };
        const sidecarTmp = `${partsDir}/injected_${t}.json`;
        await Deno.writeTextFile(
          sidecarTmp,
          JSON.stringify(sidecar, null, 1) + "\n",
        );
        await publish(sidecarTmp, sidecars[t]);
      }
      snapshots.push(snap);
    }
    await staging.discard();
    return { snapshots, batches: p.batches };
  } catch (e) {
    for (const f of csvFiles) f.close();
    // The error that stopped the generation is the one reported; a staging
    // folder that cannot be removed now keeps its staging name, so the
    // next generation here and `deno task clean` remove it.
    await staging.discard().catch(() => {});
    throw e;
  }
}

/**
 * The name the generator stages its files under in `out`:
 * `.generate.partial-<pid>-<12 hex>` (`partialName` of
 * `lib/run_folder/location.ts`), a name the sweep of stale staging entries
 * knows.
 */
export const STAGING_NAME = "generate";

/**
 * Refuses, before anything is generated, an entry at a path the
 * generation writes: any that is not a file, and a file unless `replace`.
 */
async function checkGeneratedFiles(
  out: string,
  paths: readonly string[],
  replace: boolean,
): Promise<void> {
  const existing: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw new OutputLocationError(
        out,
        `${path} cannot be looked at (${
          (e as Error).message
        }); give a folder you can write to`,
        { verb: "generate into", cause: e },
      );
    }
    if (!info.isFile) {
      throw new OutputLocationError(
        out,
        `${path} is ${
          entryKind(info)
        }, not a file, where this generation writes a file; move it away or give another --out`,
        { verb: "generate into" },
      );
    }
    existing.push(path);
  }
  if (existing.length > 0 && !replace) {
    throw new OutputLocationError(
      out,
      `it already holds ${
        existing.join(", ")
      }, which this generation writes; pass --replace (option replace: true) to replace ${
        existing.length === 1 ? "it" : "them"
      }, or give another --out`,
      { verb: "generate into" },
    );
  }
}

/**
 * Gives the complete file `temp` (in the staging folder) its final name.
 * With `replace`, a rename (replacing a file there). Without, a hard link,
 * which fails rather than replace a file that appeared at `final` since
 * the check before generating; on a file system without hard links, a
 * rename after that check.
 */
async function publishFile(
  out: string,
  temp: string,
  final: string,
  replace: boolean,
): Promise<void> {
  if (replace) return await Deno.rename(temp, final);
  try {
    await Deno.link(temp, final);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new OutputLocationError(
        out,
        `${final} appeared while the book was generated, and this generation does not replace it; pass --replace (option replace: true) or give another --out`,
        { verb: "generate into", cause: e },
      );
    }
    // No hard links here (some network and FAT file systems).
    return await Deno.rename(temp, final);
  }
  await Deno.remove(temp);
}
