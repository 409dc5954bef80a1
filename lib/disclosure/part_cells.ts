/**
 * The IFRS 7 and capital cells a part of a partitioned run keeps in its run
 * folder (docs/partitions.md, docs/disclosures.md "Cells"), for `deno task
 * merge` to add up exactly: `disclosure_cells.parquet`
 * ({@link DisclosureCells}) and, when the rules have a `capital:` section,
 * `capital_cells.parquet` (`CapitalCells`, lib/capital), the precise sums'
 * parts not yet reduced (`lib/precise_sum.ts`). Written into the staging
 * folder of the part, read back from a folder path, an `s3://` prefix or a
 * location (`lib/run_folder`).
 *
 * @module
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import {
  locate,
  type Location,
  PART_FILES,
  readFolderParquet,
  RunFolderReadError,
} from "../run_folder/mod.ts";
import {
  CAPITAL_CELLS_FILE,
  type CapitalCells,
  capitalCellsOf,
  capitalCellsProblem,
} from "../capital/run.ts";
import {
  type DisclosureCells,
  disclosureCellsOf,
  disclosureCellsProblem,
} from "./ifrs7.ts";

/** The file of a part's disclosure cells (`PART_FILES.disclosureCells`). */
export const DISCLOSURE_CELLS_FILE: string = PART_FILES.disclosureCells;

/**
 * Writes the disclosure cells of a part of a partitioned run into its
 * (staging) run folder `dir` as {@link DISCLOSURE_CELLS_FILE}.
 */
export function writeDisclosureCells(
  dir: string,
  cells: DisclosureCells,
): void {
  cells.frame.writeParquet(join(dir, DISCLOSURE_CELLS_FILE));
}

/**
 * Writes the capital cells of a part of a partitioned run into its
 * (staging) run folder `dir` as {@link CAPITAL_CELLS_FILE}.
 */
export function writeCapitalCells(dir: string, cells: CapitalCells): void {
  cells.frame.writeParquet(join(dir, CAPITAL_CELLS_FILE));
}

/**
 * Reads the disclosure cells a part wrote ({@link writeDisclosureCells})
 * from its run folder.
 *
 * @throws {RunFolderReadError} when the file is missing, unreadable or not
 *   disclosure cells, naming the folder, the file and the column.
 */
export async function readDisclosureCells(
  folder: string | Location,
): Promise<DisclosureCells> {
  const location = locate(folder);
  const frame = await readFolderParquet(location, DISCLOSURE_CELLS_FILE);
  if (frame === null) {
    throw new RunFolderReadError(
      location.href,
      DISCLOSURE_CELLS_FILE,
      "file is missing: only the run folder of a part (deno task run --partition K/N) has it",
    );
  }
  const problem = disclosureCellsProblem(frame);
  if (problem !== null) {
    throw new RunFolderReadError(location.href, DISCLOSURE_CELLS_FILE, problem);
  }
  return disclosureCellsOf(frame, DISCLOSURE_CELLS_FILE);
}

/**
 * Reads the capital cells a part wrote ({@link writeCapitalCells}) from its
 * run folder; null when the part has none (its rules have no `capital:`
 * section).
 *
 * @throws {RunFolderReadError} when the file is unreadable or not capital
 *   cells, naming the folder, the file and the column.
 */
export async function readCapitalCells(
  folder: string | Location,
): Promise<CapitalCells | null> {
  const location = locate(folder);
  const frame = await readFolderParquet(location, CAPITAL_CELLS_FILE);
  if (frame === null) return null;
  const problem = capitalCellsProblem(frame);
  if (problem !== null) {
    throw new RunFolderReadError(location.href, CAPITAL_CELLS_FILE, problem);
  }
  return capitalCellsOf(frame, CAPITAL_CELLS_FILE);
}
