/**
 * The IFRS 7 §35M credit-risk tables (lib/disclosure) and the IRB capital
 * summary (lib/capital) of a merged run: from the parts' cells when every
 * part wrote them (`disclosure_cells.parquet`, `capital_cells.parquet`:
 * precise sums unreduced, added exactly, then converted and rolled up
 * once), so that they are the tables of one run of the whole book.
 *
 * Parts written without those cells: the capital summary is computed from
 * the merged loan results (what a run does; the same figures up to the
 * order of floating-point additions), and the IFRS 7 tables from the
 * merged loan results and carrying amounts without the portfolio's
 * `rating` and `collateral_value` (the run folder keeps neither): grades
 * then come from `pd_12m` alone and §35K(c) collateral is not available.
 * The manifest warns about both.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import type { Rules } from "../rules.ts";
import {
  type Manifest,
  type PendingRunFolder,
  type Summary,
} from "../run_folder/mod.ts";
import {
  CAPITAL_CELLS_FILE,
  capitalCellsOf,
  capitalSummary,
  capitalSummaryFromCells,
  mergeCapitalCells,
} from "../capital/mod.ts";
import {
  DISCLOSURE_CELLS_FILE,
  disclosureCellsOf,
  disclosuresFromCells,
  ifrs7Tables,
  mergeDisclosureCells,
  runFacilities,
} from "../disclosure/mod.ts";
import type { RunPart } from "./parts.ts";

/** Each part's cells file `name`, or null when any part lacks it. */
async function partCells(
  parts: readonly RunPart[],
  name: string,
): Promise<{ frame: DataFrame; where: string }[] | null> {
  const frames: { frame: DataFrame; where: string }[] = [];
  for (const p of parts) {
    const location = p.folder.location;
    if (!(await location.list()).includes(name)) return null;
    await location.prepareScan?.([name]);
    frames.push({
      frame: pl.readParquet(location.scanSource(name)),
      where: `${p.dir}/${name}`,
    });
  }
  return frames;
}

/** The capital summary of the merged run; undefined without `capital:` rules. */
export async function mergedCapital(
  parts: readonly RunPart[],
  folder: PendingRunFolder,
  rules: Rules,
  manifest: Manifest,
): Promise<Summary["capital"]> {
  if (rules.capital === undefined) return undefined;
  const cells = await partCells(parts, CAPITAL_CELLS_FILE);
  if (cells !== null) {
    return capitalSummaryFromCells(
      mergeCapitalCells(cells.map((c) => capitalCellsOf(c.frame, c.where))),
      rules,
    );
  }
  manifest.warnings.push(
    `the parts have no ${CAPITAL_CELLS_FILE}: the capital summary was computed from the merged loan results (the same figures up to the order of floating-point additions)`,
  );
  return await capitalSummary(
    pl.scanParquet(folder.path("loanResults")),
    rules,
  );
}

/** The IFRS 7 §35M tables of the merged run. */
export async function mergedDisclosures(
  parts: readonly RunPart[],
  folder: PendingRunFolder,
  summary: Summary,
  manifest: Manifest,
): Promise<unknown> {
  const opts = {
    reportingCurrency: summary.reporting_currency,
    rates: summary.fx.rates,
    simplifiedProducts: summary.simplified_products,
  };
  const cells = await partCells(parts, DISCLOSURE_CELLS_FILE);
  if (cells !== null) {
    return disclosuresFromCells(
      mergeDisclosureCells(
        cells.map((c) => disclosureCellsOf(c.frame, c.where)),
      ),
      opts,
    );
  }
  manifest.warnings.push(
    `the parts have no ${DISCLOSURE_CELLS_FILE}: the IFRS 7 tables were computed from the merged loan results without the portfolio's rating and collateral_value (grades from pd_12m alone, no §35K(c) collateral)`,
  );
  return await ifrs7Tables(
    runFacilities(
      pl.scanParquet(folder.path("loanResults")),
      pl.scanParquet(folder.path("carryingAmounts")),
    ),
    opts,
  );
}
