/**
 * `deno task score-pd --model DIR --data PATH --out FILE`: scores every
 * row of a data file (CSV, Parquet or Arrow IPC) with a model folder
 * written by `deno task train-pd`, through ONNX Runtime, and writes the
 * rows as read with `pd` (and, for a scorecard, `score` and `reason_1` ..
 * `reason_3`) to FILE: Parquet for `.parquet`, CSV for `.csv`
 * (docs/pd_models.md, "Scoring in a run").
 *
 * FILE is checked before anything is read (not a folder, not an input,
 * not inside a run folder) and written whole or not at all (a hidden
 * temporary file beside it, renamed last).
 *
 * Exit codes (lib/errors.ts): 0 scored and written; 1 a PD outside (0, 1);
 * 2 a usage error, a model folder or data file that cannot be used, a
 * model that does not match its contract, a missing feature column (the
 * message names it); 3 FILE cannot be written; 70 a bug.
 *
 * @module
 */
import { extname, join } from "node:path";
import { checkOutputFile, writeWhole } from "../lib/run_folder/mod.ts";
import { formatCount, scorePdData } from "../lib/mod.ts";
import { required, TaskCommand, UsageError } from "./_args.ts";

export const command = new TaskCommand({
  command: "deno task score-pd",
  synopsis: "--model DIR --data PATH --out FILE",
  flags:
    `  --model DIR   model folder (model.onnx, model.json) from deno task train-pd
  --data PATH   rows to score (.csv, .parquet, .arrow): every feature column of the model
  --out FILE    the scored rows: .parquet or .csv, by the extension`,
  options: {
    model: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
  },
  required: ["model", "data", "out"],
});

/** The output formats, by extension. */
const FORMATS = { ".parquet": "parquet", ".csv": "csv" } as const;

/** Runs `deno task score-pd` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { model, data, out } = required(values, "model", "data", "out");
    const ext = extname(out).toLowerCase();
    const format = FORMATS[ext as keyof typeof FORMATS];
    if (format === undefined) {
      throw new UsageError(
        `--out must end in .parquet or .csv (the format is read from it), got ${out}`,
      );
    }
    // Where the output goes is checked before anything is read.
    await checkOutputFile(out, {
      inputs: [data, join(model, "model.onnx"), join(model, "model.json")],
    });
    const started = performance.now();
    const scored = await scorePdData({ model, data });
    await writeWhole(out, (temp) => {
      if (format === "parquet") scored.frame.writeParquet(temp);
      else scored.frame.writeCSV(temp);
      return Promise.resolve();
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${data}: ${
        formatCount(scored.frame.height)
      } rows scored with ${scored.model.path} (${scored.kind}, sha256 ${
        scored.model.sha256.slice(0, 12)
      }…) in ${seconds.toFixed(2)} s; wrote ${out}`,
    );
    for (const [feature, n] of Object.entries(scored.missing)) {
      if (n > 0) console.log(`  ${feature}: ${formatCount(n)} missing`);
    }
    for (const [feature, n] of Object.entries(scored.unknown)) {
      if (n > 0) {
        console.log(
          `  ${feature}: ${
            formatCount(n)
          } with a category the model does not know (scored as missing)`,
        );
      }
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
