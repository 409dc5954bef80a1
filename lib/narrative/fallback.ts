/**
 * The narrative of last resort: whatever goes wrong while a narrative is
 * written (a fact sheet that cannot be built, a template that does not
 * foresee a run, anything unexpected), the run, the movement and `deno
 * task explain` still finish, with a short text that says the narrative
 * could not be written and why (docs/narratives.md, "The check and the
 * fallback"). A narrative never fails a run.
 *
 * @module
 */
import { amountForm, FACT_SHEET_VERSION, type FactSheet } from "./facts.ts";
import {
  type ExplainSettings,
  type Narrative,
  NARRATIVE_VERSION,
} from "./narrative.ts";

/** What the minimal narrative may say of the run. */
export interface FallbackContext {
  /** The run's id. */
  run_id?: string;
  /** `YYYY-MM-DD`. */
  reporting_date?: string;
  /** ISO 4217 code. */
  reporting_currency?: string;
  /** The run's ECL, when known. */
  ecl?: number;
  /** The settings the narrative was asked with. */
  settings?: ExplainSettings;
}

/**
 * The minimal narrative: one paragraph saying the narrative could not be
 * written and why, with the run's ECL when it is known; an empty fact
 * sheet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fallbackNarrative } from "./fallback.ts";
 *
 * const n = fallbackNarrative("no fact stage.2.coverage", {
 *   reporting_date: "2025-12-31", reporting_currency: "EUR", ecl: 1_028_449.75,
 * });
 * assert.equal(n.fallback_reason, "the narrative could not be written: no fact stage.2.coverage");
 * assert.match(n.text, /^At 2025-12-31 the expected credit loss is EUR 1\.03 million\./);
 * ```
 */
export function fallbackNarrative(
  reason: string,
  ctx: FallbackContext = {},
): Narrative {
  const cur = ctx.reporting_currency ?? "";
  const ecl = typeof ctx.ecl === "number" && Number.isFinite(ctx.ecl)
    ? `At ${
      ctx.reporting_date ?? "the reporting date"
    } the expected credit loss is ${cur ? `${cur} ` : ""}${
      amountForm(ctx.ecl)
    }. `
    : "";
  const oneLine = reason.split("\n")[0].slice(0, 300);
  const text =
    `${ecl}The narrative could not be written (${oneLine}); the figures are in the tables of the report and in summary.json.`;
  const facts: FactSheet = {
    version: FACT_SHEET_VERSION,
    run_id: ctx.run_id ?? "",
    reporting_date: ctx.reporting_date ?? "",
    reporting_currency: cur,
    fx_as_of: "",
    facts: {},
    stages: [],
    top_products: [],
    top_segments: [],
    failed_rules: [],
    overlays: [],
    warnings: [],
  };
  const s = ctx.settings;
  return {
    version: NARRATIVE_VERSION,
    provider: "template",
    requested: s?.provider === "vertex"
      ? { provider: "vertex", model: s.model }
      : { provider: "template" },
    fallback_reason: `the narrative could not be written: ${oneLine}`,
    text,
    paragraphs: [{ topic: "headline", text, facts: [] }],
    facts,
  };
}

/**
 * `write()`'s narrative, or on any error {@link fallbackNarrative} with
 * the error's message: the narrative step of a run, a movement or `deno
 * task explain` never fails.
 */
export async function safeNarrative(
  write: () => Narrative | Promise<Narrative>,
  ctx: FallbackContext = {},
): Promise<Narrative> {
  try {
    return await write();
  } catch (e) {
    return fallbackNarrative(
      e instanceof Error ? e.message : String(e),
      ctx,
    );
  }
}
