/**
 * The Jupyter notebook file (nbformat 4) as far as this project reads it:
 * finding the cells that raised, and checking that a committed notebook
 * carries no outputs and no absolute paths (notebooks are committed without
 * outputs, so diffs show code, not results; docs/notebooks.md).
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** One output of a code cell; `error` outputs carry the exception. */
export interface NotebookOutput {
  /** `stream`, `display_data`, `execute_result` or `error`. */
  output_type: string;
  /** The exception's class name, for an `error` output. */
  ename?: string;
  /** The exception's message, for an `error` output. */
  evalue?: string;
  /** The stack as the kernel formatted it, for an `error` output. */
  traceback?: string[];
  /** The other fields of nbformat (`name`, `text`, `data`, `metadata`). */
  [key: string]: unknown;
}

/** One cell. nbformat stores `source` as a string or a list of lines. */
export interface NotebookCell {
  /** What the cell holds. */
  cell_type: "code" | "markdown" | "raw";
  /** A stable id (required from nbformat 4.5). */
  id?: string;
  /** The cell's text, whole or as lines. */
  source: string | string[];
  /** What a code cell printed or displayed when it ran. */
  outputs?: NotebookOutput[];
  /** The kernel's counter when the cell ran; null before. */
  execution_count?: number | null;
  /** Front-end settings (tags, collapsed state). */
  metadata?: Record<string, unknown>;
}

/** A notebook document. */
export interface Notebook {
  /** The cells in reading order. */
  cells: NotebookCell[];
  /** Kernel spec, language info and front-end settings. */
  metadata: Record<string, unknown>;
  /** The format's major version (4). */
  nbformat: number;
  /** The format's minor version. */
  nbformat_minor: number;
}

/** A cell whose execution raised, located for a human. */
export interface CellError {
  /** 1-based position of the cell among all cells of the notebook. */
  cell: number;
  /** The first non-empty line of the cell's source. */
  firstLine: string;
  /** `ename: evalue` of the error output, without terminal colours. */
  error: string;
}

/** Reads and parses a notebook file, naming the file when it cannot. */
export async function readNotebook(path: string): Promise<Notebook> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new UserError(
      "input",
      `Cannot read notebook ${path}: ${(err as Error).message}`,
    );
  }
  try {
    const nb = JSON.parse(text) as Notebook;
    if (!Array.isArray(nb.cells)) throw new Error("no cells array");
    return nb;
  } catch (err) {
    throw new Error(
      `Cannot read notebook ${path}: not nbformat JSON: ${
        (err as Error).message
      }`,
    );
  }
}

/** A cell's source as one string. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The first non-empty line of a cell's source, for messages. */
export function firstLine(cell: NotebookCell): string {
  return cellSource(cell).split("\n").map((l) => l.trim()).find((l) =>
    l !== ""
  ) ?? "";
}

/**
 * Every code cell of an executed notebook that produced an `error` output,
 * in cell order.
 */
export function findCellErrors(nb: Notebook): CellError[] {
  const errors: CellError[] = [];
  nb.cells.forEach((cell, i) => {
    for (const out of cell.outputs ?? []) {
      if (out.output_type !== "error") continue;
      const error = `${out.ename ?? "Error"}: ${out.evalue ?? ""}`.replace(
        ANSI,
        "",
      );
      errors.push({ cell: i + 1, firstLine: firstLine(cell), error });
      break;
    }
  });
  return errors;
}

/**
 * Paths that only exist on one machine: a Unix home or system tree, a
 * temporary or workspace directory, or a Windows drive. Relative paths
 * (`../data/tmp/notebooks/`) are what notebooks use instead.
 */
const ABSOLUTE_PATH =
  /(?:^|[\s"'`(=])(\/(?:home|root|Users|tmp|work|var|opt|usr|mnt|srv)\/[^\s"'`)]*|[A-Za-z]:\\[^\s"'`)]*)/;

/**
 * What keeps a notebook from being committed as is: stored outputs,
 * execution counts, or absolute paths in a cell or the metadata. Returns
 * one message per problem; an empty list means the notebook is clean.
 *
 * @param nb The notebook.
 * @param name How messages name the notebook, e.g. `02_eda.ipynb`.
 */
export function committedNotebookIssues(nb: Notebook, name: string): string[] {
  const issues: string[] = [];
  nb.cells.forEach((cell, i) => {
    const where = `${name} cell ${i + 1} ("${firstLine(cell)}")`;
    if (cell.cell_type === "code") {
      if (!Array.isArray(cell.outputs) || cell.outputs.length > 0) {
        issues.push(`${where}: outputs must be [] in a committed notebook`);
      }
      if (cell.execution_count !== null) {
        issues.push(`${where}: execution_count must be null`);
      }
    }
    const path = cellSource(cell).match(ABSOLUTE_PATH);
    if (path) issues.push(`${where}: absolute path ${path[1]}`);
  });
  const meta = JSON.stringify(nb.metadata ?? {}).match(ABSOLUTE_PATH);
  if (meta) issues.push(`${name} metadata: absolute path ${meta[1]}`);
  return issues;
}
