/**
 * The offline narrative: deterministic English paragraphs written from a
 * fact sheet (`facts.ts`), the default provider (docs/narratives.md). Every
 * figure in the text is one of the sheet's facts, written in one of its
 * `formatted` forms (amounts from 1 million in millions with two
 * decimals, smaller ones to the cent; ratios as percentages with two
 * decimals, or three significant digits below 1%; counts whole), and each paragraph lists the ids of the facts
 * it quotes, so a reader (or a test) can tie every number to
 * `summary.json`, `data_quality.json` or `movement.json`. Besides facts,
 * the text holds only dates (the reporting dates, the FX table's), stage
 * numbers and the warnings quoted as their sources wrote them.
 *
 * @module
 */
import { amountForm, type Fact, type FactSheet } from "./facts.ts";

/** One paragraph of a narrative and the facts it quotes. */
export interface Paragraph {
  /** What it is about: `headline`, `stages`, `contributors`, `movement`, `data_quality`, `overlays`, `warnings`. */
  topic: string;
  /** The paragraph. */
  text: string;
  /** Ids of the facts whose figures it quotes, in order of appearance. */
  facts: string[];
}

/** Collects the facts a paragraph quotes. */
class Writer {
  readonly used: string[] = [];
  constructor(private readonly sheet: FactSheet) {}

  fact(id: string): Fact | undefined {
    return this.sheet.facts[id];
  }

  /** Whether the sheet has fact `id` (a coverage of nothing has none). */
  has(id: string | undefined): id is string {
    return id !== undefined && this.sheet.facts[id] !== undefined;
  }

  /** The figure of fact `id` in the narrative's form, recording its use. */
  q(id: string): string {
    const f = this.sheet.facts[id];
    if (f === undefined) {
      throw new RangeError(`no fact ${id} in the fact sheet`);
    }
    if (!this.used.includes(id)) this.used.push(id);
    return f.kind === "amount" ? amountForm(f.value) : f.formatted[0];
  }

  /** The figure with the currency: `EUR 1.03 million`. */
  money(id: string): string {
    return `${this.sheet.reporting_currency} ${this.q(id)}`;
  }
}

const sentence = (parts: (string | false | undefined)[]) =>
  parts.filter((p): p is string => typeof p === "string" && p !== "").join(" ");

const listed = (items: string[]) =>
  items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * The template narrative of a fact sheet, paragraph by paragraph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildFactSheet } from "./facts.ts";
 * import { templateNarrative } from "./template.ts";
 * import type { Summary } from "../run_folder/mod.ts";
 *
 * const g = (key: string, gca: number, ecl: number) => ({
 *   key, count: 2, gross_carrying_amount: gca, ead: gca, ecl,
 *   loss_allowance: ecl, provision: 0, coverage: ecl / gca,
 * });
 * const summary = {
 *   run_id: "q4", reporting_date: "2025-12-31", reporting_currency: "EUR",
 *   fx: { as_of: "2025-12-31" }, scenarios: [],
 *   totals: { ...g("", 2_000_000, 30_000), ecl_model: 30_000 },
 *   by_stage: [g("1", 2_000_000, 30_000)], by_product: [], by_segment: [],
 *   overlays: [], overlay_floor: { facilities: 0, ecl_impact: 0 },
 * } as unknown as Summary;
 * const [headline] = templateNarrative(buildFactSheet({ summary }));
 * assert.match(headline.text, /^At 2025-12-31 the expected credit loss on 2 facilities is EUR 30,000.00/);
 * assert.ok(headline.facts.includes("totals.coverage"));
 * ```
 */
export function templateNarrative(sheet: FactSheet): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  const para = (topic: string, write: (w: Writer) => string | null) => {
    const w = new Writer(sheet);
    try {
      const text = write(w);
      if (text) paragraphs.push({ topic, text, facts: w.used });
    } catch (e) {
      // A sheet this template does not foresee loses a paragraph, never
      // the narrative: the paragraph says why instead.
      paragraphs.push({
        topic,
        text: `The ${topic.replace("_", " ")} paragraph could not be written (${
          (e as Error)?.message ?? String(e)
        }); the figures are in the tables below and in summary.json.`,
        facts: [],
      });
    }
  };
  const cur = sheet.reporting_currency;

  para("headline", (w) => {
    const overlay = w.fact("totals.overlay_change");
    return sentence([
      `At ${sheet.reporting_date} the expected credit loss on ${
        w.q("totals.count")
      } facilities is ${w.money("totals.ecl")}:`,
      `a loss allowance of ${
        w.q("totals.loss_allowance")
      } deducted from the assets and a provision of ${
        w.q("totals.provision")
      } for undrawn commitments (IFRS 7 B8E).`,
      w.has("totals.coverage")
        ? `It covers ${w.q("totals.coverage")} of a gross carrying amount of ${
          w.money("totals.gross_carrying_amount")
        }.`
        : `The gross carrying amount is ${
          w.money("totals.gross_carrying_amount")
        }, so coverage is not defined.`,
      overlay !== undefined && Math.abs(overlay.value) >= 0.005 &&
      `Post-model overlays ${overlay.value > 0 ? "add" : "release"} ${
        w.q("totals.overlay_change")
      } to the model ECL of ${w.q("totals.ecl_model")}.`,
    ]);
  });

  para("stages", (w) => {
    if (sheet.stages.length === 0) return null;
    const parts = sheet.stages.map((k) => {
      const id = (x: string) => `stage.${k}.${x}`;
      // A share of nothing, or the coverage of a stage without gross
      // carrying amount (undrawn commitments only), is no fact: said in
      // words instead.
      const gca = w.has(id("gca_share"))
        ? `${w.q(id("gca_share"))} of the gross carrying amount`
        : w.has(id("gross_carrying_amount"))
        ? `a gross carrying amount of ${w.q(id("gross_carrying_amount"))}`
        : undefined;
      const ecl = w.has(id("ecl_share"))
        ? `${w.q(id("ecl_share"))} of the ECL`
        : undefined;
      const details = [
        w.has(id("ecl")) && w.q(id("ecl")),
        w.has(id("coverage"))
          ? `coverage ${w.q(id("coverage"))}`
          : "coverage not defined: no gross carrying amount",
        w.has(id("count")) && `${w.q(id("count"))} facilities`,
      ].filter((x): x is string => typeof x === "string");
      const holds = [gca, ecl].filter((x): x is string => !!x);
      return `stage ${k} ${
        holds.length > 0 ? `holds ${holds.join(" and ")}` : "has"
      } (${details.join(", ")})`;
    });
    const text = `By stage (IFRS 9 §5.5): ${parts.join("; ")}.`;
    return text;
  });

  para("contributors", (w) => {
    const describe = (kind: string, list: FactSheet["top_products"]) => {
      if (list.length === 0) return undefined;
      const [first, ...rest] = list;
      return sentence([
        `By ${kind}, ${first.key} carries the largest ECL, ${
          w.q(first.facts.ecl)
        } (${w.q(first.facts.ecl_share)} of the total${
          first.facts.coverage ? `, coverage ${w.q(first.facts.coverage)}` : ""
        })${
          rest.length === 0 ? "." : `, followed by ${
            listed(
              rest.map((r) =>
                `${r.key} (${w.q(r.facts.ecl)}, ${w.q(r.facts.ecl_share)})`
              ),
            )
          }.`
        }`,
      ]);
    };
    return sentence([
      describe("product", sheet.top_products),
      describe("segment", sheet.top_segments),
    ]) || null;
  });

  para("movement", (w) => {
    const m = sheet.movement;
    if (!m) return null;
    const change = w.fact("movement.change")!.value;
    const direction = change > 0
      ? "rose"
      : change < 0
      ? "fell"
      : "was unchanged";
    // Written as the sentences are, so the facts are listed in the order
    // they appear.
    const lines = () =>
      m.top_lines.map((l) => {
        const v = w.fact(l.fact)!.value;
        return `${lowerFirst(l.label)} (${v > 0 ? "adding" : "releasing"} ${
          w.q(l.fact)
        })`;
      });
    const products = () =>
      m.top_products.map((p) => {
        const v = w.fact(p.fact)!.value;
        return `${p.product} (${v > 0 ? "up" : "down"} ${w.q(p.fact)})`;
      });
    return sentence([
      `Since ${m.from_date} the ECL ${direction}${
        change === 0 ? "" : ` by ${w.money("movement.change")}`
      }, from ${w.q("movement.opening")} to ${w.q("movement.closing")}${
        w.has("movement.change_pct") && change !== 0
          ? ` (${change > 0 ? "up" : "down"} ${w.q("movement.change_pct")})`
          : ""
      } (IFRS 7 §35H).`,
      m.top_lines.length > 0 &&
      `The largest changes were ${listed(lines())}.`,
      `${w.q("movement.facilities.transferred")} facilities changed stage; ${
        w.q("movement.facilities.new")
      } were new, ${w.q("movement.facilities.derecognised")} derecognised and ${
        w.q("movement.facilities.written_off")
      } written off.`,
      m.top_products.length > 0 &&
      `By product the ECL changed most in ${listed(products())}.`,
    ]);
  });

  para("data_quality", (w) => {
    if (w.fact("dq.rows_read") === undefined) return null;
    const rejected = w.fact("dq.rows_rejected")!.value;
    const rules = () =>
      sheet.failed_rules.map((r) =>
        `${r.code} (${w.q(r.fact)} rows: ${lowerFirst(r.description)})`
      );
    return sentence([
      rejected === 0
        ? `Validation read ${w.q("dq.rows_read")} rows and rejected none.`
        : `Validation read ${w.q("dq.rows_read")} rows and rejected ${
          w.q("dq.rows_rejected")
        }${
          w.has("dq.reject_rate")
            ? ` (${w.q("dq.reject_rate")}${
              w.has("dq.max_reject_rate")
                ? `, against a limit of ${w.q("dq.max_reject_rate")}`
                : ""
            })`
            : ""
        }; they are not in the allowance.`,
      sheet.failed_rules.length > 0 &&
      `The rules failed by most rows: ${rules().join("; ")}.`,
    ]);
  });

  para("overlays", (w) => {
    const used = sheet.overlays.filter((o) =>
      (w.fact(o.count)?.value ?? 0) > 0
    );
    if (used.length === 0) return null;
    return sentence([
      ...used.map((o) => {
        const v = w.fact(o.impact)!.value;
        return `Overlay ${o.name} ${v >= 0 ? "adds" : "releases"} ${
          w.money(o.impact)
        } on ${w.q(o.count)} facilities${o.reason ? ` (${o.reason})` : ""}.`;
      }),
      w.fact("overlay_floor.ecl_impact") !== undefined &&
      `The floor at 0 adds back ${w.q("overlay_floor.ecl_impact")} on ${
        w.q("overlay_floor.facilities")
      } facilities (methodology §8).`,
    ]);
  });

  para("warnings", () => {
    const fx =
      `Amounts are in ${cur}, converted at the FX rates of ${sheet.fx_as_of}${
        sheet.fx_as_of === sheet.reporting_date ? " (IAS 21 §23)" : ""
      }.`;
    if (sheet.warnings.length === 0) return fx;
    return `${fx} Warnings: ${
      sheet.warnings.map((x) => x.replace(/\.$/, "")).join("; ")
    }.`;
  });
  return paragraphs;
}

/** The paragraphs as one text, a blank line between them. */
export function narrativeText(paragraphs: readonly Paragraph[]): string {
  return paragraphs.map((p) => p.text).join("\n\n");
}
