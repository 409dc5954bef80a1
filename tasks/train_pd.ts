/**
 * `deno task train-pd --data PATH --target COLUMN --out DIR [--model
 * scorecard|gbt] [--features a,b,c] [--seed S] [--hold-out
 * facility|out-of-time] [--held-out SHARE]`: trains
 * a PD model on development data (CSV, Parquet or Arrow IPC) and writes
 * DIR/model.onnx, DIR/model.json, DIR/metrics.json, DIR/validation.html and,
 * for a scorecard, DIR/scorecard.csv (docs/pd_models.md).
 *
 * DIR is written whole or not at all (staged beside it and renamed last,
 * replacing an earlier model folder there); a folder holding other files,
 * the data file, or a place inside a run folder is refused before anything
 * is read.
 *
 * Exit codes (lib/errors.ts): 0 trained and written; 2 a usage error, data
 * that cannot be read, a missing feature column, a target that is not
 * binary or has one class (the message names the column); 3 the outputs
 * cannot be written; 4 another process is writing DIR; 70 a bug.
 *
 * @module
 */
import {
  checkSeed,
  formatCount,
  formatPercent,
  HOLD_OUTS,
  PD_MODEL_FILES,
  trainPdModel,
} from "../lib/mod.ts";
import { number, oneOf, required, TaskCommand, UsageError } from "./_args.ts";

export const command = new TaskCommand({
  command: "deno task train-pd",
  synopsis:
    "--data PATH --target COLUMN --out DIR [--model scorecard|gbt] [--features a,b,c] [--seed S] [--hold-out facility|out-of-time] [--held-out SHARE]",
  flags:
    `  --data PATH        development data (.csv, .parquet, .arrow): one row per facility and date
  --target COLUMN    the outcome column: 1 defaulted within the window, 0 not
  --out DIR          folder for model.onnx, model.json, metrics.json, validation.html
                     (and scorecard.csv)
  --model KIND       scorecard (logistic on weights of evidence, the default) or gbt
                     (gradient-boosted trees)
  --features a,b,c   the characteristics, comma-separated (default: every column but
                     the target, identifiers, dates and a run's computed columns)
  --seed S           seed of the train / held-out split and of the trees (default 42)
  --hold-out HOW     facility (the default): a share of whole facilities (by loan_id
                     when the data has it) is held out, stratified on whether they
                     ever default, so no facility is fitted and validated; or
                     out-of-time: every row of the last reporting_date is held out
  --held-out SHARE   share of facilities held out with --hold-out facility (default 0.3)`,
  options: {
    data: { type: "string" },
    target: { type: "string" },
    out: { type: "string" },
    model: { type: "string", default: "scorecard" },
    features: { type: "string" },
    seed: { type: "string", default: "42" },
    "hold-out": { type: "string", default: "facility" },
    "held-out": { type: "string" },
  },
  required: ["data", "target", "out"],
});

/** The names of `--features a,b,c`, trimmed; none empty. */
function featureList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) {
    throw new UsageError(
      `--features must list column names separated by commas, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return names;
}

/** Runs `deno task train-pd` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { data, target, out } = required(values, "data", "target", "out");
    const model = oneOf("model", values.model, ["scorecard", "gbt"] as const)!;
    const seed = checkSeed(
      number("seed", values.seed, { whole: true, min: 0 })!,
      `--seed ${values.seed}`,
    );
    const holdOut = oneOf("hold-out", values["hold-out"], HOLD_OUTS)!;
    if (holdOut === "out-of-time" && values["held-out"] !== undefined) {
      throw new UsageError(
        "--held-out SHARE applies to --hold-out facility; out of time, the held-out part is every row of the last reporting date: give one of the two",
      );
    }
    const heldOutShare = number("held-out", values["held-out"] ?? "0.3")!;
    if (!(heldOutShare > 0 && heldOutShare < 1)) {
      throw new UsageError(
        `--held-out must be a share between 0 and 1 (exclusive), got ${
          values["held-out"]
        }`,
      );
    }
    const features = featureList(values.features);
    const started = performance.now();
    const trained = await trainPdModel({
      data,
      target,
      model,
      features,
      seed,
      holdOut,
      heldOutShare,
      out,
      onProgress: (line) => console.log(line),
    });
    const m = trained.metrics;
    const part = (name: string, p: typeof m.train) =>
      `${name}: ${formatCount(p.rows)} rows, ${
        formatCount(p.defaults)
      } defaults (${formatPercent(p.default_rate)}); AUC ${
        p.auc.toFixed(4)
      }, Gini ${formatPercent(p.gini)}, KS ${formatPercent(p.ks)}`;
    console.log(part("fitted  ", m.train));
    console.log(part("held out", m.held_out));
    const sp = m.split;
    console.log(
      sp.hold_out === "out-of-time"
        ? `held out out of time: the ${formatCount(m.held_out.rows)} rows of ${
          sp.date!.held_out
        } (${sp.date!.column})`
        : `held out by facility: ${formatCount(sp.facilities.held_out)} of ${
          formatCount(sp.facilities.train + sp.facilities.held_out)
        } ${
          sp.group === null ? "rows" : `facilities (${sp.group})`
        }, none also fitted`,
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `wrote ${trained.dir} (${
        Object.values(PD_MODEL_FILES).filter((f) =>
          f !== PD_MODEL_FILES.scorecard || model === "scorecard"
        ).join(", ")
      }) in ${seconds} s`,
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
