/**
 * A small hand-made run summary and its fact sheet, for the narrative
 * tests: two stages, two products, one overlay; figures chosen so the
 * forms can be checked by eye (ECL 1,250,000.00 on a gross carrying
 * amount of 50,000,000.00: coverage 2.50%).
 *
 * @module
 */
import type { Summary } from "../../lib/run_folder/mod.ts";
import { buildFactSheet, type FactSheet } from "../../lib/narrative/mod.ts";

const group = (
  key: string,
  count: number,
  gca: number,
  ecl: number,
) => ({
  key,
  count,
  gross_carrying_amount: gca,
  ead: gca,
  ecl,
  loss_allowance: ecl,
  provision: 0,
  coverage: ecl / gca,
});

/** The summary: stage 1 40M / 250k, stage 2 10M / 1M; overlay +50k. */
export function smallSummary(): Summary {
  return {
    run_id: "q4",
    reporting_date: "2025-12-31",
    reporting_currency: "EUR",
    simplified_products: [],
    fx: {
      file: "fx.yaml",
      sha256: "",
      base: "EUR",
      as_of: "2025-12-31",
      rates: { EUR: 1 },
    },
    scenarios: [{ name: "base", weight: 1, ecl: 1_200_000 }],
    totals: {
      ...group("", 300, 50_000_000, 1_250_000),
      ecl_model: 1_200_000,
    },
    by_stage: [
      group("1", 250, 40_000_000, 250_000),
      group("2", 50, 10_000_000, 1_000_000),
    ],
    by_product: [
      group("mortgage", 200, 35_000_000, 350_000),
      group("sme", 100, 15_000_000, 900_000),
    ],
    by_segment: [group("retail", 300, 50_000_000, 1_250_000)],
    by_region: [],
    by_currency: [],
    overlays: [{
      name: "energy",
      reason: "energy prices",
      multiplier: 1.05,
      facilities: 100,
      ecl_impact: 50_000,
      floored_facilities: 0,
    }],
    overlay_floor: { facilities: 0, ecl_impact: 0 },
  } as Summary;
}

/** The fact sheet of {@link smallSummary}. */
export function smallSheet(): FactSheet {
  return buildFactSheet({ summary: smallSummary() });
}
