/**
 * `deno task notebooks [--only NAME]... [--loans N] [--out DIR]`: executes
 * the notebooks of `notebooks/` headless with the Deno kernel and renders
 * them to HTML with an index page under `data/reports/<date>/` (see
 * lib/notebook). Exits 1 naming notebook and cell when a cell fails.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { runNotebooks } from "../lib/notebook/mod.ts";

const USAGE =
  "usage: deno task notebooks [--only NAME]... [--loans N] [--out DIR]";

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string", multiple: true },
      loans: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  Deno.exit(2);
}
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}

const env: Record<string, string> = {};
if (values.loans !== undefined) {
  if (!/^[1-9]\d*$/.test(values.loans)) {
    console.error(`--loans must be a positive integer, got ${values.loans}`);
    Deno.exit(2);
  }
  env.IFRS9_NOTEBOOK_LOANS = values.loans;
}

const root = fileURLToPath(new URL("..", import.meta.url));
const today = new Date().toISOString().slice(0, 10);
const outDir = values.out ?? `${root}data/reports/${today}`;

try {
  const report = await runNotebooks(`${root}notebooks`, {
    outDir,
    env,
    only: values.only,
    onStart: (name) => console.log(`notebooks: running ${name}`),
  });
  for (const r of report.results) {
    console.log(
      `notebooks: ${r.name} ${r.status} (${r.seconds.toFixed(1)} s)`,
    );
  }
  console.log(`notebooks: index ${report.index}`);
  if (!report.ok) {
    for (const r of report.results) {
      if (r.message !== null) console.error(r.message);
    }
    Deno.exit(1);
  }
} catch (err) {
  console.error((err as Error).message);
  Deno.exit(1);
}
