/**
 * The prior-period comparison of a run report: which run it is compared
 * with, and the change in ECL, coverage and stage mix, by stage, since
 * that run's reporting date (IFRS 7 §35H asks for the movement of the
 * allowance; this is its summary view, the full reconciliation being
 * `deno task movement`).
 *
 * The previous run is either given (`renderRunReport(run, { compare })`,
 * `deno task run --compare RUN_DIR`) or found. A run found is **the
 * latest complete run of the same book beside this one**:
 *
 * - beside: a folder in the same parent folder as this run folder (a
 *   hidden staging folder `.…partial-…` or a `….failed` folder is not a
 *   run);
 * - complete: its `manifest.json` says `status: complete`, and it has
 *   facilities (a run with none would show the whole book as new);
 * - of the same book: its portfolio file is in the same folder as this
 *   run's and has the same name once dates (`2025-12-31`, `20251231`), the
 *   extension and the separators around them are taken out
 *   ({@link bookName}: `data/sample/portfolio_2025-09-30.parquet` and
 *   `data/sample/portfolio_2025-12-31.parquet` are the book `portfolio`
 *   of `data/sample`), and it reports in the same currency;
 * - under the same method: the same rules file (its SHA-256) and the same
 *   methodology version, so that the change shown is the period's and not
 *   a change of model (IAS 8 would want that shown on its own);
 * - latest: of those with a reporting date before this run's, the one
 *   with the latest reporting date (of two runs of that date, the one that
 *   finished last).
 *
 * A run given is used whatever its portfolio's name, but it must be a
 * complete run (`readRunSummary` with `trusted`: not a failed or hidden
 * staging folder, with a manifest saying `complete`, facilities and a
 * reporting date), report in the same currency and at an earlier date.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { basename, dirname, resolve } from "node:path";
import {
  type AmountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  formatPointChange,
  unitLabel,
} from "../format.ts";
import {
  cards,
  type Column,
  type Markup,
  markup,
  noBreak,
  note,
  section,
  table,
} from "../page.ts";
import {
  FAILED_SUFFIX,
  type Group,
  locate,
  type Location,
  type Manifest,
  manifestProblems,
  parentAndName,
  readRunSummary,
  RUN_FILES,
  stageOfKey,
  type Summary,
  upgradeManifest,
} from "../run_folder/mod.ts";

/** The run a report is compared with. */
export interface PreviousRun {
  /** Its folder. */
  dir: string;
  /** Its `summary.json`. */
  summary: Summary;
  /** Given by the caller, or found beside the run (see the module doc). */
  how: "given" | "found";
}

/** Thrown when the run given to compare with cannot be compared. */
export class ComparisonError extends UserError {
  /**
   * The error.
   *
   * @param message Which run cannot be compared, and why.
   */
  constructor(message: string) {
    super("input", message);
    this.name = "ComparisonError";
  }
}

/** A calendar date inside a file name: `2025-12-31`, `2025_12_31`, `20251231`. */
const DATE_IN_NAME =
  /(?:19|20)\d{2}[-_.]?(?:0[1-9]|1[0-2])[-_.]?(?:0[1-9]|[12]\d|3[01])/g;

/**
 * The book a portfolio file holds: its file name without extension, dates
 * and the separators left around them, so the snapshots of one book at
 * several dates share it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bookName } from "./compare.ts";
 *
 * assert.equal(bookName("data/sample/portfolio_2025-12-31.parquet"), "portfolio");
 * assert.equal(bookName("/in/2025/retail-20250930-spain.csv"), "retail-spain");
 * assert.notEqual(bookName("sme_2025-12-31.csv"), bookName("retail_2025-12-31.csv"));
 * ```
 */
export function bookName(portfolioPath: string): string {
  const file = basename(portfolioPath);
  const stem = file.includes(".") ? file.slice(0, file.lastIndexOf(".")) : file;
  return stem.replace(DATE_IN_NAME, "")
    .replace(/([-_. ])[-_. ]+/g, "$1")
    .replace(/^[-_. ]+|[-_. ]+$/g, "");
}

/** The manifest of a folder, or null when it has none that reads. */
async function manifestOf(folder: Location): Promise<Manifest | null> {
  let value: unknown;
  try {
    value = JSON.parse(await folder.readText(RUN_FILES.manifest));
  } catch {
    // Not a run folder (a movement folder, a folder being written): no
    // candidate.
    return null;
  }
  return manifestProblems(value).length === 0
    ? upgradeManifest(value as Manifest)
    : null;
}

/**
 * The latest complete run of the same book beside the run folder `dir`
 * with a reporting date before `summary`'s (see the module doc), or null.
 *
 * @param dir The run folder (it may still have its staging name).
 * @param summary Its summary.
 * @param manifest Its manifest: the portfolio, rules and methodology.
 */
export async function findPreviousRun(
  dir: string,
  summary: Summary,
  manifest: Manifest,
): Promise<PreviousRun | null> {
  const portfolio = manifest.inputs.portfolio.path;
  const book = bookName(portfolio);
  const sameBook = (m: Manifest) =>
    bookName(m.inputs.portfolio.path) === book &&
    dirname(resolve(m.inputs.portfolio.path)) ===
      dirname(resolve(portfolio)) &&
    m.inputs.rules.sha256 === manifest.inputs.rules.sha256 &&
    (m.methodology_version ?? 1) === (manifest.methodology_version ?? 1);
  const { parent, name } = parentAndName(dir);
  const candidates: { folder: Location; manifest: Manifest }[] = [];
  for (const entry of await parent.list()) {
    if (
      entry === name || entry.startsWith(".") || entry.endsWith(FAILED_SUFFIX)
    ) continue;
    const folder = parent.child(entry);
    const candidate = await manifestOf(folder);
    if (
      candidate?.status === "complete" &&
      candidate.reporting_date !== null &&
      candidate.reporting_date < summary.reporting_date &&
      sameBook(candidate)
    ) candidates.push({ folder, manifest: candidate });
  }
  // Latest reporting date first; of one date, the run finished last.
  candidates.sort((a, b) =>
    b.manifest.reporting_date!.localeCompare(a.manifest.reporting_date!) ||
    (b.manifest.finished_at ?? "").localeCompare(a.manifest.finished_at ?? "")
  );
  for (const { folder } of candidates) {
    const previous = await readRunSummary(folder);
    if (
      previous.reporting_currency === summary.reporting_currency &&
      previous.totals.count > 0
    ) {
      return { dir: folder.href, summary: previous, how: "found" };
    }
  }
  return null;
}

/**
 * The run folder given to compare with, read and checked.
 *
 * @throws {ComparisonError} When it reports in another currency or not
 *   before `summary`'s reporting date.
 * @throws {RunFolderReadError} When its summary.json cannot be read, or
 *   it is not a complete run with facilities and a reporting date.
 */
export async function readGivenRun(
  compare: string | Location,
  summary: Summary,
): Promise<PreviousRun> {
  const folder = locate(compare);
  const previous = await readRunSummary(folder, { trusted: true });
  const why = previous.reporting_currency !== summary.reporting_currency
    ? `it reports in ${previous.reporting_currency}, this run in ${summary.reporting_currency}`
    : previous.reporting_date >= summary.reporting_date
    ? `its reporting date ${previous.reporting_date} is not before this run's ${summary.reporting_date}`
    : null;
  if (why !== null) {
    throw new ComparisonError(
      `Cannot compare run ${summary.run_id} with ${folder.href}: ${why}`,
    );
  }
  return { dir: folder.href, summary: previous, how: "given" };
}

/** One row of the comparison tables: a stage or the total, at two dates. */
interface ComparedRow {
  label: string;
  before: Group | undefined;
  after: Group | undefined;
}

/** The stage groups and the total of a summary, keyed by row. */
function rows(previous: Summary, current: Summary): ComparedRow[] {
  const stage = (s: Summary, k: number) =>
    s.by_stage.find((g) => stageOfKey(g.key) === k);
  const total = (s: Summary): Group => ({ key: "Total", ...s.totals });
  return [
    ...[1, 2, 3].map((k) => ({
      label: `Stage ${k}`,
      before: stage(previous, k),
      after: stage(current, k),
    })),
    { label: "Total", before: total(previous), after: total(current) },
  ];
}

/** `a / b`, or null when there is nothing to divide by. */
const share = (a: number | undefined, b: number) => b > 0 ? (a ?? 0) / b : null;

/** The share of EAD in stages 2 and 3 (lifetime ECL, IFRS 9 §5.5.3). */
const atRisk = (s: Summary) =>
  share(
    s.by_stage.filter((g) => stageOfKey(g.key) >= 2)
      .reduce((a, g) => a + g.ead, 0),
    s.totals.ead,
  );

/** The difference of two ratios, or null when either is missing. */
const difference = (a: number | null, b: number | null) =>
  a === null || b === null ? null : a - b;

/**
 * The report's section comparing the run with the previous one: the
 * change of the ECL and the coverage, then the stage mix by number of
 * facilities and by EAD, each by stage and in total, with the date of
 * each column in its heading.
 */
export function comparisonSection(
  current: Summary,
  previous: PreviousRun,
  unit: AmountUnit,
): Markup {
  const p = previous.summary;
  const [from, to] = [p.reporting_date, current.reporting_date];
  const cur = unitLabel(current.reporting_currency, unit);
  const lines = rows(p, current);
  const ecl = (g: Group | undefined) => g?.ecl ?? 0;
  const coverage = (g: Group | undefined) => g?.coverage ?? null;
  const eclColumns: Column<ComparedRow>[] = [
    { label: "", value: (r) => r.label },
    {
      label: markup`ECL ${noBreak(from)}`,
      value: (r) => formatInUnit(ecl(r.before), unit),
      numeric: true,
    },
    {
      label: markup`ECL ${noBreak(to)}`,
      value: (r) => formatInUnit(ecl(r.after), unit),
      numeric: true,
    },
    {
      label: "Change",
      value: (r) =>
        formatInUnit(ecl(r.after) - ecl(r.before), unit, { signed: true }),
      numeric: true,
    },
    {
      label: "Change %",
      value: (r) =>
        formatPercent(
          ecl(r.before) > 0 ? ecl(r.after) / ecl(r.before) - 1 : null,
          { signed: true },
        ),
      numeric: true,
    },
    {
      label: markup`Coverage ${noBreak(from)}`,
      value: (r) => formatPercent(coverage(r.before)),
      numeric: true,
    },
    {
      label: markup`Coverage ${noBreak(to)}`,
      value: (r) => formatPercent(coverage(r.after)),
      numeric: true,
    },
    {
      label: "Change",
      value: (r) =>
        formatPointChange(difference(coverage(r.after), coverage(r.before))),
      numeric: true,
    },
  ];
  const mix = (
    what: "count" | "ead",
    at: "before" | "after",
    r: ComparedRow,
  ) => share(r[at]?.[what], (at === "before" ? p : current).totals[what]);
  const mixColumns: Column<ComparedRow>[] = [
    { label: "", value: (r) => r.label },
    {
      label: markup`Facilities ${noBreak(from)}`,
      value: (r) => formatCount(r.before?.count ?? 0),
      numeric: true,
    },
    {
      label: markup`Facilities ${noBreak(to)}`,
      value: (r) => formatCount(r.after?.count ?? 0),
      numeric: true,
    },
    ...(["count", "ead"] as const).flatMap((what): Column<ComparedRow>[] => {
      const name = what === "count" ? "facilities" : "EAD";
      return [
        {
          label: markup`Share of ${name} ${noBreak(from)}`,
          value: (r) => formatPercent(mix(what, "before", r)),
          numeric: true,
        },
        {
          label: markup`Share of ${name} ${noBreak(to)}`,
          value: (r) => formatPercent(mix(what, "after", r)),
          numeric: true,
        },
        {
          label: "Change",
          value: (r) =>
            formatPointChange(
              difference(mix(what, "after", r), mix(what, "before", r)),
            ),
          numeric: true,
        },
      ];
    }),
  ];
  const t = current.totals;
  const change = t.ecl - p.totals.ecl;
  const chosen = previous.how === "given"
    ? "given with the report (--compare)"
    : "found beside this run: the latest complete run of the same book (same portfolio file name once its date is taken out, same reporting currency) before this reporting date";
  return section("comparison", `Change since ${from}`, [
    markup`<p>Compared with run <strong>${p.run_id}</strong> (reporting date ${from}, folder <code>${previous.dir}</code>), ${chosen}.</p>`,
    cards([
      {
        label: `Change in ECL (${cur})`,
        value: formatInUnit(change, unit, { signed: true }),
        note: `${formatInUnit(p.totals.ecl, unit)} → ${
          formatInUnit(t.ecl, unit)
        } (${
          formatPercent(
            p.totals.ecl > 0 ? t.ecl / p.totals.ecl - 1 : null,
            { signed: true },
          )
        })`,
      },
      {
        label: "Change in coverage",
        value: formatPointChange(difference(t.coverage, p.totals.coverage)),
        note: `${formatPercent(p.totals.coverage)} → ${
          formatPercent(t.coverage)
        }`,
      },
      {
        label: "Change in stage 2 and 3 share of EAD",
        value: formatPointChange(difference(atRisk(current), atRisk(p))),
        note: `${formatPercent(atRisk(p))} → ${
          formatPercent(atRisk(current))
        }: significant increase in credit risk or credit-impaired`,
      },
    ]),
    table(eclColumns, lines.slice(0, 3), {
      caption: `ECL and coverage by stage (${cur})`,
      footer: lines.slice(3),
    }),
    table(mixColumns, lines.slice(0, 3), {
      caption: "Stage mix: facilities and share of facilities and of EAD",
      footer: lines.slice(3),
    }),
    note(
      "Changes in percentage points (pp) for ratios. Coverage is ECL over the gross carrying amount. The movement of the allowance line by line (transfers between stages, new and derecognised facilities, write-offs, foreign exchange; IFRS 7 §35H) is what deno task movement computes from the two run folders.",
    ),
  ]);
}

/** In place of the comparison when no earlier run of the book was found. */
export function noComparisonSection(reason: string): Markup {
  return section(
    "comparison",
    "Change since the previous period",
    note(reason),
  );
}
