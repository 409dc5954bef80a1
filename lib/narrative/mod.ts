/**
 * Narratives: a run's allowance (and its movement) explained in words for
 * the board pack (docs/narratives.md), from a fact sheet of the run's own
 * figures, by a deterministic template (the default, offline) or a Gemini
 * model on Vertex AI whose figures are checked against the facts.
 *
 * | what | file |
 * |---|---|
 * | the fact sheet: every figure with an id, a value and its forms | `facts.ts` |
 * | the template narrative | `template.ts` |
 * | the Vertex AI call (`@google/genai`), bounded by a timeout | `vertex.ts` |
 * | the check that a text quotes only facts | `check.ts` |
 * | choosing the provider, falling back, `narrative.json`, the page section | `narrative.ts` |
 * | the fact sheet of existing run and movement folders | `read.ts` |
 * | the minimal narrative when anything fails | `fallback.ts` |
 *
 * @module
 */
export {
  amountForm,
  buildFactSheet,
  type Contributor,
  type Fact,
  FACT_SHEET_VERSION,
  type FactKind,
  type FactSheet,
  type FactSources,
  formsOf,
  type MovementFacts,
  redactIdentifiers,
  TOP_CONTRIBUTORS,
  TOP_FAILED_RULES,
  TOP_MOVEMENT_LINES,
} from "./facts.ts";
export {
  narrativeText,
  type Paragraph,
  templateNarrative,
} from "./template.ts";
export {
  checkNarrative,
  type NarrativeCheck,
  type QuotedFigure,
  quotedFigures,
} from "./check.ts";
export {
  DEFAULT_VERTEX_LOCATION,
  DEFAULT_VERTEX_MODEL,
  SYSTEM_INSTRUCTION,
  vertexNarrative,
  VertexNarrativeError,
  type VertexOptions,
  vertexPrompt,
} from "./vertex.ts";
export {
  DEFAULT_EXPLAIN_TIMEOUT_SECONDS,
  type ExplainSettings,
  explainSettings,
  type Narrative,
  NARRATIVE_VERSION,
  narrativeByline,
  narrativeParagraphs,
  type NarrativeProvider,
  narrativeSection,
  type VertexConnection,
  writeNarrative,
} from "./narrative.ts";
export {
  type FallbackContext,
  fallbackNarrative,
  safeNarrative,
} from "./fallback.ts";
export {
  narrateRunFolder,
  readFactSheet,
  readMovementFacts,
  recordedExplain,
  runWarnings,
} from "./read.ts";
