/**
 * Headless execution of notebooks with the Deno Jupyter kernel, rendered to
 * HTML, with an index page: the notebook door run as a batch job.
 *
 * Each notebook is executed in place (the kernel's working directory is the
 * notebook's folder, so `../lib/mod.ts` and the `deno.json` import map
 * resolve) into a temporary copy, then that copy is rendered to HTML. Cells
 * run with `--allow-errors` so the rendered page shows where a notebook
 * broke; the executed copy is then searched for error outputs, and the
 * first one fails the notebook, named by notebook and cell.
 *
 * @module
 */
import { basename, join } from "node:path";
import {
  type CommandRunner,
  formatCommand,
  runCommand,
  tail,
} from "../setup/command.ts";
import { type CellError, findCellErrors, readNotebook } from "./notebook.ts";
import { markup, page, section, table } from "../page.ts";

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
}

/** How one notebook went. */
export interface NotebookResult {
  /** File name without `.ipynb`, e.g. `02_eda`. */
  name: string;
  /** The notebook file that was executed. */
  path: string;
  status: "ok" | "failed";
  /** Wall-clock seconds of execution and rendering. */
  seconds: number;
  /** The rendered page's file name inside `outDir`, when one was written. */
  html: string | null;
  /** The first failing cell, when a cell raised. */
  cellError: CellError | null;
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
  await Deno.mkdir(options.outDir, { recursive: true });
  const tmp = await Deno.makeTempDir({ prefix: `ifrs9-nb-${name}-` });
  try {
    const execute = [
      "jupyter-nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--allow-errors",
      `--ExecutePreprocessor.kernel_name=${options.kernel ?? "deno"}`,
      `--ExecutePreprocessor.timeout=${options.cellTimeoutSeconds ?? 900}`,
      "--output-dir",
      tmp,
      "--output",
      `${name}.ipynb`,
      path,
    ];
    const executed = await run(execute, { env: options.env });
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
    const errors = findCellErrors(await readNotebook(copy));
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
    let message: string | null = null;
    if (errors.length > 0) {
      const e = errors[0];
      message =
        `Notebook ${name} failed at cell ${e.cell} ("${e.firstLine}"): ${e.error}`;
    } else if (html === null) {
      message = `Notebook ${name} ran but could not be rendered: \`${
        formatCommand(render)
      }\` exited ${rendered.code}:\n${tail(rendered.stderr, 15)}`;
    }
    return {
      name,
      path,
      status: message === null ? "ok" : "failed",
      seconds: seconds(),
      html,
      cellError: errors[0] ?? null,
      message,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
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
  results: NotebookResult[];
  /** The index page written into `outDir`. */
  index: string;
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
      throw new Error(
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
  for (const path of paths) {
    options.onStart?.(basename(path));
    results.push(await executeNotebook(path, options));
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
