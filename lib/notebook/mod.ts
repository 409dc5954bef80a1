/**
 * The notebook door run headless: execute the numbered notebooks with the
 * Deno Jupyter kernel, render each to HTML with an index page, check each
 * page in Chromium against its executed notebook (every output shown,
 * every chart drawn), and check that committed notebooks carry no outputs
 * or absolute paths.
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
  NotebookNotFoundError,
  type NotebookResult,
  type NotebookRunReport,
  renderIndex,
  runNotebooks,
  type RunNotebooksOptions,
} from "./execute.ts";
export {
  CHROMIUM,
  CHROMIUM_ARGS,
  type ExpectedCell,
  expectedCells,
  type ExpectedOutput,
  HTML_DISPLAY_PRIORITY,
  openPageChecker,
  type PageCheck,
  type PageChecker,
  type PageCheckerOptions,
  requireChromium,
} from "./page_check.ts";
export type {
  CommandOptions,
  CommandResult,
  CommandRunner,
} from "../setup/command.ts";
