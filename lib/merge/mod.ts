/**
 * Merging the parts of a partitioned run (`deno task run --partition
 * K/N`, docs/partitions.md) into one ordinary run folder, exactly: the
 * parts' files concatenated and their summary cells added with the
 * precise sums unreduced, no ECL recomputed (issue 17, "Exact merge").
 *
 * | what | file |
 * |---|---|
 * | reading the parts and checking that they belong together | `parts.ts` |
 * | writing the merged run folder | `merge.ts` |
 * | the IFRS 7 tables and the capital summary from the parts' cells | `tables.ts` |
 *
 * @module
 */
export {
  addWarningCounts,
  mergeDataQuality,
  type MergeOptions,
  type MergeResult,
  mergeRuns,
} from "./merge.ts";
export { readPart, readParts, type RunPart } from "./parts.ts";
