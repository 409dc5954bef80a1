/**
 * The notebook door run headless: execute the numbered notebooks with the
 * Deno Jupyter kernel, render each to HTML with an index page, and check
 * that committed notebooks carry no outputs or absolute paths.
 *
 * @module
 */
export {
  type CellError,
  cellSource,
  committedNotebookIssues,
  findCellErrors,
  firstLine,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  readNotebook,
} from "./notebook.ts";
export {
  executeNotebook,
  type ExecuteOptions,
  listNotebooks,
  type NotebookResult,
  type NotebookRunReport,
  renderIndex,
  runNotebooks,
  type RunNotebooksOptions,
} from "./execute.ts";
