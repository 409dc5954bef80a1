/**
 * `deno task notebooks [--only NAME]... [--loans N] [--out DIR]`: executes
 * the notebooks of `notebooks/` headless with the Deno kernel, renders
 * them to HTML with an index page under `data/reports/<date>/` and checks
 * each page in Chromium (see lib/notebook).
 *
 * Exit codes: 0 every notebook ran and its page shows every output and
 * chart; 1 a cell failed, or a page lost an output or shows a blank chart
 * (the message names the notebook and the cell); 2 a usage error (an
 * --out that is a file, or where no folder can be created, among them).
 *
 * @module
 */
import { join } from "node:path";
import { TaskCommand, UsageError, wholeNumber } from "./_args.ts";
import { NotebookNotFoundError, runNotebooks } from "../lib/notebook/mod.ts";
import { projectPath } from "../lib/mod.ts";
import { checkOutputDir } from "../lib/run_folder/mod.ts";

export const command = new TaskCommand({
  command: "deno task notebooks",
  synopsis: "[--only NAME]... [--loans N] [--out DIR]",
  flags: `  --only NAME  run only this notebook (repeat for several)
  --loans N    loans in the notebooks' generated book (default 20000, or
               IFRS9_NOTEBOOK_LOANS)
  --out DIR    where the rendered notebooks go (default data/reports/<today>)`,
  options: {
    only: { type: "string", multiple: true },
    loans: { type: "string" },
    out: { type: "string" },
  },
});

/** Runs `deno task notebooks` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const loans = wholeNumber("loans", values.loans);
    const env: Record<string, string> = loans === undefined
      ? {}
      : { IFRS9_NOTEBOOK_LOANS: String(loans) };
    const today = new Date().toISOString().slice(0, 10);
    const outDir = values.out ?? projectPath(join("data", "reports", today));
    // Where the pages go is checked before any notebook runs.
    await checkOutputDir(outDir);
    let report;
    try {
      report = await runNotebooks(projectPath("notebooks"), {
        outDir,
        env,
        only: values.only,
        onStart: (name) => console.log(`notebooks: running ${name}`),
      });
    } catch (e) {
      // A name --only does not know is a usage error (exit 2), not a
      // failed notebook.
      if (e instanceof NotebookNotFoundError) throw new UsageError(e.message);
      throw e;
    }
    for (const r of report.results) {
      const shown = r.page === undefined
        ? ""
        : `; outputs shown ${r.page.outputsPresent} of ${r.page.outputsExpected}, charts drawn ${r.page.chartsDrawn} of ${r.page.chartsExpected}`;
      console.log(
        `notebooks: ${r.name} ${r.status} (${r.seconds.toFixed(1)} s${shown})`,
      );
    }
    console.log(`notebooks: index ${report.index}`);
    if (report.ok) return 0;
    for (const r of report.results) {
      if (r.message !== null) console.error(r.message);
    }
    return 1;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
