/**
 * What the shipped plugins share: reading a small CSV of text cells (a
 * watchlist, a list of overlays) and checking a plugin's options with zod,
 * each failure a {@link UserError} of kind `input` naming the plugin, the
 * file, the line or the option.
 *
 * @module
 */
import pl from "nodejs-polars";
import { z } from "zod";
import { UserError } from "../lib/mod.ts";

/** One data row of a CSV: its 1-based line in the file and its cells. */
export interface CsvRow {
  /** Line number in the file (the header is line 1). */
  line: number;
  /** Trimmed cell text by column; an empty cell is `null`. */
  cells: Record<string, string | null>;
}

/**
 * The options of `plugin` parsed by `schema`, or a `UserError` naming the
 * plugin and each refused option (`options.file: ...`).
 */
export function parseOptions<S extends z.ZodType>(
  plugin: string,
  schema: S,
  options: unknown,
): z.infer<S> {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const key = i.path.length > 0 ? `options.${i.path.join(".")}` : "options";
    return `${key}: ${i.message}`;
  });
  throw new UserError(
    "input",
    `Plugin ${plugin} refuses its options: ${problems.join("; ")}`,
  );
}

/**
 * The rows of a CSV file, every cell read as text (trimmed; empty is
 * `null`), after checking its header holds the columns `required` asks for.
 *
 * @param plugin The plugin reading it, for messages.
 * @param file Path of the CSV (absolute, or relative to the working folder).
 * @param required Called with the header; returns a problem or undefined.
 */
export async function readCsvRows(
  plugin: string,
  file: string,
  required: (columns: string[]) => string | undefined,
): Promise<{ columns: string[]; rows: CsvRow[] }> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new UserError(
      "input",
      `Plugin ${plugin}: cannot read ${file}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let df: pl.DataFrame;
  try {
    df = pl.readCSV(text, { inferSchemaLength: 0, hasHeader: true });
  } catch (e) {
    throw new UserError(
      "input",
      `Plugin ${plugin}: ${file} is not a readable CSV: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
  const columns = df.columns.map((c) => c.trim());
  const problem = required(columns);
  if (problem !== undefined) {
    throw new UserError("input", `Plugin ${plugin}: ${file}: ${problem}`);
  }
  const rows = (df.toRecords() as Record<string, unknown>[]).map((r, i) => {
    const cells: Record<string, string | null> = {};
    df.columns.forEach((c, k) => {
      const v = r[c];
      const s = v === null || v === undefined ? "" : String(v).trim();
      cells[columns[k]] = s === "" ? null : s;
    });
    return { line: i + 2, cells };
  });
  return { columns, rows };
}
