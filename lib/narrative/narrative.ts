/**
 * A run's (or a movement's) narrative from its fact sheet, by the provider
 * the rules' `explain` section names (docs/narratives.md): the template
 * (`template.ts`, the default, offline and deterministic) or a Gemini
 * model on Vertex AI (`vertex.ts`), whose text is kept only when every
 * figure it quotes is a fact of the sheet (`check.ts`); otherwise, and
 * whenever the call fails, the template's text is used and the narrative
 * says why. What `narrative.json` holds ({@link Narrative}), and its
 * section of `report.html` and `movement.html`.
 *
 * @module
 */
import type { ExplainRules } from "../rules.ts";
import { type Markup, markup, note, section, warningList } from "../page.ts";
import { checkNarrative } from "./check.ts";
import type { FactSheet } from "./facts.ts";
import {
  narrativeText,
  type Paragraph,
  templateNarrative,
} from "./template.ts";
import {
  DEFAULT_VERTEX_MODEL,
  vertexNarrative,
  type VertexOptions,
} from "./vertex.ts";

/** Version of `narrative.json`'s layout. */
export const NARRATIVE_VERSION = 1;

/** Seconds a model call may take when the rules do not say. */
export const DEFAULT_EXPLAIN_TIMEOUT_SECONDS = 30;

/** Who may write a narrative. */
export type NarrativeProvider = "template" | "vertex";

/** `explain` settings with their defaults filled in. */
export interface ExplainSettings {
  /** Who writes the narrative. @default "template" */
  provider: NarrativeProvider;
  /** The Gemini model. @default {@link DEFAULT_VERTEX_MODEL} */
  model: string;
  /** Google Cloud project (Vertex AI). */
  project?: string;
  /** Vertex AI location. */
  location?: string;
  /** Seconds before a model call is abandoned. @default 30 */
  timeout_seconds: number;
}

/**
 * The operator's choice of provider in the environment,
 * `IFRS9_EXPLAIN_PROVIDER` (`template` or `vertex`); absent or unreadable:
 * undefined.
 */
export function providerFromEnv(): NarrativeProvider | undefined {
  try {
    const v = Deno.env.get("IFRS9_EXPLAIN_PROVIDER")?.trim();
    return v === "template" || v === "vertex" ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The settings of a rules file's `explain` section, with `override` (a
 * run's or a task's own setting) on top; the provider, when neither says,
 * is the operator's `IFRS9_EXPLAIN_PROVIDER`, else the template.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainSettings } from "./narrative.ts";
 *
 * assert.deepEqual(explainSettings(undefined, { provider: "vertex" }), {
 *   provider: "vertex", model: "gemini-2.5-flash", timeout_seconds: 30,
 * });
 * ```
 */
export function explainSettings(
  rules?: Partial<ExplainRules>,
  override: Partial<ExplainSettings> = {},
): ExplainSettings {
  const given = { ...rules, ...dropUndefined(override) };
  return {
    provider: given.provider ?? providerFromEnv() ?? "template",
    model: given.model ?? DEFAULT_VERTEX_MODEL,
    ...(given.project ? { project: given.project } : {}),
    ...(given.location ? { location: given.location } : {}),
    timeout_seconds: given.timeout_seconds ?? DEFAULT_EXPLAIN_TIMEOUT_SECONDS,
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** What `narrative.json` holds: the text, who wrote it, and its facts. */
export interface Narrative {
  /** {@link NARRATIVE_VERSION}. */
  version: number;
  /** Who wrote `text`. */
  provider: NarrativeProvider;
  /** The model, when a model wrote it. */
  model?: string;
  /** What the settings asked for. */
  requested: { provider: NarrativeProvider; model?: string };
  /**
   * Why the template wrote it though a model was asked: the call failed
   * (no credentials, network, status, malformed answer, timeout), or the
   * model quoted figures that are not facts.
   */
  fallback_reason?: string;
  /** The narrative, paragraphs separated by a blank line. */
  text: string;
  /** The template's paragraphs with the facts each quotes (template only). */
  paragraphs?: Paragraph[];
  /** The figures read from a model's text and the facts they matched. */
  check?: { figures: number; unknown: string[] };
  /** The facts it was written from. */
  facts: FactSheet;
}

/** How {@link writeNarrative} reaches a model, beyond the settings. */
export type VertexConnection = Partial<
  Pick<VertexOptions, "baseUrl" | "accessToken" | "apiKey">
>;

/** The template's narrative of `sheet`. */
function fromTemplate(
  sheet: FactSheet,
  settings: ExplainSettings,
  fallback_reason?: string,
): Narrative {
  const paragraphs = templateNarrative(sheet);
  return {
    version: NARRATIVE_VERSION,
    provider: "template",
    requested: settings.provider === "vertex"
      ? { provider: "vertex", model: settings.model }
      : { provider: "template" },
    ...(fallback_reason ? { fallback_reason } : {}),
    text: narrativeText(paragraphs),
    paragraphs,
    facts: sheet,
  };
}

/** Figures listed by name when a model's text quotes unknown ones. */
const UNKNOWN_LISTED = 5;

/**
 * Writes the narrative of `sheet` by `settings.provider`. Never throws for
 * a model that fails: the template's text is returned with the reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildFactSheet } from "./facts.ts";
 * import { explainSettings, writeNarrative } from "./narrative.ts";
 * import type { Summary } from "../run_folder/mod.ts";
 *
 * const g = { key: "1", count: 1, gross_carrying_amount: 100, ead: 100, ecl: 1,
 *   loss_allowance: 1, provision: 0, coverage: 0.01 };
 * const summary = { run_id: "q4", reporting_date: "2025-12-31",
 *   reporting_currency: "EUR", fx: { as_of: "2025-12-31" }, scenarios: [],
 *   totals: { ...g, ecl_model: 1 }, by_stage: [g], by_product: [], by_segment: [],
 *   overlays: [], overlay_floor: { facilities: 0, ecl_impact: 0 } } as unknown as Summary;
 * const n = await writeNarrative(buildFactSheet({ summary }), explainSettings());
 * assert.equal(n.provider, "template");
 * assert.match(n.text, /EUR 1\.00/);
 * ```
 */
export async function writeNarrative(
  sheet: FactSheet,
  settings: ExplainSettings,
  connection: VertexConnection = {},
): Promise<Narrative> {
  if (settings.provider !== "vertex") return fromTemplate(sheet, settings);
  let text: string;
  try {
    text = await vertexNarrative(sheet, {
      model: settings.model,
      project: settings.project,
      location: settings.location,
      timeoutSeconds: settings.timeout_seconds,
      ...connection,
    });
  } catch (e) {
    return fromTemplate(sheet, settings, (e as Error).message);
  }
  const check = checkNarrative(text, sheet);
  if (check.unknown.length > 0) {
    const n = check.unknown.length;
    const more = n - UNKNOWN_LISTED;
    return fromTemplate(
      sheet,
      settings,
      `Vertex AI model ${settings.model} quoted ${n} figure${
        n === 1 ? "" : "s"
      } that ${n === 1 ? "is" : "are"} not in the fact sheet (${
        check.unknown.slice(0, UNKNOWN_LISTED).join(", ")
      }${more > 0 ? ` and ${more} more` : ""}), so its text was not used`,
    );
  }
  return {
    version: NARRATIVE_VERSION,
    provider: "vertex",
    model: settings.model,
    requested: { provider: "vertex", model: settings.model },
    // The model's text without its citations of the facts.
    text: check.text,
    check: { figures: check.figures.length, unknown: [] },
    facts: sheet,
  };
}

/** Who wrote a narrative, in one line. */
export function narrativeByline(n: Narrative): string {
  return n.provider === "vertex"
    ? `Written by Gemini model ${n.model} on Vertex AI from the fact sheet alone; each of its ${
      n.check?.figures ?? 0
    } figures was checked against the facts (narrative.json).`
    : `Written by the template (offline, deterministic) from the fact sheet; every figure is a fact of narrative.json, taken from summary.json${
      n.facts.movement ? ", movement.json" : ""
    } and data_quality.json.`;
}

/** The narrative's paragraphs. */
export function narrativeParagraphs(n: Narrative): string[] {
  return n.text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p !== "");
}

/**
 * The narrative's section of a page (`report.html`, `movement.html`): its
 * paragraphs (escaped), who wrote it and, after a fallback, why.
 */
export function narrativeSection(n: Narrative): Markup {
  return section("narrative", "Narrative", [
    // A long unbroken name (a product, a loan id) wraps rather than
    // widening the page.
    markup`<div class="narrative" style="overflow-wrap:anywhere">${
      narrativeParagraphs(n).map((p) => markup`<p>${p}</p>`)
    }</div>`,
    n.fallback_reason
      ? warningList([
        `${n.fallback_reason}; the template's text is shown instead`,
      ])
      : "",
    note(narrativeByline(n)),
  ]);
}
