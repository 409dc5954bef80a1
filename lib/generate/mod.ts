/**
 * Synthetic portfolio generator: a retail and SME book of a Spanish / Latin
 * American lender, rolled forward quarter by quarter, with optional injected
 * breakage for validator tests. See docs/generator.md for the distributions
 * and the roll-forward.
 *
 * @module
 */
export {
  GENERATE_DATES,
  generateBook,
  type GeneratedSnapshot,
  type GenerateOptions,
  generatePortfolio,
  type GenerateProgress,
  type GenerateResult,
  type InjectedSidecar,
  MAX_SEED,
  snapshotFiles,
  STAGING_NAME,
} from "./generate.ts";
export {
  injectableCodes,
  type InjectedRow,
  type InjectionFormat,
} from "./inject.ts";
export { Rng } from "./random.ts";
export {
  fxTableText,
  type GeneratedFxTable,
  generateFxTables,
} from "./fx_tables.ts";
export {
  BAND_PD,
  CHARACTERISTICS,
  COUNTRIES,
  CURRENCIES,
  EMPLOYMENT_TYPES,
  FX_QUARTERLY_VOLATILITY,
  PRODUCTS,
  RATING_SCALE,
  REFERENCE_FX,
  REGIONS,
  SCORE_BANDS,
} from "./catalogue.ts";
export { linearPredictor, NOISE_SD } from "./characteristics.ts";
export { addMonths, monthsBetween, quarterlyDates } from "./calendar.ts";
