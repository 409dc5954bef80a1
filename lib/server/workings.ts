/**
 * The workings of the figures the MCP door returns (issue 11: "every figure
 * a tool returns comes with its workings"), so that an agent can quote an
 * auditable answer instead of a bare number:
 *
 * - every figure is a {@link Figure}: its value, its unit (the ISO 4217
 *   code for an amount), the definition that makes it (the methodology
 *   section, and the IFRS 9 / IFRS 7 paragraph where there is one) and
 *   its {@link Source}: the run, its folder, the SHA-256 of the portfolio,
 *   rules and FX files the manifest recorded, and the methodology version;
 * - {@link summaryWorkings}: a run's totals, by stage, by scenario and the
 *   overlays, from `summary.json`, with checks that the parts add up;
 * - {@link dataQualityWorkings}: the essentials of `data_quality.json`;
 * - {@link explainFacility}: one facility, from its row of
 *   `loan_results.parquet` and its validated input row back to the month
 *   by month projection of the engine (`projectFacility`: EAD, survival,
 *   marginal PD, LGD, discount factor), the per-scenario and weighted ECL
 *   recomputed from those months, and whether that equals the run's `ecl`
 *   to the cent. It explains with the run's own rules file only: when the
 *   file (or the portfolio) changed since the run, by SHA-256, it says so
 *   and leaves the projection out rather than explain with other inputs.
 *
 * Amounts of one facility are in its own currency (methodology §9);
 * portfolio figures are in the reporting currency, converted with the
 * run's FX table (IAS 21 §23).
 *
 * @module
 */
import pl from "nodejs-polars";
import { UserError } from "../errors.ts";
import type { DataFrame } from "../frame.ts";
import { scanPortfolio } from "../io/mod.ts";
import { loadRules, type Rules, segmentRules } from "../rules.ts";
import { COL, scenarioEclColumn } from "../schema.ts";
import {
  projectFacility,
  provisionLossRateExpr,
  stageFacilities,
} from "../engine/mod.ts";
import {
  type DataQualityReport,
  validatePortfolio,
} from "../validation/mod.ts";
import { sha256File } from "../run/mod.ts";
import {
  type Group,
  locate,
  type Manifest,
  manifestProblems,
  readRunFolder,
  RUN_FILES,
  upgradeManifest,
} from "../run_folder/mod.ts";

/** Where a figure comes from: the run and the exact inputs behind it. */
export interface Source {
  /** The run's id. */
  run_id: string;
  /** The run folder the figure was read from. */
  run_folder: string;
  /** The file recording the inputs below (`manifest.json`). */
  manifest: string;
  /** The run's status in its manifest (`complete`, `failed`). */
  status: string;
  /** The reporting date, `YYYY-MM-DD` (null for a run that failed first). */
  reporting_date: string | null;
  /** The files the run read, with the SHA-256 the manifest recorded. */
  inputs: {
    portfolio: { path: string; sha256: string };
    rules: { path: string; sha256: string };
    fx: { path: string; sha256: string };
  };
  /** The methodology contract's version (docs/methodology.md); null before version 2. */
  methodology_version: number | null;
  /** The code that computed the run (`git` commit). */
  code_version: string;
}

/** One figure with its workings. */
export interface Figure<V = number | null> {
  /** The number (or null where the methodology defines none, e.g. a coverage over 0). */
  value: V;
  /**
   * The ISO 4217 code for an amount; otherwise `facilities`, `rows`,
   * `ratio`, `probability`, `share of EAD`, `months` or `factor`.
   */
  unit: string;
  /** What the figure is: the methodology section and IFRS paragraph defining it. */
  definition: string;
  /** The run and the inputs it came from. */
  source: Source;
}

/** One check of the workings: two routes to the same figure, and whether they agree. */
export interface Check {
  /** What is compared, in words. */
  check: string;
  /** The figure as recomputed from the parts shown. */
  recomputed: number;
  /** The figure as the run recorded it. */
  recorded: number;
  /** `recomputed - recorded`. */
  difference: number;
  /** Whether they agree to the tolerance stated in `check`. */
  agrees: boolean;
}

/** Amounts agree "to the cent": half a cent either way. */
export const CENT_TOLERANCE = 0.005;

/**
 * What each figure is, by key: the methodology section (docs/methodology.md)
 * and the IFRS paragraph that defines it.
 */
export const DEFINITIONS = {
  count:
    "Facilities computed: one row of loan_results.parquet each (methodology §9); rows rejected by validation are not computed (methodology §1).",
  gross_carrying_amount:
    "Gross carrying amount (IFRS 9 Appendix A): Σ balance at the reporting date, converted with the run's FX table (IAS 21 §23); the denominator of coverage (methodology §9).",
  ead:
    "methodology §5: Σ EAD[1], each facility's exposure at the start of month 1 by repayment type (annuity, linear, bullet; revolving: balance + CCF · undrawn limit), converted with the run's FX table.",
  ecl_model:
    "methodology §8: Σ over facilities of Σ_s w_s · ECL_s, the probability-weighted ECL before overlays (IFRS 9 §5.5.17(a), B5.5.42); ECL_s is the 12-month ECL in stage 1 (IFRS 9 §5.5.5) and the lifetime ECL in stages 2 and 3 (IFRS 9 §5.5.3).",
  ecl:
    "methodology §8: ecl = ecl_model + Σ overlay impacts + floor at 0, per facility, summed in the reporting currency (ecl_rc): the expected credit losses recognised (IFRS 9 §5.5.1), loss allowance plus provision, reconciled in IFRS 7 §35H.",
  loss_allowance:
    "IFRS 7 B8E: the part of each facility's ECL up to its gross carrying amount, the loss allowance deducted from the asset (IFRS 9 §5.5.1); summed.",
  provision:
    "IFRS 7 B8E: the part of each facility's ECL beyond its gross carrying amount (undrawn commitments, IFRS 9 §5.5.20), presented as a provision; summed.",
  coverage:
    "methodology §9: coverage = ecl / gross_carrying_amount; 0 when both are 0, null when only the gross carrying amount is 0.",
  scenario_weight:
    "methodology §8: w_s, the scenario's probability weight from the rules file (scenarios[].weight); the weights sum to 1 (IFRS 9 §5.5.17(a), B5.5.42).",
  scenario_ecl:
    "methodology §8: ECL_s, the model ECL under scenario s alone, before overlays, summed over facilities in the reporting currency; Σ_s w_s · ECL_s = ecl_model.",
  overlay_impact:
    "methodology §8 (overlays): the change this post-model adjustment made to the ECL, in the reporting currency, summed from the facilities' overlay_impacts.",
  overlay_floor:
    "methodology §8: what the floor at 0 after all overlays added back, in the reporting currency.",
} as const;

/** What each stage means (methodology §3, §8; IFRS 9; the IFRS 7 §35H column). */
export const STAGE_MEANING: Record<string, string> = {
  "1":
    "Stage 1: no significant increase in credit risk since initial recognition; 12-month ECL (IFRS 9 §5.5.5; methodology §3, §8); IFRS 7 §35H(a).",
  "2":
    "Stage 2: significant increase in credit risk, not credit-impaired; lifetime ECL (IFRS 9 §5.5.3, §5.5.9-§5.5.11; methodology §3 rules 3-6, §8); IFRS 7 §35H(b)(i).",
  "3":
    "Stage 3: credit-impaired, in default (default_flag or days past due ≥ staging.dpd_default; IFRS 9 Appendix A, B5.5.37); lifetime ECL = LGD[s,1] · EAD[1] (methodology §8); IFRS 7 §35H(b)(ii).",
};

/** The data-quality figures' definitions (methodology §1). */
export const DATA_QUALITY_DEFINITIONS = {
  rows_read:
    "methodology §1: data rows read from the portfolio file (header not counted).",
  rows_valid:
    "methodology §1: rows that broke no rule, the rows the engine computes.",
  rows_rejected:
    "methodology §1: rows that broke at least one rule, each counted once, kept in rejected.parquet with every rule they broke (no row is dropped silently).",
  reject_rate:
    "rows_rejected / rows_read (0 for an empty file); the run fails when it is above validation.max_reject_rate.",
  max_reject_rate: "The rules file's validation.max_reject_rate, as a share.",
} as const;

/** A number as JSON can carry it: a non-finite one becomes null. */
function finite(v: unknown): number | null {
  const n = typeof v === "bigint" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** A value from a Polars record as plain JSON: dates as `YYYY-MM-DD`. */
function plain(v: unknown): unknown {
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
  }
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [
        k,
        plain(x),
      ]),
    );
  }
  return v;
}

/** The first row of a frame as a plain JSON object. */
function firstRecord(df: DataFrame): Record<string, unknown> {
  return plain(df.head(1).toRecords()[0]) as Record<string, unknown>;
}

/** The source block of a run, from its folder and manifest. */
export function runSource(dir: string, manifest: Manifest): Source {
  const ref = (r: { path?: string; sha256?: string } | undefined) => ({
    path: r?.path ?? "",
    sha256: r?.sha256 ?? "",
  });
  return {
    run_id: manifest.run_id,
    run_folder: dir,
    manifest: RUN_FILES.manifest,
    status: manifest.status,
    reporting_date: manifest.reporting_date ?? null,
    inputs: {
      portfolio: ref(manifest.inputs?.portfolio),
      rules: ref(manifest.inputs?.rules),
      fx: ref(manifest.inputs?.fx),
    },
    methodology_version: manifest.methodology_version ?? null,
    code_version: manifest.code_version ?? "",
  };
}

function check(
  what: string,
  recomputed: number,
  recorded: number,
  tolerance = CENT_TOLERANCE,
): Check {
  const difference = recomputed - recorded;
  return {
    check: what,
    recomputed,
    recorded,
    difference,
    agrees: Math.abs(difference) <= tolerance,
  };
}

/** The figures of one group of facilities (a stage, or the whole book). */
function groupFigures(
  g: Omit<Group, "key"> & { ecl_model?: number },
  currency: string,
  source: Source,
) {
  const money = (v: number, definition: string): Figure => ({
    value: finite(v),
    unit: currency,
    definition,
    source,
  });
  return {
    count: {
      value: g.count,
      unit: "facilities",
      definition: DEFINITIONS.count,
      source,
    } as Figure,
    gross_carrying_amount: money(
      g.gross_carrying_amount,
      DEFINITIONS.gross_carrying_amount,
    ),
    ead: money(g.ead, DEFINITIONS.ead),
    ...(g.ecl_model === undefined
      ? {}
      : { ecl_model: money(g.ecl_model, DEFINITIONS.ecl_model) }),
    ecl: money(g.ecl, DEFINITIONS.ecl),
    loss_allowance: money(g.loss_allowance, DEFINITIONS.loss_allowance),
    provision: money(g.provision, DEFINITIONS.provision),
    coverage: {
      value: finite(g.coverage),
      unit: "ratio",
      definition: DEFINITIONS.coverage,
      source,
    } as Figure,
  };
}

/** Reads a run folder's manifest with its checks, naming the folder. */
async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await locate(dir).readText(RUN_FILES.manifest);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(
        "input",
        `run_id: the run folder ${dir} has no ${RUN_FILES.manifest}`,
      );
    }
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "input",
      `run_id: ${dir}/${RUN_FILES.manifest} is not valid JSON (${
        (e as Error).message
      })`,
    );
  }
  const problems = manifestProblems(value);
  if (problems.length > 0) {
    throw new UserError(
      "input",
      `run_id: ${dir}/${RUN_FILES.manifest}: ${problems.join("; ")}`,
    );
  }
  return upgradeManifest(value as Manifest);
}

/**
 * A complete run's totals, by stage, by scenario and the overlays, each
 * figure with its workings, and checks that the parts add up to the
 * totals (to the cent).
 *
 * @param dir A complete run folder (read with `trusted`: a failed or
 *   partial run is refused, naming why).
 */
export async function summaryWorkings(dir: string) {
  const run = await readRunFolder(dir, { trusted: true });
  const manifest = run.manifest!;
  const source = runSource(run.dir, manifest);
  const s = run.summary;
  const cur = s.reporting_currency;
  const money = (v: number, definition: string): Figure => ({
    value: finite(v),
    unit: cur,
    definition,
    source,
  });
  const byStage = s.by_stage.map((g) => ({
    stage: g.key,
    meaning: STAGE_MEANING[g.key] ?? `Stage ${g.key}`,
    ...groupFigures(g, cur, source),
  }));
  const weighted = s.scenarios.reduce((t, x) => t + x.weight * x.ecl, 0);
  const overlays = (s.overlays ?? []).map((o) => ({
    name: o.name,
    reason: o.reason,
    ...(o.multiplier === undefined ? {} : { multiplier: o.multiplier }),
    ...(o.add === undefined ? {} : { add: o.add }),
    facilities: o.facilities,
    floored_facilities: o.floored_facilities,
    ecl_impact: money(
      o.ecl_impact,
      `${DEFINITIONS.overlay_impact} Overlay ${o.name}: ${o.reason}`,
    ),
  }));
  const floor = s.overlay_floor ?? { facilities: 0, ecl_impact: 0 };
  const checks: Check[] = [
    check(
      "Σ over stages of ecl = totals.ecl (to the cent)",
      s.by_stage.reduce((t, g) => t + g.ecl, 0),
      s.totals.ecl,
    ),
    check(
      "Σ_s w_s · ECL_s = totals.ecl_model (methodology §8; to the cent)",
      weighted,
      s.totals.ecl_model,
    ),
    check(
      "ecl_model + Σ overlay impacts + floor = totals.ecl (methodology §8; to the cent)",
      s.totals.ecl_model +
        (s.overlays ?? []).reduce((t, o) => t + o.ecl_impact, 0) +
        floor.ecl_impact,
      s.totals.ecl,
    ),
  ];
  return {
    run_id: s.run_id,
    reporting_date: s.reporting_date,
    reporting_currency: cur,
    fx: {
      file: s.fx.file,
      sha256: s.fx.sha256,
      as_of: s.fx.as_of,
      base: s.fx.base,
    },
    source,
    totals: groupFigures(s.totals, cur, source),
    by_stage: byStage,
    scenarios: s.scenarios.map((x) => ({
      name: x.name,
      weight: {
        value: x.weight,
        unit: "probability",
        definition: DEFINITIONS.scenario_weight,
        source,
      } as Figure,
      ecl: money(x.ecl, DEFINITIONS.scenario_ecl),
    })),
    overlays,
    overlay_floor: {
      facilities: floor.facilities,
      ecl_impact: money(floor.ecl_impact, DEFINITIONS.overlay_floor),
    },
    checks,
    warnings: manifest.warnings,
  };
}

/** What {@link summaryWorkings} returns. */
export type SummaryWorkings = Awaited<ReturnType<typeof summaryWorkings>>;

/**
 * The essentials of a run's `data_quality.json`: rows read, valid and
 * rejected, the reject rate against its limit, and every rule that failed
 * a row with its examples. A failed run's folder (`<id>.failed`) is read
 * too: a run refused for its reject rate keeps its data-quality report.
 *
 * @param dir The run folder (complete or failed).
 */
export async function dataQualityWorkings(dir: string) {
  const manifest = await readManifest(dir);
  const source = runSource(dir, manifest);
  let dq: DataQualityReport;
  try {
    dq = JSON.parse(await locate(dir).readText(RUN_FILES.dataQuality));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(
        "input",
        `run_id: run ${manifest.run_id} has no ${RUN_FILES.dataQuality} (it failed before validation${
          manifest.error ? `: ${manifest.error.split("\n")[0]}` : ""
        })`,
      );
    }
    if (e instanceof SyntaxError) {
      throw new UserError(
        "input",
        `run_id: ${dir}/${RUN_FILES.dataQuality} is not valid JSON (${e.message})`,
      );
    }
    throw e;
  }
  const fig = (value: number, unit: string, definition: string): Figure => ({
    value: finite(value),
    unit,
    definition,
    source,
  });
  const rules = dq.rules ?? [];
  return {
    run_id: manifest.run_id,
    file: dq.file,
    reporting_date: dq.reporting_date,
    source,
    rows_read: fig(dq.rows_read, "rows", DATA_QUALITY_DEFINITIONS.rows_read),
    rows_valid: fig(dq.rows_valid, "rows", DATA_QUALITY_DEFINITIONS.rows_valid),
    rows_rejected: fig(
      dq.rows_rejected,
      "rows",
      DATA_QUALITY_DEFINITIONS.rows_rejected,
    ),
    reject_rate: fig(
      dq.reject_rate,
      "ratio",
      DATA_QUALITY_DEFINITIONS.reject_rate,
    ),
    max_reject_rate: fig(
      dq.max_reject_rate,
      "ratio",
      DATA_QUALITY_DEFINITIONS.max_reject_rate,
    ),
    passed: dq.passed,
    rules_checked: rules.length,
    failing_rules: rules.filter((r) => r.rows_failed > 0).map((r) => ({
      code: r.code,
      description: r.description,
      rows_checked: r.rows_checked,
      rows_failed: r.rows_failed,
      examples: r.examples,
    })),
    warnings: dq.warnings ?? [],
  };
}

/** What {@link dataQualityWorkings} returns. */
export type DataQualityWorkings = Awaited<
  ReturnType<typeof dataQualityWorkings>
>;

/** Whether an input file still has the bytes a run hashed. */
export interface InputCheck {
  /** The path the run recorded. */
  path: string;
  /** SHA-256 the manifest recorded. */
  recorded: string;
  /** SHA-256 of the file now; null when it cannot be read (`note` says why). */
  now: string | null;
  /** Whether the file is unchanged. */
  same: boolean;
  /** Why the file could not be hashed. */
  note?: string;
}

/** Computes a file's SHA-256, as lowercase hex. */
export type FileHasher = (path: string) => Promise<string>;

/**
 * One remembered hash: the file as it was when hashed (size, modification
 * and change times, inode and device) and its SHA-256.
 */
export interface HashCacheEntry {
  /** The path hashed, as given. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** Its modification time, milliseconds since the epoch. */
  mtimeMs: number;
  /** Its status-change time (ctime), milliseconds; -1 where the system has none. */
  ctimeMs: number;
  /** Its inode number (-1 where the system has none). */
  ino: number;
  /** The device it is on. */
  dev: number;
  /** Its SHA-256, lowercase hex. */
  sha256: string;
}

/** A {@link FileHasher} that remembers (see {@link createHashCache}). */
export interface HashCache {
  /** The file's SHA-256: remembered while the file is unchanged, else read. */
  hashFile: FileHasher;
  /** What it remembers, oldest first (to hand to another thread). */
  entries(): HashCacheEntry[];
  /** Remembers hashes made elsewhere (another thread's {@link entries}). */
  add(entries: readonly HashCacheEntry[]): void;
  /** Files read and hashed so far (the calls the cache did not answer). */
  filesHashed(): number;
}

/** Options of {@link createHashCache}. */
export interface HashCacheOptions {
  /** Reads and hashes a file. @default sha256File */
  hash?: FileHasher;
  /** Hashes remembered at most; the least recently used go first. @default 256 */
  maxEntries?: number;
}

/** The identity of a file now, or null when it cannot be told (no mtime). */
async function fileIdentity(
  path: string,
): Promise<Omit<HashCacheEntry, "path" | "sha256"> | null> {
  const info = await Deno.stat(path);
  if (!info.isFile || info.mtime === null) return null;
  return {
    size: info.size,
    mtimeMs: info.mtime.getTime(),
    ctimeMs: info.ctime?.getTime() ?? -1,
    ino: info.ino ?? -1,
    dev: info.dev,
  };
}

function sameIdentity(
  a: Omit<HashCacheEntry, "path" | "sha256">,
  b: Omit<HashCacheEntry, "path" | "sha256">,
): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/**
 * A hasher that remembers each file's SHA-256 by its path, size,
 * modification and change times, inode and device, so explaining a second
 * facility of a run does not read a 100 MB portfolio again: a file
 * rewritten, replaced (another inode) or touched is read afresh; a file
 * that changes while it is hashed is not remembered. (Times are in
 * milliseconds: a rewrite to the same size within the same millisecond as
 * the hash, on the same inode, is not noticed.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHashCache } from "./workings.ts";
 *
 * let reads = 0;
 * const cache = createHashCache({ hash: async () => `h${++reads}` });
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * assert.equal(await cache.hashFile(path), "h1");
 * assert.equal(await cache.hashFile(path), "h1"); // not read again
 * await Deno.writeTextFile(path, "abcd");
 * assert.equal(await cache.hashFile(path), "h2"); // changed: read again
 * assert.equal(cache.filesHashed(), 2);
 * await Deno.remove(path);
 * ```
 */
export function createHashCache(options: HashCacheOptions = {}): HashCache {
  const hash = options.hash ?? sha256File;
  const max = options.maxEntries ?? 256;
  const remembered = new Map<string, HashCacheEntry>();
  let hashed = 0;
  const remember = (entry: HashCacheEntry) => {
    remembered.delete(entry.path);
    remembered.set(entry.path, entry);
    while (remembered.size > max) {
      remembered.delete(remembered.keys().next().value!);
    }
  };
  return {
    async hashFile(path) {
      const before = await fileIdentity(path);
      const known = remembered.get(path);
      if (before !== null && known !== undefined) {
        if (sameIdentity(before, known)) {
          remember(known); // most recently used
          return known.sha256;
        }
        remembered.delete(path);
      }
      hashed++;
      const sha256 = await hash(path);
      if (before === null) return sha256;
      const after = await fileIdentity(path);
      if (after !== null && sameIdentity(before, after)) {
        remember({ path, ...before, sha256 });
      }
      return sha256;
    },
    entries: () => [...remembered.values()],
    add(entries) {
      for (const e of entries) remember(e);
    },
    filesHashed: () => hashed,
  };
}

/** The hashes {@link explainFacility} remembers when given no hasher. */
const sharedHashCache = createHashCache();

async function inputCheck(
  ref: { path: string; sha256: string },
  hashFile: FileHasher,
): Promise<InputCheck> {
  const base = { path: ref.path, recorded: ref.sha256 };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(ref.path)) {
    return {
      ...base,
      now: null,
      same: false,
      note: "not a local file; not hashed again",
    };
  }
  try {
    const now = await hashFile(ref.path);
    return { ...base, now, same: now === ref.sha256 };
  } catch (e) {
    return {
      ...base,
      now: null,
      same: false,
      note: e instanceof Deno.errors.NotFound
        ? "the file no longer exists"
        : `cannot be read (${(e as Error).message})`,
    };
  }
}

/** Options of {@link explainFacility}. */
export interface ExplainOptions {
  /**
   * Months of the projection to list (the totals use every month).
   * @default every month of the remaining term
   */
  maxPeriods?: number;
  /**
   * Hashes the run's input files, to tell whether they changed since the
   * run. @default a {@link createHashCache} shared by every call in this
   * thread
   */
  hashFile?: FileHasher;
}

/** Per-scenario working of one facility. */
interface ScenarioWorking {
  name: string;
  weight: Figure;
  ecl_12m: Figure;
  ecl_lifetime: Figure;
  ecl: Figure;
  pd_lifetime: Figure;
  lgd_month_1: Figure;
  check: Check;
}

/**
 * One facility of a run explained: its inputs, stage and triggers, PD,
 * LGD and EAD, the month-by-month projection, the per-scenario ECL and the
 * weighted ECL recomputed from those months, the overlays the run applied,
 * and whether the recomputed ECL equals the run's `ecl` to the cent.
 *
 * @param dir A complete run folder.
 * @param loanId The facility's `loan_id` (as the run's results hold it, trimmed).
 * @throws {UserError} `loan_id: ...` when the run did not compute it
 *   (naming the validation rules it broke when it was rejected).
 */
export async function explainFacility(
  dir: string,
  loanId: string,
  opts: ExplainOptions = {},
) {
  const run = await readRunFolder(dir, { trusted: true });
  const manifest = run.manifest!;
  const source = runSource(run.dir, manifest);
  const plugins = manifest.plugins ?? [];
  if (plugins.length > 0) {
    // The explanation restages and reprojects the facility from the rules
    // alone; a plugin's hooks (a watchlist trigger, an overlay) would be
    // missing, and the figures would not be the run's.
    throw new UserError(
      "input",
      `run_id: run ${manifest.run_id} used plugins (${
        plugins.map((p) => p.name).join(", ")
      }), whose hooks a facility explanation does not replay yet; read the facility's row with run_summary or the run's loan_results.parquet instead`,
    );
  }
  const rows = await run.results.filter(
    pl.col(COL.loanId).eq(pl.lit(loanId)),
  ).collect();
  if (rows.height === 0) {
    throw new UserError(
      "input",
      `loan_id: ${loanId} ${await whyNotComputed(run.dir, loanId, manifest)}`,
    );
  }
  const row = firstRecord(rows);
  const currency = String(row.currency);
  const reportingCurrency = run.summary.reporting_currency;
  const stage = Number(row.stage);
  const warnings: string[] = [...manifest.warnings];
  const fig = (
    value: unknown,
    unit: string,
    definition: string,
  ): Figure => ({ value: finite(value), unit, definition, source });
  const money = (value: unknown, definition: string) =>
    fig(value, currency, definition);

  // The run's own scenarios and weights (summary.json records them as
  // used), so the weighting is explained even when the rules file changed.
  const scenarios = run.summary.scenarios.map((s) => ({
    name: s.name,
    weight: s.weight,
  }));

  const hashFile = opts.hashFile ?? sharedHashCache.hashFile;
  const inputs = {
    portfolio: await inputCheck(source.inputs.portfolio, hashFile),
    rules: await inputCheck(source.inputs.rules, hashFile),
    fx: await inputCheck(source.inputs.fx, hashFile),
  };
  for (const [name, c] of Object.entries(inputs)) {
    if (!c.same) {
      warnings.push(
        `The ${name} file ${c.path} ${
          c.note ??
            `changed since the run (SHA-256 now ${c.now}, the run read ${c.recorded})`
        }${
          name === "fx"
            ? ": the facility's fx_rate below is the run's own"
            : ": the projection is left out rather than explained with other inputs than the run's"
        }.`,
      );
    }
  }
  const canProject = inputs.rules.same && inputs.portfolio.same;

  let rules: Rules | null = null;
  let inputRow: Record<string, unknown> | null = null;
  let staged: DataFrame | null = null;
  if (canProject) {
    rules = await loadRules(source.inputs.rules.path);
    const raw = scanPortfolio(source.inputs.portfolio.path).filter(
      pl.col(COL.loanId).cast(pl.Utf8).str.strip().eq(pl.lit(loanId)),
    );
    const { valid } = await validatePortfolio(raw, rules, {
      file: source.inputs.portfolio.path,
      ...(manifest.reporting_date
        ? { reportingDate: manifest.reporting_date }
        : {}),
    });
    if (valid.height === 1) {
      inputRow = firstRecord(valid);
      staged = await stageFacilities(valid.lazy(), rules).collect();
    } else {
      warnings.push(
        `The portfolio has ${valid.height} valid rows with loan_id ${loanId} when read again; the projection is left out.`,
      );
    }
  }

  const product = String(row.product);
  const segment = String(row.segment ?? product);
  const approach = (run.summary.simplified_products ?? []).includes(product)
    ? "simplified"
    : rules?.products[product]?.approach ?? "general";

  // Stage and its triggers (methodology §3).
  const stageWorking = {
    value: stage,
    reason: row.stage_reason,
    triggers: row.stage_triggers,
    meaning: approach === "simplified"
      ? `${
        stage === 3 ? "Credit-impaired" : "Not credit-impaired"
      }; product ${product} is on the simplified approach: lifetime ECL at all times, without assessing significant increases in credit risk (IFRS 9 §5.5.15, B5.5.35; docs/simplified_approach.md); IFRS 7 §35H(b)(iii).`
      : STAGE_MEANING[String(stage)] ?? `Stage ${stage}`,
    definition:
      "methodology §3: the first rule that holds, in order DEFAULT_FLAG (3), DPD_90: days_past_due ≥ staging.dpd_default (3; IFRS 9 B5.5.37), DPD_30: days_past_due > staging.dpd_sicr (2; IFRS 9 §5.5.11), WATCHLIST (2), FORBORNE (2), PD_SICR (2: p1 > low_credit_risk_pd and p1/p0 ≥ pd_relative_threshold and p1 − p0 ≥ pd_absolute_threshold; IFRS 9 §5.5.9-§5.5.10), else PERFORMING (1); stage_triggers lists every rule that holds.",
    drivers: inputRow
      ? {
        days_past_due: inputRow.days_past_due,
        default_flag: inputRow.default_flag ?? false,
        watchlist: inputRow.watchlist ?? false,
        forborne: inputRow.forborne ?? false,
        previous_stage: inputRow.previous_stage ?? null,
        pd_12m_origination: inputRow.pd_12m_origination,
        pd_12m_current: inputRow.pd_12m_current,
        pd_ratio: finite(
          Number(inputRow.pd_12m_current) /
            Number(inputRow.pd_12m_origination),
        ),
        pd_increase: finite(
          Number(inputRow.pd_12m_current) -
            Number(inputRow.pd_12m_origination),
        ),
      }
      : null,
    thresholds: rules?.staging ?? null,
    recomputed_stage: staged ? Number(staged.getColumn("stage").get(0)) : null,
  };
  if (
    stageWorking.recomputed_stage !== null &&
    stageWorking.recomputed_stage !== stage
  ) {
    warnings.push(
      `Staging the input row again gives stage ${stageWorking.recomputed_stage}, the run recorded ${stage}.`,
    );
  }

  const recordedScenario = (name: string) =>
    finite(row[scenarioEclColumn(name)]) ?? NaN;
  const impacts = ((row.overlays_applied as string[] | null) ?? []).map((
    name,
    i,
  ) => ({
    name,
    impact: money(
      ((row.overlay_impacts as number[] | null) ?? [])[i] ?? 0,
      `${DEFINITIONS.overlay_impact} This facility's share, as the run recorded it (an add overlay is allocated over its whole population, so it is not recomputed from one facility).`,
    ),
  }));
  const overlayTotal = impacts.reduce((t, o) => t + (o.impact.value ?? 0), 0);
  const floor = finite(row.overlay_floor) ?? 0;
  const recordedEcl = finite(row.ecl) ?? NaN;

  let projection = null;
  let perScenario: ScenarioWorking[] = [];
  let simplified = null;
  let eclModel: number;
  let checks: Check[] = [];
  let note: string;

  if (staged && rules && approach === "simplified") {
    const rate = Number(
      (await staged.lazy().select(
        provisionLossRateExpr(rules).alias("loss_rate"),
      ).collect()).getColumn("loss_rate").get(0),
    );
    const ead = finite(row.ead) ?? NaN;
    eclModel = ead * rate;
    simplified = {
      loss_rate: fig(
        rate,
        "ratio",
        "docs/simplified_approach.md: the provision matrix's loss rate of the facility's days-past-due bucket, or credit_impaired_loss_rate in stage 3 (IFRS 9 §5.5.15, B5.5.35).",
      ),
      ecl: money(
        eclModel,
        "docs/simplified_approach.md: lifetime ECL = EAD · loss rate (IFRS 9 §5.5.15); no SICR test and no monthly projection.",
      ),
    };
    note =
      "Simplified approach: no monthly projection (docs/simplified_approach.md).";
  } else if (staged && rules) {
    const months = await projectFacility(staged, rules);
    const m = months.height;
    const col = (name: string) => months.getColumn(name).toArray() as number[];
    const ead = col("ead");
    const df = col("df");
    const byScenario = scenarios.map((s) => ({
      ...s,
      survival: col(`survival_${s.name}`),
      mpd: col(`marginal_pd_${s.name}`),
      lgd: col(`lgd_${s.name}`),
    }));
    const contribution = (s: typeof byScenario[number], t: number) =>
      s.mpd[t] * s.lgd[t] * ead[t] * df[t];
    perScenario = byScenario.map((s) => {
      let e12 = 0, elt = 0;
      for (let t = 0; t < m; t++) {
        const c = contribution(s, t);
        elt += c;
        if (t < 12) e12 += c;
      }
      const stage3 = s.lgd[0] * ead[0];
      const ecl = stage === 3 ? stage3 : stage === 2 ? elt : e12;
      return {
        name: s.name,
        weight: fig(s.weight, "probability", DEFINITIONS.scenario_weight),
        ecl_12m: money(
          stage === 3 ? stage3 : e12,
          "methodology §8: ECL12_s = Σ_{t=1..min(12,m)} mpd[s,t] · LGD[s,t] · EAD[t] · DF[t], the sum of the first 12 months' ecl_contribution below (stage 3: LGD[s,1] · EAD[1]).",
        ),
        ecl_lifetime: money(
          stage === 3 ? stage3 : elt,
          "methodology §8: ECLLT_s = Σ_{t=1..m} mpd[s,t] · LGD[s,t] · EAD[t] · DF[t], the sum of every month's ecl_contribution below (stage 3: LGD[s,1] · EAD[1]).",
        ),
        ecl: money(
          ecl,
          `methodology §8: ECL_s by stage: stage 1 ECL12_s (IFRS 9 §5.5.5), stage 2 ECLLT_s (IFRS 9 §5.5.3), stage 3 LGD[s,1] · EAD[1] (default has happened: PD = 1, no discounting); this facility is in stage ${stage}.`,
        ),
        pd_lifetime: fig(
          1 - s.survival[m - 1],
          "probability",
          "methodology §4: 1 − S[s,m], the probability of default over the remaining term under this scenario.",
        ),
        lgd_month_1: fig(
          s.lgd[0],
          "share of EAD",
          "methodology §6: LGD[s,1] = max(lgd_floor, (EAD[1] − recovery[s,1]) · lgd_unsecured / EAD[1]).",
        ),
        check: check(
          `ECL_s recomputed from the months = the run's ${
            scenarioEclColumn(s.name)
          } (to the cent)`,
          ecl,
          recordedScenario(s.name),
        ),
      };
    });
    eclModel = perScenario.reduce(
      (t, s) => t + (s.weight.value ?? 0) * (s.ecl.value ?? 0),
      0,
    );
    const shown = Math.min(m, opts.maxPeriods ?? m);
    projection = {
      definition:
        "methodology §4-§7, month t = 1..m: ead = EAD[t] (§5, start of month), df = DF[t] = (1 + r)^(−t) at the effective interest rate r = interest_rate / 12 (§7; IFRS 9 B5.5.44); per scenario survival = S[s,t], marginal_pd = mpd[s,t] = S[s,t−1] − S[s,t] (§4), lgd = LGD[s,t] (§6), ecl_contribution = mpd · LGD · EAD · DF (§8).",
      months: m,
      months_shown: shown,
      periods: Array.from({ length: shown }, (_, t) => ({
        t: t + 1,
        ead: ead[t],
        df: df[t],
        scenarios: Object.fromEntries(byScenario.map((s) => [s.name, {
          survival: s.survival[t],
          marginal_pd: s.mpd[t],
          lgd: s.lgd[t],
          ecl_contribution: contribution(s, t),
        }])),
      })),
    };
    note = shown < m
      ? `The projection lists the first ${shown} of ${m} months; the ECL figures use all ${m}.`
      : `The projection lists all ${m} months.`;
  } else {
    // No projection with other inputs than the run's: the weighting is
    // still shown from the run's own per-scenario figures.
    eclModel = scenarios.reduce(
      (t, s) => t + s.weight * recordedScenario(s.name),
      0,
    );
    perScenario = scenarios.map((s) => ({
      name: s.name,
      weight: fig(s.weight, "probability", DEFINITIONS.scenario_weight),
      ecl_12m: fig(null, currency, "not recomputed (see warnings)"),
      ecl_lifetime: fig(null, currency, "not recomputed (see warnings)"),
      ecl: money(
        recordedScenario(s.name),
        `methodology §8: ECL_s as the run recorded it (${
          scenarioEclColumn(s.name)
        }); not recomputed, see warnings.`,
      ),
      pd_lifetime: fig(null, "probability", "not recomputed (see warnings)"),
      lgd_month_1: fig(null, "share of EAD", "not recomputed (see warnings)"),
      check: check(
        "not recomputed: the run's own figure",
        recordedScenario(s.name),
        recordedScenario(s.name),
      ),
    }));
    note =
      "The projection is left out: the run's inputs cannot be read as they were (see warnings).";
  }

  const recomputedEcl = eclModel + overlayTotal + floor;
  checks = [
    ...perScenario.filter((s) => s.ecl_12m.value !== null).map((s) => s.check),
    check(
      "ecl_model = Σ_s w_s · ECL_s = the run's ecl_model (methodology §8; to the cent)",
      eclModel,
      finite(row.ecl_model) ?? NaN,
    ),
    check(
      "ecl = ecl_model + Σ overlay impacts + floor = the run's ecl (methodology §8; to the cent)",
      recomputedEcl,
      recordedEcl,
    ),
  ];
  const agrees = checks.every((c) => c.agrees);
  const eclCheck = checks[checks.length - 1];

  const segmentParameters = rules ? segmentRules(rules, segment) : null;
  return {
    run_id: manifest.run_id,
    loan_id: loanId,
    source,
    input_files: inputs,
    currency,
    reporting_currency: reportingCurrency,
    inputs: {
      loan_results_row: row,
      input_row: inputRow,
      parameters: rules
        ? {
          product: { name: product, ...rules.products[product] },
          segment: { name: segment, ...segmentParameters },
          scenario_adjustment: rules.scenario_adjustment,
          scenario_reversion_years: rules.scenario_reversion_years ?? null,
          scenarios: rules.scenarios,
        }
        : null,
    },
    stage: stageWorking,
    remaining_term_months: fig(
      row.remaining_term_months,
      "months",
      "methodology §2: m, the smallest k ≥ 1 with addMonths(reporting_date, k) ≥ maturity_date (end-of-month convention); revolving products: behavioural_life_months (IFRS 9 §5.5.19-§5.5.20).",
    ),
    pd_12m: fig(
      row.pd_12m,
      "probability",
      "methodology §9: p1 = pd_12m_current, the 12-month PD at the reporting date (methodology §1).",
    ),
    pd_lifetime: fig(
      row.pd_lifetime,
      "probability",
      "methodology §9: Σ_s w_s · (1 − S[s,m]), the probability-weighted lifetime PD (§4).",
    ),
    lgd: fig(
      row.lgd,
      "share of EAD",
      "methodology §9: Σ_s w_s · LGD[s,1], the probability-weighted LGD of month 1 (§6).",
    ),
    ead: money(
      row.ead,
      "methodology §5, §9: EAD[1], the exposure at the start of month 1 in the facility's currency.",
    ),
    projection,
    simplified,
    scenarios: perScenario,
    ecl_model: money(
      eclModel,
      "methodology §8: ecl_model = Σ_s w_s · ECL_s, recomputed from the scenarios above (IFRS 9 §5.5.17(a)).",
    ),
    overlays: {
      applied: impacts,
      floor: money(floor, DEFINITIONS.overlay_floor),
    },
    ecl: money(
      recomputedEcl,
      "methodology §8: ecl = ecl_model + Σ overlay impacts + floor at 0, in the facility's currency.",
    ),
    ecl_rc: fig(
      (finite(row.fx_rate) ?? NaN) * recomputedEcl,
      reportingCurrency,
      `ecl · fx_rate (${row.fx_rate} ${reportingCurrency} per ${currency}, the run's FX table; IAS 21 §23): what this facility adds to the run's total ECL.`,
    ),
    checks,
    ecl_check: {
      recomputed: recomputedEcl,
      recorded: recordedEcl,
      difference: eclCheck.difference,
      agrees_to_the_cent: eclCheck.agrees,
      message: eclCheck.agrees
        ? `The recomputed ECL ${
          recomputedEcl.toFixed(2)
        } ${currency} equals the run's ecl ${
          recordedEcl.toFixed(2)
        } ${currency} to the cent.`
        : `The recomputed ECL ${
          recomputedEcl.toFixed(2)
        } ${currency} does NOT equal the run's ecl ${
          recordedEcl.toFixed(2)
        } ${currency} to the cent (difference ${
          eclCheck.difference.toFixed(6)
        }).`,
    },
    all_checks_agree: agrees,
    note,
    warnings,
  };
}

/** What {@link explainFacility} returns. */
export type FacilityExplanation = Awaited<ReturnType<typeof explainFacility>>;

/** Why a run has no result row for `loanId`: rejected (with codes), or absent. */
async function whyNotComputed(
  dir: string,
  loanId: string,
  manifest: Manifest,
): Promise<string> {
  try {
    const rejected = await pl.scanParquet(
      locate(dir).scanSource(RUN_FILES.rejected),
    ).filter(
      pl.col(COL.loanId).cast(pl.Utf8).str.strip().eq(pl.lit(loanId)),
    ).collect();
    if (rejected.height > 0) {
      const codes = rejected.columns.includes("rejection_codes")
        ? firstRecord(rejected.select("rejection_codes")).rejection_codes
        : null;
      return `was rejected by validation in run ${manifest.run_id}, so it has no ECL: it broke ${
        Array.isArray(codes) ? codes.join(", ") : "rules not recorded"
      } (data_quality tells what each rule checks)`;
    }
  } catch {
    // No readable rejected.parquet: say only that the loan is not there.
  }
  return `is not a facility of run ${manifest.run_id} (${manifest.rows.computed} facilities computed; loan ids are matched exactly, trimmed)`;
}
