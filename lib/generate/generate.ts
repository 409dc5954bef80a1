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

/** Options of {@link generatePortfolio}; the CLI flags map one to one. */
export interface GenerateOptions {
  /** Facilities in the first snapshot (`--loans`). */
  loans: number;
  /** Random seed (`--seed`); the same seed gives byte-identical files. */
  seed: number;
  /** First reporting date, `YYYY-MM-DD` (`--reporting-date`). */
  reportingDate: string;
  /** Quarterly snapshots to write (`--periods`). @default 1 */
  periods?: number;
  /** Output folder (`--out`), created when missing. */
  out: string;
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
  if (!Number.isInteger(seed)) throw bad("--seed", seed, "must be an integer");
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
  // Loan numbers carry 10 digits of sequence (see ID_PERIOD_FACTOR).
  if (loans >= ID_PERIOD_FACTOR) {
    throw bad("--loans", loans, `must be below ${ID_PERIOD_FACTOR}`);
  }
  return {
    loans,
    seed,
    days: quarterlyDates(first, periods),
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
 * Memory is bounded by the batch size: each batch of each period is written
 * as a part file (Parquet) or appended (CSV), and the Parquet parts are
 * stream-concatenated at the end. Files appear under their final names only
 * when complete.
 */
export async function generatePortfolio(
  opts: GenerateOptions,
): Promise<GenerateResult> {
  const p = plan(opts);
  const periods = p.days.length;
  const ext = p.format === "csv" ? "csv" : "parquet";
  await Deno.mkdir(opts.out, { recursive: true });
  const partsDir = await Deno.makeTempDir({ dir: opts.out, prefix: ".parts-" });
  const finals = p.days.map((d) => `${opts.out}/portfolio_${isoDay(d)}.${ext}`);
  const rows = p.days.map(() => 0);
  const injected: InjectedRow[][] = p.days.map(() => []);
  const counters = p.days.map(() => 0);
  const csvFiles = p.format === "csv"
    ? await Promise.all(
      p.days.map((_, t) =>
        Deno.open(`${partsDir}/snapshot_${t}.csv`, {
          write: true,
          create: true,
          truncate: true,
        })
      ),
    )
    : [];
  const total = p.batches * periods;
  let done = 0;
  let written = 0;
  try {
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
      await Deno.rename(tmp, finals[t]);
      const fxPath = `${opts.out}/${datedFxFileName(isoDay(p.days[t]))}`;
      const fxTmp = `${partsDir}/fx_${t}.yaml`;
      await Deno.writeTextFile(fxTmp, fxTableText(fxTables[t], p.seed));
      await Deno.rename(fxTmp, fxPath);
      const snap: GeneratedSnapshot = {
        reportingDate: isoDay(p.days[t]),
        path: finals[t],
        rows: rows[t],
        fxPath,
        injectedRows: injected[t].length,
      };
      if (p.share > 0) {
        snap.injectedPath = `${opts.out}/injected_${isoDay(p.days[t])}.json`;
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
        await Deno.writeTextFile(
          snap.injectedPath,
          JSON.stringify(sidecar, null, 1) + "\n",
        );
      }
      snapshots.push(snap);
    }
    return { snapshots, batches: p.batches };
  } finally {
    for (const f of csvFiles) f.close();
    await Deno.remove(partsDir, { recursive: true }).catch(() => {});
  }
}
