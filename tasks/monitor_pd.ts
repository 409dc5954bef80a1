/**
 * `deno task monitor-pd --model DIR --data PATH --out DIR`: monitors a PD
 * model (a folder written by `deno task train-pd`) on a later population
 * (CSV, Parquet or Arrow IPC): population stability of the score and of
 * each characteristic against the development sample and, when the data
 * holds the model's target column, a backtest by grade with traffic
 * lights. Writes OUT/monitor.json and OUT/monitor.html, whole or not at
 * all, and prints the PSI of the score, the worst characteristics and the
 * zones.
 *
 * The data is scored through the model's ONNX file with ONNX Runtime, its
 * signature checked against model.json's feature contract first; a
 * missing feature column is refused, naming it. OUT is checked before
 * anything is read: a file, a folder holding other files, an input or a
 * folder holding one is refused.
 *
 * Exit codes (lib/errors.ts): 0 written; 2 a usage error, a model folder
 * or data that cannot be read, a missing feature column, a target column
 * that is not binary or has one class (the message names it); 3 the
 * outputs cannot be written; 4 another process is writing OUT; 70 a bug.
 *
 * @module
 */
import {
  checkMonitorOutput,
  formatCount,
  formatPercent,
  isS3Url,
  monitorPdFiles,
  readPdData,
  withModelFolder,
  writeMonitorOutputs,
} from "../lib/mod.ts";
import { required, TaskCommand, UsageError } from "./_args.ts";

export const command = new TaskCommand({
  command: "deno task monitor-pd",
  synopsis: "--model DIR --data PATH --out DIR",
  flags:
    `  --model DIR   a model folder written by deno task train-pd (model.json,
                model.onnx): a local folder or s3://bucket/prefix
  --data PATH   the population to monitor, with the model's characteristics
                (and its target column, for the backtest): CSV, Parquet or
                Arrow IPC, told by the file's first bytes, not its name; a
                local file or s3://bucket/key
  --out DIR     a local folder for monitor.json and monitor.html`,
  options: {
    model: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
  },
  required: ["model", "data", "out"],
});

/** Runs `deno task monitor-pd` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { model, data, out } = required(values, "model", "data", "out");
    if (isS3Url(out)) {
      throw new UsageError(
        `Cannot write ${out}: --out takes a local folder (monitor-pd does not write to object storage); write it here, then copy it`,
      );
    }
    const local = [model, data].filter((p) => !isS3Url(p));
    await checkMonitorOutput(out, local);
    const read = await readPdData(data, "the monitoring data");
    const result = await withModelFolder(model, async (folder) => {
      const r = await monitorPdFiles({
        model: folder.dir,
        data: read.frame,
        dataName: data,
      });
      r.model.path = model;
      return r;
    });
    result.data.sha256 = read.sha256;
    const bt = result.backtest;
    if (bt && bt.auc === null) {
      // One class only (a quarter without defaults): the backtest and the
      // stability still hold; discrimination cannot be measured.
      result.notes.push(
        `AUC, Gini and KS: n/a: the target ${bt.target} has ${
          bt.defaults === 0 ? "no default" : "no non-default"
        } among the ${bt.rows} rows, so discrimination cannot be measured; the backtest by grade still applies`,
      );
    }
    const files = await writeMonitorOutputs(result, out, local);
    console.log(
      `${formatCount(result.data.rows)} rows scored; score PSI ${
        result.score.psi.toFixed(4)
      } (${result.score.reading})`,
    );
    const worst = [...result.features].sort((a, b) => b.psi - a.psi)
      .slice(0, 3);
    for (const f of worst) {
      console.log(`  ${f.name}: PSI ${f.psi.toFixed(4)} (${f.reading})`);
    }
    if (bt) {
      console.log(
        `backtest on ${bt.target}: ${formatCount(bt.defaults)} defaults (${
          formatPercent(bt.defaultRate)
        }) against a mean PD of ${
          formatPercent(bt.meanPd)
        }; grades green ${bt.zones.green}, yellow ${bt.zones.yellow}, red ${bt.zones.red}`,
      );
    }
    for (const n of result.notes) console.error(`note: ${n}`);
    console.log(files.html);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
