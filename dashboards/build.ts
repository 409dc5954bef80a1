/**
 * Builds the trend dashboard over run folders, and optionally the star
 * schema export for Power BI / BigQuery:
 *
 * ```sh
 * deno run -A dashboards/build.ts --runs data/runs/2025-12-31 data/runs/2026-03-31 \
 *   --out data/reports/dashboard.html [--star DIR]
 * ```
 *
 * `--runs` takes every following argument that does not start with `--`.
 *
 * @module
 */
import { exportStarSchema, writeDashboard } from "../lib/report/mod.ts";

const USAGE =
  "Usage: deno run -A dashboards/build.ts --runs RUN_DIR... --out FILE [--star DIR]";

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}

const runs: string[] = [];
let out: string | undefined;
let star: string | undefined;
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i];
  if (a === "--runs") {
    while (i + 1 < Deno.args.length && !Deno.args[i + 1].startsWith("--")) {
      runs.push(Deno.args[++i]);
    }
  } else if (a === "--out") out = Deno.args[++i];
  else if (a === "--star") star = Deno.args[++i];
  else if (a === "--help" || a === "-h") {
    console.log(USAGE);
    Deno.exit(0);
  } else usage(`unknown argument ${a}`);
}
if (runs.length === 0) usage("--runs needs at least one run folder");
if (!out) usage("--out is required");

try {
  console.log(await writeDashboard(runs, out));
  if (star) {
    const result = await exportStarSchema(runs, star);
    console.log(
      `star schema in ${result.outDir}: ${
        Object.entries(result.rows).map(([t, n]) => `${t} ${n}`).join(", ")
      }`,
    );
  }
} catch (e) {
  console.error((e as Error).message);
  Deno.exit(1);
}
