/**
 * The fact sheet a narrative is written from: every figure the words may
 * quote, each a {@link Fact} with a stable id, its value and the forms it
 * may be written in, in the reporting currency, read from a run folder's
 * `summary.json`, `data_quality.json` and `manifest.json` and, when given,
 * a movement's `movement.json` (docs/narratives.md). Nothing is
 * recomputed from the loans: the figures are the run's and the movement's
 * own, and the few derived here (a stage's share of the ECL, the change
 * between two dates) are one division or one subtraction of them.
 *
 * What the sheet holds, in the order a board-pack narrative takes it:
 *
 * - the headline: ECL, its loss allowance and provision split (IFRS 7
 *   B8E), gross carrying amount, coverage (methodology §9), facilities,
 *   the model ECL and what the overlays changed (methodology §8);
 * - the stage mix: per stage (IFRS 9 §5.5.3, §5.5.5) the gross carrying
 *   amount, the ECL, their shares of the book and the coverage;
 * - the largest contributors: the products and segments with the largest
 *   ECL ({@link TOP_CONTRIBUTORS} of each);
 * - with a movement (IFRS 7 §35H): the opening and closing ECL, the
 *   change, the lines of the reconciliation that moved it most
 *   ({@link TOP_MOVEMENT_LINES}), the facilities by status and the
 *   products whose ECL changed most;
 * - data quality: rows read, rejected, the reject rate and its limit, the
 *   rules that failed most rows;
 * - overlays: each one's impact and facilities; the floor at 0;
 * - warnings (FX tables of another date, overlays, a movement's), as text.
 *
 * The movement is read through {@link MovementFacts}, the part of
 * `movement.json` (lib/movement's `Movement`) the sheet uses, declared
 * here: lib/movement writes the narrative of its page and so imports this
 * area, which therefore cannot import it.
 *
 * @module
 */
import type { DataQualityReport } from "../validation/mod.ts";
import {
  type Group,
  type Manifest,
  stageOfKey,
  type Summary,
} from "../run_folder/mod.ts";

/** Version of the fact sheet's layout, recorded in `narrative.json`. */
export const FACT_SHEET_VERSION = 1;

/** Products and segments listed as the largest contributors, each. */
export const TOP_CONTRIBUTORS = 3;

/** Reconciliation lines named as the largest changes. */
export const TOP_MOVEMENT_LINES = 3;

/** Validation rules named among those that failed most rows. */
export const TOP_FAILED_RULES = 3;

/** What kind of figure a fact is, and so how it is written. */
export type FactKind = "amount" | "count" | "ratio";

/** One figure a narrative may quote. */
export interface Fact {
  /**
   * Stable id: `totals.ecl`, `stage.2.ecl_share`, `product.mortgage.ecl`,
   * `movement.change`, `movement.line.remeasurement`, `dq.rows_rejected`,
   * `overlay.covid.ecl_impact`.
   */
  id: string;
  /** What the figure is, in words. */
  label: string;
  /** The figure: an amount in the reporting currency, a count or a ratio. */
  value: number;
  /** How it is written. */
  kind: FactKind;
  /**
   * The forms it may be written in, the first the narrative's own: an
   * amount to the cent (`1,234,567.89`), whole (`1,234,568`), in
   * thousands (`1,234.6 thousand`), millions (`1.23 million`) or billions;
   * a ratio as a percentage (`12.34%`, `12.3%`; below 1% first with three
   * significant digits, `0.372%`); a count (`5,000`). A
   * change is written as its size (`rose by 1.2 million`), so the forms of
   * a negative value are of its absolute value.
   */
  formatted: string[];
  /**
   * Where the value comes from: a key path of a file
   * (`summary.json totals.ecl`), or how it is derived from other facts.
   */
  source: string;
  /**
   * Whether the figure is a change (a movement, an overlay's impact), whose
   * sign a narrative says with a direction word (rose, fell, added,
   * released): the check refuses a word that disagrees (check.ts).
   */
  change?: boolean;
}

/** One largest contributor (a product or a segment). */
export interface Contributor {
  /** The product or segment. */
  key: string;
  /** Fact ids of its ECL, share of the total ECL, coverage and facilities. */
  facts: { ecl: string; ecl_share: string; coverage?: string; count: string };
}

/** The part of lib/movement's `Movement` (`movement.json`) the sheet reads. */
export interface MovementFacts {
  /** The reporting currency. */
  reporting_currency: string;
  /** The earlier run. */
  from: { run_id: string; reporting_date: string };
  /** The later run. */
  to: { run_id: string; reporting_date: string };
  /** Facilities by status. */
  facilities: {
    stayed: number;
    new: number;
    derecognised: number;
    written_off: number;
    transferred: number;
  };
  /** The IFRS 7 §35H reconciliation of the whole book's ECL. */
  allowance: {
    lines: { key: string; label: string; total: number }[];
  };
  /** The same per product. */
  by_product: {
    product: string;
    allowance: { lines: { key: string; total: number }[] };
  }[];
  /** The movement's own warnings. */
  warnings: string[];
}

/** The fact sheet: figures, their structure, and warnings as text. */
export interface FactSheet {
  /** {@link FACT_SHEET_VERSION}. */
  version: number;
  /** The run's id. */
  run_id: string;
  /** `YYYY-MM-DD`. */
  reporting_date: string;
  /** ISO 4217 code of every amount. */
  reporting_currency: string;
  /** The date of the FX table the amounts were converted with. */
  fx_as_of: string;
  /** Every figure, by id. */
  facts: Record<string, Fact>;
  /** Stage keys present, `"1"` to `"3"`. */
  stages: string[];
  /** Largest ECL first. */
  top_products: Contributor[];
  /** Largest ECL first. */
  top_segments: Contributor[];
  /** The movement part, when a movement was given. */
  movement?: {
    /** The earlier reporting date. */
    from_date: string;
    /** The earlier run's id. */
    from_run_id: string;
    /** Reconciliation lines with the largest absolute change, largest first. */
    top_lines: { key: string; label: string; fact: string }[];
    /** Products with the largest absolute change in ECL, largest first. */
    top_products: { product: string; fact: string }[];
  };
  /** Rules that failed most rows, most first: code, description, fact id. */
  failed_rules: { code: string; description: string; fact: string }[];
  /** Overlays in the order applied: name, reason, fact ids. */
  overlays: { name: string; reason: string; impact: string; count: string }[];
  /**
   * Warnings as their sources wrote them: the run's manifest (an FX table
   * of another date, stale folders removed), the summary's overlays and
   * the movement's. Figures inside them may be quoted as written.
   */
  warnings: string[];
}

/** What {@link buildFactSheet} reads. */
export interface FactSources {
  /** The run's `summary.json`, as read by `readRunFolder`. */
  summary: Summary;
  /** Its `manifest.json` (or the one being written), when there is one. */
  manifest?: Manifest | null;
  /** Its `data_quality.json`, when there is one. */
  dataQuality?: DataQualityReport | null;
  /**
   * A movement whose later run is this one (`movement.json`); its
   * `to.reporting_date` must be the run's.
   */
  movement?: MovementFacts | null;
  /**
   * Warnings of the run beyond its manifest's (the overlays', the FX
   * table's date), as the report shows them.
   */
  warnings?: readonly string[];
}

const WHOLE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fixed = (digits: number) =>
  new Intl.NumberFormat("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
const CENTS = fixed(2);
const SIG3 = new Intl.NumberFormat("en-US", {
  minimumSignificantDigits: 3,
  maximumSignificantDigits: 3,
});
const ONE = fixed(1);

/**
 * The forms an amount, count or ratio may be written in (see
 * {@link Fact.formatted}); of the absolute value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formsOf } from "./facts.ts";
 *
 * assert.deepEqual(formsOf(1_234_567.891, "amount"), [
 *   "1,234,567.89", "1,234,568", "1,234.6 thousand", "1.23 million", "1.2 million",
 * ]);
 * assert.deepEqual(formsOf(0.12345, "ratio"), ["12.35%", "12.3%"]);
 * assert.deepEqual(formsOf(0.003716, "ratio"), ["0.372%", "0.37%", "0.4%"]);
 * assert.deepEqual(formsOf(-5000, "count"), ["5,000"]);
 * ```
 */
export function formsOf(value: number, kind: FactKind): string[] {
  const v = Math.abs(value);
  if (kind === "count") return [WHOLE.format(v)];
  if (kind === "ratio") {
    const forms = [`${CENTS.format(v * 100)}%`, `${ONE.format(v * 100)}%`];
    // Below 1%, two decimals are fewer than 3 significant digits, too few
    // for a figure to say anything (check.ts): three significant digits.
    if (v > 0 && v < 0.01) forms.unshift(`${SIG3.format(v * 100)}%`);
    return forms;
  }
  const forms = [CENTS.format(v), WHOLE.format(v)];
  if (v >= 1_000) forms.push(`${ONE.format(v / 1e3)} thousand`);
  if (v >= 1e6) {
    forms.push(
      `${CENTS.format(v / 1e6)} million`,
      `${ONE.format(v / 1e6)} million`,
    );
  }
  if (v >= 1e9) {
    forms.push(
      `${CENTS.format(v / 1e9)} billion`,
      `${CENTS.format(v / 1e9)} bn`,
    );
  }
  return forms;
}

/**
 * The form a narrative writes an amount in: millions with two decimals
 * from 1 million, else to the cent.
 */
export function amountForm(value: number): string {
  const v = Math.abs(value);
  return v >= 1e6 ? `${CENTS.format(v / 1e6)} million` : CENTS.format(v);
}

/** Facts being collected. */
class Sheet {
  readonly facts: Record<string, Fact> = {};

  add(
    id: string,
    label: string,
    value: number | null | undefined,
    kind: FactKind,
    source: string,
    change = false,
  ): string | undefined {
    if (value === null || value === undefined || !Number.isFinite(value)) {
      return undefined;
    }
    this.facts[id] = {
      id,
      label,
      value,
      kind,
      formatted: formsOf(value, kind),
      source,
      ...(change ? { change: true } : {}),
    };
    return id;
  }
}

/** `a / b`, or null when `b` is 0. */
const share = (a: number, b: number) => (b === 0 ? null : a / b);

/**
 * The ids of a group list's largest ECL, with their facts added.
 */
function contributors(
  sheet: Sheet,
  list: "by_product" | "by_segment",
  groups: Group[],
  total: number,
): Contributor[] {
  const kind = list === "by_product" ? "product" : "segment";
  return [...groups]
    .sort((a, b) => b.ecl - a.ecl || a.key.localeCompare(b.key))
    .slice(0, TOP_CONTRIBUTORS)
    .map((g) => {
      const at = `summary.json ${list}[key=${g.key}]`;
      const base = `${kind}.${g.key}`;
      const coverage = sheet.add(
        `${base}.coverage`,
        `coverage of ${kind} ${g.key}`,
        g.coverage,
        "ratio",
        `${at}.coverage`,
      );
      return {
        key: g.key,
        facts: {
          ecl: sheet.add(
            `${base}.ecl`,
            `ECL of ${kind} ${g.key}`,
            g.ecl,
            "amount",
            `${at}.ecl`,
          )!,
          ecl_share: sheet.add(
            `${base}.ecl_share`,
            `share of the total ECL in ${kind} ${g.key}`,
            share(g.ecl, total) ?? 0,
            "ratio",
            `${at}.ecl / summary.json totals.ecl`,
          )!,
          ...(coverage ? { coverage } : {}),
          count: sheet.add(
            `${base}.count`,
            `facilities of ${kind} ${g.key}`,
            g.count,
            "count",
            `${at}.count`,
          )!,
        },
      };
    });
}

/**
 * How far a movement's closing ECL may be from the run's total: a cent,
 * or the rounding of a sum of many facilities' figures in floating point.
 */
const closingTolerance = (ecl: number) => Math.max(0.01, Math.abs(ecl) * 1e-9);

/**
 * A text with what could identify a facility or a machine taken out:
 * paths and URLs (`/data/book.parquet`, `s3://bank/q4/`, `C:\\runs`)
 * become `[path]`, tokens mixing letters and digits (a loan id `L000123`,
 * a run id `q4-2025b`, and digits after "loan") become `[id]`. Dates,
 * plain numbers and words stay.
 * What is sent to a model outside the bank is redacted so (vertex.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactIdentifiers } from "./facts.ts";
 *
 * assert.equal(
 *   redactIdentifiers("loan L000123 in /data/book.parquet at 2025-12-31: 3 rows"),
 *   "loan [id] in [path] at 2025-12-31: 3 rows",
 * );
 * ```
 */
export function redactIdentifiers(text: string): string {
  return text
    .replace(
      /\b[a-z][a-z0-9+.-]*:\/\/[^\s,;'"()]+|(?:\b[A-Za-z]:)?(?:\.{0,2}[\\/][^\s,;'"()\\/]+){1,}[\\/]?|\b[^\s,;'"()\\/]+(?:[\\/][^\s,;'"()\\/]+)+/g,
      "[path]",
    )
    .replace(
      /\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])(?!\d{4}-\d{2}-\d{2}\b)[\w-]+\b/g,
      "[id]",
    )
    .replace(/\b(loan(?:_id)?s?\b[\s:=]*)\d[\w-]*/gi, "$1[id]");
}

/** A line's total in a reconciliation, 0 when absent. */
const lineTotal = (lines: { key: string; total: number }[], key: string) =>
  lines.find((l) => l.key === key)?.total ?? 0;

/**
 * Builds the fact sheet of a run (and of a movement into it).
 *
 * @throws {RangeError} When the movement's later run is not this one: its
 *   date, its run id, or its closing ECL differ (naming both).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildFactSheet } from "./facts.ts";
 * import type { Summary } from "../run_folder/mod.ts";
 *
 * const group = (key: string, gca: number, ecl: number) => ({
 *   key, count: 1, gross_carrying_amount: gca, ead: gca, ecl,
 *   loss_allowance: ecl, provision: 0, coverage: ecl / gca,
 * });
 * const summary = {
 *   run_id: "q4", reporting_date: "2025-12-31", reporting_currency: "EUR",
 *   fx: { as_of: "2025-12-31" }, scenarios: [],
 *   totals: { ...group("", 1000, 30), count: 2, ecl_model: 30 },
 *   by_stage: [group("1", 800, 10), group("2", 200, 20)],
 *   by_product: [group("mortgage", 1000, 30)], by_segment: [],
 *   overlays: [], overlay_floor: { facilities: 0, ecl_impact: 0 },
 * } as unknown as Summary;
 * const sheet = buildFactSheet({ summary });
 * assert.equal(sheet.facts["totals.ecl"].value, 30);
 * assert.equal(sheet.facts["stage.2.ecl_share"].formatted[0], "66.67%");
 * assert.equal(sheet.top_products[0].key, "mortgage");
 * ```
 */
export function buildFactSheet(src: FactSources): FactSheet {
  const s = src.summary;
  const t = s.totals;
  const sheet = new Sheet();
  const add = sheet.add.bind(sheet);
  add(
    "totals.ecl",
    "expected credit loss",
    t.ecl,
    "amount",
    "summary.json totals.ecl",
  );
  add(
    "totals.loss_allowance",
    "loss allowance (IFRS 7 B8E)",
    t.loss_allowance,
    "amount",
    "summary.json totals.loss_allowance",
  );
  add(
    "totals.provision",
    "provision for undrawn commitments (IFRS 7 B8E)",
    t.provision,
    "amount",
    "summary.json totals.provision",
  );
  add(
    "totals.gross_carrying_amount",
    "gross carrying amount",
    t.gross_carrying_amount,
    "amount",
    "summary.json totals.gross_carrying_amount",
  );
  add(
    "totals.ead",
    "exposure at default",
    t.ead,
    "amount",
    "summary.json totals.ead",
  );
  add(
    "totals.coverage",
    "coverage (ECL / gross carrying amount)",
    t.coverage,
    "ratio",
    "summary.json totals.coverage",
  );
  add(
    "totals.count",
    "facilities computed",
    t.count,
    "count",
    "summary.json totals.count",
  );
  add(
    "totals.ecl_model",
    "model ECL before overlays",
    t.ecl_model,
    "amount",
    "summary.json totals.ecl_model",
  );
  add(
    "totals.overlay_change",
    "change of the ECL by overlays and the floor",
    t.ecl - t.ecl_model,
    "amount",
    "summary.json totals.ecl - totals.ecl_model",
    true,
  );
  const stages: string[] = [];
  for (
    const g of [...s.by_stage].sort((a, b) =>
      stageOfKey(a.key) - stageOfKey(b.key)
    )
  ) {
    const k = String(stageOfKey(g.key));
    stages.push(k);
    const at = `summary.json by_stage[key=${g.key}]`;
    add(
      `stage.${k}.count`,
      `facilities in stage ${k}`,
      g.count,
      "count",
      `${at}.count`,
    );
    add(
      `stage.${k}.gross_carrying_amount`,
      `gross carrying amount in stage ${k}`,
      g.gross_carrying_amount,
      "amount",
      `${at}.gross_carrying_amount`,
    );
    add(`stage.${k}.ecl`, `ECL in stage ${k}`, g.ecl, "amount", `${at}.ecl`);
    add(
      `stage.${k}.coverage`,
      `coverage in stage ${k}`,
      g.coverage,
      "ratio",
      `${at}.coverage`,
    );
    add(
      `stage.${k}.gca_share`,
      `share of the gross carrying amount in stage ${k}`,
      share(g.gross_carrying_amount, t.gross_carrying_amount),
      "ratio",
      `${at}.gross_carrying_amount / summary.json totals.gross_carrying_amount`,
    );
    add(
      `stage.${k}.ecl_share`,
      `share of the ECL in stage ${k}`,
      share(g.ecl, t.ecl),
      "ratio",
      `${at}.ecl / summary.json totals.ecl`,
    );
  }
  const top_products = contributors(
    sheet,
    "by_product",
    s.by_product ?? [],
    t.ecl,
  );
  const top_segments = contributors(
    sheet,
    "by_segment",
    s.by_segment ?? [],
    t.ecl,
  );

  const overlays = (s.overlays ?? []).map((o) => ({
    name: o.name,
    reason: o.reason,
    impact: add(
      `overlay.${o.name}.ecl_impact`,
      `ECL added by overlay ${o.name}`,
      o.ecl_impact,
      "amount",
      `summary.json overlays[name=${o.name}].ecl_impact`,
      true,
    )!,
    count: add(
      `overlay.${o.name}.facilities`,
      `facilities overlay ${o.name} applied to`,
      o.facilities,
      "count",
      `summary.json overlays[name=${o.name}].facilities`,
    )!,
  }));
  if ((s.overlay_floor?.facilities ?? 0) > 0) {
    add(
      "overlay_floor.ecl_impact",
      "ECL the floor at 0 added back",
      s.overlay_floor.ecl_impact,
      "amount",
      "summary.json overlay_floor.ecl_impact",
      true,
    );
    add(
      "overlay_floor.facilities",
      "facilities the floor at 0 applied to",
      s.overlay_floor.facilities,
      "count",
      "summary.json overlay_floor.facilities",
    );
  }

  const failed_rules: FactSheet["failed_rules"] = [];
  const dq = src.dataQuality;
  if (dq) {
    add(
      "dq.rows_read",
      "rows read from the portfolio",
      dq.rows_read,
      "count",
      "data_quality.json rows_read",
    );
    add(
      "dq.rows_valid",
      "rows that passed validation",
      dq.rows_valid,
      "count",
      "data_quality.json rows_valid",
    );
    add(
      "dq.rows_rejected",
      "rows rejected by validation",
      dq.rows_rejected,
      "count",
      "data_quality.json rows_rejected",
    );
    add(
      "dq.reject_rate",
      "share of rows rejected",
      dq.reject_rate,
      "ratio",
      "data_quality.json reject_rate",
    );
    add(
      "dq.max_reject_rate",
      "largest reject rate the rules accept",
      dq.max_reject_rate,
      "ratio",
      "data_quality.json max_reject_rate",
    );
    for (
      const r of dq.rules.filter((r) => r.rows_failed > 0)
        .sort((a, b) =>
          b.rows_failed - a.rows_failed || a.code.localeCompare(b.code)
        )
        .slice(0, TOP_FAILED_RULES)
    ) {
      failed_rules.push({
        code: r.code,
        description: r.description,
        fact: add(
          `dq.rule.${r.code}.rows_failed`,
          `rows failing rule ${r.code}`,
          r.rows_failed,
          "count",
          `data_quality.json rules[code=${r.code}].rows_failed`,
        )!,
      });
    }
  }

  let movement: FactSheet["movement"];
  const m = src.movement;
  if (m) {
    if (m.to.reporting_date !== s.reporting_date) {
      throw new RangeError(
        `the movement ends at ${m.to.reporting_date}, not at the run's reporting date ${s.reporting_date} (it ends at run ${m.to.run_id}, this is run ${s.run_id}): give the movement into this run`,
      );
    }
    if (m.to.run_id !== s.run_id) {
      throw new RangeError(
        `the movement ends at run ${m.to.run_id}, not at this run ${s.run_id} (both of ${s.reporting_date}): give the movement into this run`,
      );
    }
    const lines = m.allowance.lines;
    const opening = lineTotal(lines, "opening");
    const closing = lineTotal(lines, "closing");
    // The same run id could name a rerun: the movement's closing ECL must
    // be this run's.
    if (Math.abs(closing - t.ecl) > closingTolerance(t.ecl)) {
      throw new RangeError(
        `the movement into run ${m.to.run_id} closes at an ECL of ${
          CENTS.format(closing)
        }, but run ${s.run_id} has ${
          CENTS.format(t.ecl)
        }: it was computed from another version of the run; compute the movement again`,
      );
    }
    add(
      "movement.opening",
      `ECL at ${m.from.reporting_date}`,
      opening,
      "amount",
      "movement.json allowance.lines[key=opening].total",
    );
    add(
      "movement.closing",
      `ECL at ${m.to.reporting_date}`,
      closing,
      "amount",
      "movement.json allowance.lines[key=closing].total",
    );
    add(
      "movement.change",
      "change in ECL",
      closing - opening,
      "amount",
      "movement.json closing - opening",
      true,
    );
    add(
      "movement.change_pct",
      "change in ECL as a share of the opening",
      share(closing - opening, opening),
      "ratio",
      "movement.json (closing - opening) / opening",
      true,
    );
    for (
      const k of [
        "new",
        "derecognised",
        "written_off",
        "transferred",
        "stayed",
      ] as const
    ) {
      add(
        `movement.facilities.${k}`,
        `facilities ${k.replace("_", " ")}`,
        m.facilities[k],
        "count",
        `movement.json facilities.${k}`,
      );
    }
    const top_lines = lines
      .filter((l) =>
        l.key !== "opening" && l.key !== "closing" &&
        !l.key.startsWith("transfer_to_") && l.total !== 0
      )
      .sort((a, b) =>
        Math.abs(b.total) - Math.abs(a.total) || a.key.localeCompare(b.key)
      )
      .slice(0, TOP_MOVEMENT_LINES)
      .map((l) => ({
        key: l.key,
        label: l.label,
        fact: add(
          `movement.line.${l.key}`,
          l.label,
          l.total,
          "amount",
          `movement.json allowance.lines[key=${l.key}].total`,
          true,
        )!,
      }));
    const top_products = m.by_product
      .map((p) => ({
        product: p.product,
        change: lineTotal(p.allowance.lines, "closing") -
          lineTotal(p.allowance.lines, "opening"),
      }))
      .filter((p) => p.change !== 0)
      .sort((a, b) =>
        Math.abs(b.change) - Math.abs(a.change) ||
        a.product.localeCompare(b.product)
      )
      .slice(0, TOP_CONTRIBUTORS)
      .map((p) => ({
        product: p.product,
        fact: add(
          `movement.product.${p.product}.change`,
          `change in ECL of product ${p.product}`,
          p.change,
          "amount",
          `movement.json by_product[product=${p.product}].allowance closing - opening`,
          true,
        )!,
      }));
    movement = {
      from_date: m.from.reporting_date,
      from_run_id: m.from.run_id,
      top_lines,
      top_products,
    };
  }

  const warnings = [
    ...new Set([
      ...(src.manifest?.warnings ?? []),
      ...(src.warnings ?? []),
      ...(m?.warnings ?? []),
      ...(dq?.warnings ?? []),
    ]),
  ];
  return {
    version: FACT_SHEET_VERSION,
    run_id: s.run_id,
    reporting_date: s.reporting_date,
    reporting_currency: s.reporting_currency,
    fx_as_of: s.fx.as_of,
    facts: sheet.facts,
    stages,
    top_products,
    top_segments,
    ...(movement ? { movement } : {}),
    failed_rules,
    overlays,
    warnings,
  };
}
