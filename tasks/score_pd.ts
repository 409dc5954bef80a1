/**
 * `deno task score-pd --model DIR --data PATH --out FILE`: scores every
 * row of a data file (CSV, Parquet or Arrow IPC) with a model folder
 * written by `deno task train-pd`, through ONNX Runtime, and writes the
 * rows as read with `pd` (and, for a scorecard, `score` and `reason_1` ..
 * `reason_3`) to FILE: Parquet for `.parquet`, CSV for `.csv`
 * (docs/pd_models.md, "Scoring in a run").
 *
 * The model folder and the data may be local or in object storage
 * (`s3://`, docs/storage.md); FILE is a local file. FILE is checked
 * before anything is read: not a folder, not an input, not inside a run
 * folder, a model folder or an input folder, and not an existing file
 * unless `--replace` is given; it is written whole or not at all (a
 * hidden temporary file beside it, renamed last), its folder created.
 *
 * Exit codes (lib/errors.ts): 0 scored and written; 1 a PD outside (0, 1);
 * 2 a usage error, a model folder or data file that cannot be used, a
 * model that does not match its contract, a missing feature column (the
 * message names it); 3 FILE cannot be written; 70 a bug.
 *
 * @module
 */
import { extname } from "node:path";
import {
  checkNewOutputFile,
  formatCount,
  scorePdData,
  writeNewOutputFile,
} from "../lib/mod.ts";
import { required, TaskCommand, UsageError } from "./_args.ts";

export const command = new TaskCommand({
  command: "deno task score-pd",
  synopsis: "--model DIR --data PATH --out FILE [--replace]",
  flags:
    `  --model DIR   model folder (model.onnx, model.json) from deno task train-pd;
                a local folder or s3://bucket/prefix
  --data PATH   rows to score, with every feature column of the model: CSV,
                Parquet or Arrow IPC (told by the file's first bytes, not its
                name); a local file or s3://bucket/key
  --out FILE    the scored rows, a local file: Parquet when FILE ends in
                .parquet, CSV when it ends in .csv
  --replace     write over FILE if it exists (never over an input, nor inside
                a model or run folder)`,
  options: {
    model: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    replace: { type: "boolean" },
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
    await checkNewOutputFile(out, {
      inputs: [data, model],
      replace: values.replace === true,
      noS3: "score-pd writes the scored rows to a local file",
    });
    const started = performance.now();
    const scored = await scorePdData({ model, data });
    await writeNewOutputFile(out, (temp) => {
      if (format === "parquet") scored.frame.writeParquet(temp);
      else scored.frame.writeCSV(temp);
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${data}: ${
        formatCount(scored.frame.height)
      } rows scored with ${scored.model.path} (${scored.kind}, sha256 ${
        scored.model.sha256.slice(0, 12)
      }…) in ${seconds.toFixed(2)} s; wrote ${out}`,
    );
    for (const w of scored.warnings) console.error(`WARNING: ${w}`);
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
