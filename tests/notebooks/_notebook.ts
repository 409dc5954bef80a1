/**
 * Tiny notebooks for the runner's tests, written to a folder the test
 * makes.
 *
 * @module
 */
import { join } from "node:path";
import type { Notebook, NotebookCell } from "../../lib/notebook/mod.ts";

/** A code cell, not yet executed. */
export function code(source: string): NotebookCell {
  return {
    cell_type: "code",
    execution_count: null,
    metadata: {},
    outputs: [],
    source,
  };
}

/** A markdown cell. */
export function markdown(source: string): NotebookCell {
  return { cell_type: "markdown", metadata: {}, source };
}

/** A Deno-kernel notebook of `cells`, each with an id (nbformat 4.5). */
export function notebook(cells: NotebookCell[]): Notebook {
  return {
    cells: cells.map((c, i) => ({ ...c, id: `cell-${i}` })),
    metadata: {
      kernelspec: {
        display_name: "Deno",
        language: "typescript",
        name: "deno",
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Writes each notebook as `<dir>/<name>.ipynb`. */
export async function writeNotebooks(
  dir: string,
  books: Record<string, Notebook>,
): Promise<void> {
  for (const [name, nb] of Object.entries(books)) {
    await Deno.writeTextFile(join(dir, `${name}.ipynb`), JSON.stringify(nb));
  }
}
