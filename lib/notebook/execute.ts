/**
 * Headless execution of notebooks with the Deno Jupyter kernel, rendered to
 * HTML and checked in a browser, with an index page: the notebook door run
 * as a batch job.
 *
 * Each notebook is executed in place (the kernel's working directory is the
 * notebook's folder, so `../lib/mod.ts` and the `deno.json` import map
 * resolve) into a temporary copy, then that copy is rendered to HTML. Cells
 * run with `--allow-errors` so the rendered page shows where a notebook
 * broke; the executed copy is then searched for error outputs, and the
 * first one fails the notebook, named by notebook and cell.
 *
 * Execution goes through nbconvert with `flush_execute.py` beside this
 * file instead of nbconvert's own `--execute`: the Deno kernel can send a
 * cell's output after the cell's idle status, where nbconvert stops
 * listening, and the output is lost (that file says why and how it waits
 * for them). The page is then opened in Chromium and compared with the
 * executed notebook ({@link openPageChecker}): an output missing or empty
 * on the page, or a chart without size or marks, fails the notebook.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { basename, delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CommandRunner,
  formatCommand,
  runCommand,
  tail,
} from "../setup/command.ts";
import {
  type CellError,
  findCellErrors,
  type Notebook,
  readNotebook,
} from "./notebook.ts";
import {
  openPageChecker,
  type PageCheck,
  type PageChecker,
} from "./page_check.ts";
import { markup, page, section, table } from "../page.ts";
import { makeOutputDir } from "../run_folder/output_path.ts";

/** Thrown when a notebook asked for by name is not in the folder. */
export class NotebookNotFoundError extends UserError {
  /**
   * The error.
   *
   * @param message Which notebook, and which ones exist.
   */
  constructor(message: string) {
    super("usage", message);
    this.name = "NotebookNotFoundError";
  }
}

/** This folder, where `flush_execute.py` lives, for Python's import path. */
const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The nbconvert preprocessor that executes a notebook without losing output. */
const EXECUTOR = "flush_execute.FlushingExecutePreprocessor";

/**
 * Seconds nbconvert waits, once a cell has replied, for its outputs up to
 * the flush marker; past it the run fails instead of dropping them.
 */
const IOPUB_TIMEOUT_SECONDS = 60;

/** Options of {@link executeNotebook} and {@link runNotebooks}. */
export interface ExecuteOptions {
  /** Folder for the rendered `<name>.html` pages (created when missing). */
  outDir: string;
  /** Extra environment of the kernel, e.g. `IFRS9_NOTEBOOK_LOANS`. */
  env?: Record<string, string>;
  /** Seconds one cell may run before it counts as failed. @default 900 */
  cellTimeoutSeconds?: number;
  /** The Jupyter kernel to run. @default "deno" */
  kernel?: string;
  /** Runs `jupyter-nbconvert`. @default runCommand */
  run?: CommandRunner;
  /**
   * An open browser to check the rendered page with.
   * @default one opened (and closed) for this notebook
   */
  pages?: PageChecker;
}

/** How one notebook went. */
export interface NotebookResult {
  /** File name without `.ipynb`, e.g. `02_eda`. */
  name: string;
  /** The notebook file that was executed. */
  path: string;
  /** `failed` when a cell raised or the page lost what the notebook shows. */
  status: "ok" | "failed";
  /** Wall-clock seconds of execution and rendering. */
  seconds: number;
  /** The rendered page's file name inside `outDir`, when one was written. */
  html: string | null;
  /** The first failing cell, when a cell raised. */
  cellError: CellError | null;
  /**
   * The rendered page compared in Chromium with the executed notebook;
   * absent when no page was rendered.
   */
  page?: PageCheck;
  /** Why it failed, naming notebook and cell; null when it passed. */
  message: string | null;
}

/**
 * Executes one notebook headless and renders it to `outDir/<name>.html`.
 * Never throws for a failing notebook: the result says what failed.
 *
 * @param path The `.ipynb` file.
 * @param options Output folder, kernel environment, timeout.
 */
export async function executeNotebook(
  path: string,
  options: ExecuteOptions,
): Promise<NotebookResult> {
  const run = options.run ?? runCommand;
  const name = basename(path).replace(/\.ipynb$/, "");
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  // A file where the folder goes is a usage error naming it.
  await makeOutputDir(options.outDir);
  const tmp = await Deno.makeTempDir({ prefix: `ifrs9-nb-${name}-` });
  try {
    const execute = [
      "jupyter-nbconvert",
      "--to",
      "notebook",
      `--NotebookExporter.preprocessors=${JSON.stringify([EXECUTOR])}`,
      "--allow-errors",
      `--ExecutePreprocessor.kernel_name=${options.kernel ?? "deno"}`,
      `--ExecutePreprocessor.timeout=${options.cellTimeoutSeconds ?? 900}`,
      `--ExecutePreprocessor.iopub_timeout=${IOPUB_TIMEOUT_SECONDS}`,
      "--ExecutePreprocessor.raise_on_iopub_timeout=True",
      "--output-dir",
      tmp,
      "--output",
      `${name}.ipynb`,
      path,
    ];
    const pythonPath = [HERE, Deno.env.get("PYTHONPATH")].filter((p) => p)
      .join(delimiter);
    const executed = await run(execute, {
      env: { ...options.env, PYTHONPATH: pythonPath },
    });
    const copy = join(tmp, `${name}.ipynb`);
    if (executed.code !== 0) {
      // With --allow-errors a raising cell does not end here; this is a
      // kernel that would not start, a timeout or an unreadable notebook.
      return {
        name,
        path,
        status: "failed",
        seconds: seconds(),
        html: null,
        cellError: null,
        message: `Notebook ${name} failed: \`${
          formatCommand(execute)
        }\` exited ${executed.code}:\n${tail(executed.stderr, 15)}`,
      };
    }
    const notebook = await readNotebook(copy);
    const errors = findCellErrors(notebook);
    const render = [
      "jupyter-nbconvert",
      "--to",
      "html",
      "--output-dir",
      options.outDir,
      "--output",
      name,
      copy,
    ];
    const rendered = await run(render);
    const html = rendered.code === 0 ? `${name}.html` : null;
    const pageCheck = html === null
      ? undefined
      : await checkPage(join(options.outDir, html), notebook, name, options);
    let message: string | null = null;
    if (errors.length > 0) {
      const e = errors[0];
      message =
        `Notebook ${name} failed at cell ${e.cell} ("${e.firstLine}"): ${e.error}`;
    } else if (html === null) {
      message = `Notebook ${name} ran but could not be rendered: \`${
        formatCommand(render)
      }\` exited ${rendered.code}:\n${tail(rendered.stderr, 15)}`;
    } else if (pageCheck !== undefined && pageCheck.problems.length > 0) {
      message =
        `Notebook ${name}: its page ${html} does not show what the notebook holds:\n${
          pageCheck.problems.map((p) => `  ${p}`).join("\n")
        }`;
    }
    return {
      name,
      path,
      status: message === null ? "ok" : "failed",
      seconds: seconds(),
      html,
      cellError: errors[0] ?? null,
      page: pageCheck,
      message,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Checks a page with the browser given, or one opened for it. */
async function checkPage(
  htmlPath: string,
  notebook: Notebook,
  name: string,
  options: ExecuteOptions,
): Promise<PageCheck> {
  if (options.pages !== undefined) {
    return await options.pages.check(htmlPath, notebook, name);
  }
  const pages = await openPageChecker();
  try {
    return await pages.check(htmlPath, notebook, name);
  } finally {
    await pages.close();
  }
}

/** Options of {@link runNotebooks}. */
export interface RunNotebooksOptions extends ExecuteOptions {
  /**
   * Notebooks to run, each a file name with or without `.ipynb`, or its
   * number (`02`) or topic (`eda`). @default every notebook in the folder
   */
  only?: readonly string[];
  /** Called before each notebook starts, for progress output. */
  onStart?: (name: string) => void;
}

/** What {@link runNotebooks} did. */
export interface NotebookRunReport {
  /** One per notebook, in reading order. */
  results: NotebookResult[];
  /** The index page written into `outDir`. */
  index: string;
  /** Whether every notebook passed. */
  ok: boolean;
}

/**
 * The `.ipynb` files of `dir` in name order (their numbers give the
 * reading order), optionally narrowed by `only`.
 *
 * @throws {Error} When an `only` entry matches no notebook.
 */
export async function listNotebooks(
  dir: string,
  only?: readonly string[],
): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) names.push(entry.name);
  }
  names.sort();
  if (only === undefined || only.length === 0) {
    return names.map((n) => join(dir, n));
  }
  const picked = new Set<string>();
  for (const want of only) {
    const stem = want.replace(/\.ipynb$/, "");
    const hits = names.filter((n) => {
      const s = n.replace(/\.ipynb$/, "");
      return s === stem || s.split("_")[0] === stem ||
        s.slice(s.indexOf("_") + 1) === stem;
    });
    if (hits.length === 0) {
      throw new NotebookNotFoundError(
        `No notebook ${want} in ${dir}; there are: ${
          names.map((n) => n.replace(/\.ipynb$/, "")).join(", ")
        }`,
      );
    }
    hits.forEach((h) => picked.add(h));
  }
  return names.filter((n) => picked.has(n)).map((n) => join(dir, n));
}

/**
 * Executes the notebooks of `dir` one after another (each builds its own
 * small book, so none depends on another's output), renders each to HTML
 * and writes `index.html` listing each with its status and time.
 *
 * @param dir The notebooks folder.
 * @param options Output folder, selection, kernel environment.
 */
export async function runNotebooks(
  dir: string,
  options: RunNotebooksOptions,
): Promise<NotebookRunReport> {
  const paths = await listNotebooks(dir, options.only);
  const results: NotebookResult[] = [];
  // One browser for every page: starting Chromium costs about a second.
  const pages = options.pages ?? await openPageChecker();
  try {
    for (const path of paths) {
      options.onStart?.(basename(path));
      results.push(await executeNotebook(path, { ...options, pages }));
    }
  } finally {
    if (options.pages === undefined) await pages.close();
  }
  const index = join(options.outDir, "index.html");
  await Deno.writeTextFile(index, renderIndex(results, new Date()));
  return { results, index, ok: results.every((r) => r.status === "ok") };
}

/**
 * The index page of a notebook run: one row per notebook with a link to
 * its page, its status, its time and, for a failure, why (the failing cell
 * or the command's output), in the page shell of the reports.
 */
export function renderIndex(
  results: readonly NotebookResult[],
  at: Date,
): string {
  const passed = results.filter((r) => r.status === "ok").length;
  return page(
    {
      title: "IFRS 9 notebooks",
      subtitle:
        `Executed ${at.toISOString()}: ${passed} of ${results.length} passed.`,
    },
    section(
      "notebooks",
      "Notebooks",
      table<NotebookResult>(
        [
          {
            label: "Notebook",
            // The file name percent-encoded: a relative link, whatever
            // characters the notebook's name holds.
            value: (r) =>
              r.html === null
                ? r.name
                : markup`<a href="${encodeURIComponent(r.html)}">${r.name}</a>`,
          },
          { label: "Status", value: (r) => r.status },
          {
            label: "Outputs shown",
            value: (r) =>
              r.page && `${r.page.outputsPresent} of ${r.page.outputsExpected}`,
            numeric: true,
          },
          {
            label: "Charts drawn",
            value: (r) =>
              r.page && `${r.page.chartsDrawn} of ${r.page.chartsExpected}`,
            numeric: true,
          },
          {
            label: "Time",
            value: (r) => `${r.seconds.toFixed(1)} s`,
            numeric: true,
          },
          { label: "Failure", value: (r) => r.message, wrap: true },
        ],
        results,
        { rowClass: (r) => (r.status === "failed" ? "bad" : undefined) },
      ),
    ),
  );
}
