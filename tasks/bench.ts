/**
 * `deno task bench`: one run, in this process, measured: per-step times,
 * loans per second and peak memory (`VmHWM`); or the generator, or the
 * movement between two runs.
 *
 * ```sh
 * deno task bench --loans 1000000          # generates (once) then runs
 * deno task bench --portfolio book.parquet # runs a given portfolio
 * deno task bench --generate --loans 1000000  # measures the generator instead
 * deno task bench --movement --loans 1000000  # the movement between two runs, with its ECL walk
 * deno task bench --server --loans 1000000    # loads the run server while a run computes
 * deno task bench --pd-models                 # PD models: fits on 1M rows, train-pd end to end
 * deno task bench --scale [--sizes 1000000,10000000,30000000]  # issue 17's table
 * ```
 *
 * A generated portfolio is cached under `data/tmp/bench/` and made in a
 * child process, so its memory is not counted. The run folder is written
 * under `data/tmp/bench/runs/` (part of the time measured) and removed
 * afterwards unless `--keep`.
 *
 * `--server` (bench/server.ts) exits 1 when any request failed, a run did
 * not succeed or the server did not exit 0 on SIGTERM.
 *
 * `--pd-models` measures the PD models of issue 13 against its speed
 * targets (scorecard fit on 1M rows and 8 characteristics <= 5 s, 200 trees
 * of depth 4 on 1M rows <= 60 s, ONNX scoring of 1M rows <= 1 s;
 * bench/scorecard.ts, bench/gbt.ts, bench/onnx_score.ts), then `deno task train-pd` end to end
 * on the development sample of a generated 8-quarter book (bench/pd_model.ts);
 * it exits 1 when an ONNX file does not score like its model or, with
 * `--rows` of 1M or more (the size the targets are stated for), when a
 * target is missed.
 *
 * `--scale` (bench/scale.ts) generates each book size once (cached), runs
 * each end to end in a child process of its own (so each peak is its own)
 * and prints book | measured time | peak memory | target | result, and the
 * 30M-vs-10M peak ratio; it exits 1 when a target of the issue is missed.
 *
 * Exit codes: 0 measured; otherwise those of the run measured
 * (`lib/errors.ts`: 1 a failed check, 2 a usage or input error, 3 outputs
 * that cannot be written, 70 a bug).
 *
 * @module
 */
import { number, TaskCommand, wholeNumber } from "./_args.ts";
import {
  benchGenerate,
  benchPortfolio,
  benchRun,
} from "../bench/end_to_end.ts";
import {
  DEFAULT_FX,
  DEFAULT_RULES,
  progressLine,
  table,
} from "../lib/run/mod.ts";
import { benchMovement } from "../bench/movement.ts";
import { benchServer } from "../bench/server.ts";
import { benchScorecard } from "../bench/scorecard.ts";
import { benchGbt } from "../bench/gbt.ts";
import { benchTrainPd } from "../bench/pd_model.ts";
import { benchOnnxScore } from "../bench/onnx_score.ts";
import { benchScale, scaleTable } from "../bench/scale.ts";
import { defaultRunId } from "../lib/run_folder/mod.ts";
import { projectPath } from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task bench",
  synopsis:
    "[--loans N | --portfolio PATH] [--seed S] [--rules PATH] [--fx PATH] [--batch-size N] [--chunk-size N] [--no-report] [--keep] [--json] | --generate [--loans N] [--periods P] [--seed S] | --movement [--loans N] [--seed S] [--json] | --server [--loans N | --portfolio PATH] [--requests N] [--concurrency C] [--json] | --pd-models [--rows N] [--loans N] [--json] | --scale [--sizes N,N,...] [--seed S] [--no-report] [--json]",
  flags:
    `  --loans N         generate a portfolio of N loans (default 100000; 200000
                    with --server)
  --portfolio PATH  run this portfolio instead of generating one
  --seed S          generator seed (default 42)
  --rules PATH      rules file (default: the project's config/ifrs9_rules.yaml)
  --fx PATH         FX table (default: the project's config/fx_rates.yaml)
  --batch-size N    loans per engine batch (default 200000)
  --chunk-size N    loans staged, computed and written per chunk (default 1000000)
  --no-report       skip report.html
  --keep            keep the run folder (data/tmp/bench/runs/<id>)
  --json            print the measurements as JSON
  --generate        measure the generator (in this process) instead of a run
  --periods P       quarterly snapshots to generate with --generate (default 1)
  --movement        measure the movement between the two quarter-end runs of a
                    generated book, with its ECL walk by driver (book and runs
                    made once, in child processes)
  --server          start the run server (tasks/serve.ts) on a loopback port;
                    while a run of the portfolio computes, probe /healthz one
                    request at a time (p50/p99); while a second one computes,
                    send --requests requests (default 3000) at --concurrency C
                    (default 50) over /healthz, /metrics and GET /runs:
                    requests/s, p50/p99 latency per route, errors
  --pd-models       the PD models: scorecard and trees fitted on --rows simulated
                    rows (default 1000000), exported and scored through ONNX
                    Runtime; then train-pd end to end (development sample,
                    scorecard, trees, folders written) on an 8-quarter book of
                    --loans loans (default 20000)
  --rows N          rows of the fits with --pd-models
  --scale           issue 17's table: each book size generated once (cached),
                    run end to end in a child process of its own; time, peak
                    memory, the target and pass/fail, the 30M/10M peak ratio;
                    exit 1 when a target is missed
  --sizes N,N,...   book sizes with --scale (default 1000000,10000000,30000000)`,
  options: {
    loans: { type: "string" },
    portfolio: { type: "string" },
    seed: { type: "string", default: "42" },
    rules: { type: "string", default: DEFAULT_RULES },
    fx: { type: "string", default: DEFAULT_FX },
    "batch-size": { type: "string" },
    "chunk-size": { type: "string" },
    "no-report": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    generate: { type: "boolean", default: false },
    periods: { type: "string", default: "1" },
    movement: { type: "boolean", default: false },
    server: { type: "boolean", default: false },
    requests: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "50" },
    "pd-models": { type: "boolean", default: false },
    rows: { type: "string", default: "1000000" },
    scale: { type: "boolean", default: false },
    sizes: { type: "string" },
  },
});

const gb = (bytes: number | null) =>
  bytes === null ? "n/a" : `${(bytes / 2 ** 30).toFixed(2)} GiB`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Runs `deno task bench` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const loans = wholeNumber(
      "loans",
      values.loans ??
        (values.server ? "200000" : values["pd-models"] ? "20000" : "100000"),
    )!;
    const seed = number("seed", values.seed, { whole: true })!;
    const batchSize = wholeNumber("batch-size", values["batch-size"]);
    const chunkSize = wholeNumber("chunk-size", values["chunk-size"]);
    if (values.scale) {
      return await scale({
        sizes: values.sizes,
        seed,
        report: !values["no-report"],
        json: values.json,
      });
    }
    if (values.generate) {
      const periods = wholeNumber("periods", values.periods)!;
      const g = await benchGenerate({ loans, seed, periods });
      if (values.json) console.log(JSON.stringify(g, null, 2));
      else {
        console.log(
          `generate: ${
            loans.toLocaleString("en-US")
          } loans, ${periods} period(s): ` +
            `${g.rows.toLocaleString("en-US")} rows, ${
              (g.bytes / 2 ** 20).toFixed(1)
            } MiB on disk, ${seconds(g.totalMs)}, ` +
            `peak memory (VmHWM) ${gb(g.peakMemoryBytes)}`,
        );
      }
      return 0;
    }
    if (values.movement) {
      const m = await benchMovement({ loans, seed });
      if (values.json) console.log(JSON.stringify(m, null, 2));
      else {
        console.log(
          `movement: ${m.loans.from.toLocaleString("en-US")} -> ${
            m.loans.to.toLocaleString("en-US")
          } loans (${m.facilities.toLocaleString("en-US")} facilities): ` +
            `read ${seconds(m.readMs)}, compute ${seconds(m.computeMs)}, ${
              m.walkMs === null
                ? ""
                : `ECL walk ${seconds(m.walkMs)} (+ inputs re-read ${
                  seconds(m.walkInputsMs!)
                }), `
            }write ${seconds(m.writeMs)}, total ${
              seconds(m.totalMs)
            }, peak memory (VmHWM) ${gb(m.peakMemoryBytes)}`,
        );
        console.log(m.out);
      }
      return 0;
    }
    if (values["pd-models"]) {
      return await pdModels({
        rows: wholeNumber("rows", values.rows)!,
        loans,
        seed,
        json: values.json,
      });
    }
    if (values.server) {
      const s = await benchServer({
        portfolio: values.portfolio ?? await benchPortfolio({ loans, seed }),
        requests: wholeNumber("requests", values.requests)!,
        concurrency: wholeNumber("concurrency", values.concurrency)!,
        log: values.json ? undefined : (line) => console.error(line),
      });
      const { probe, load } = s;
      if (values.json) console.log(JSON.stringify(s, null, 2));
      else {
        const ms = (v: number) => v.toFixed(1);
        const run = (r: typeof probe.run) =>
          `run ${r.id} ${r.status}` +
          (r.seconds === null ? "" : ` in ${seconds(r.seconds * 1000)}`) +
          (r.loans === null
            ? ""
            : ` (${r.loans.toLocaleString("en-US")} loans)`);
        console.log(`Server bench while running ${s.portfolio}`);
        console.log(
          `liveness probe (GET /healthz one at a time): ${probe.requests} requests, ` +
            `${probe.errors} errors, p50 ${ms(probe.p50Ms)} ms, p99 ${
              ms(probe.p99Ms)
            } ms, max ${ms(probe.maxMs)} ms; ${run(probe.run)}`,
        );
        console.log(
          `load: ${load.requests} requests at concurrency ${load.concurrency}`,
        );
        console.log(table(
          ["route", "requests", "errors", "p50 ms", "p99 ms", "max ms"],
          [...load.byRoute, { route: "all", ...load }].map((r) => [
            r.route,
            String(r.requests),
            String(r.errors),
            ms(r.p50Ms),
            ms(r.p99Ms),
            ms(r.maxMs),
          ]),
        ));
        console.log(
          `${
            Math.round(load.requestsPerSecond).toLocaleString("en-US")
          } requests/s over ${load.seconds.toFixed(2)} s, ${
            (load.overlap * 100).toFixed(0)
          }% of it while the run computed; ${
            run(load.run)
          }; server exit code ${s.serverExitCode}`,
        );
        for (const e of load.errorSamples) console.log(`error: ${e}`);
      }
      const ok = probe.errors === 0 && load.errors === 0 &&
        probe.run.status === "succeeded" && load.run.status === "succeeded" &&
        s.serverExitCode === 0;
      return ok ? 0 : 1;
    }
    const portfolio = values.portfolio ?? await benchPortfolio({ loans, seed });
    const progress = progressLine();
    let result;
    try {
      result = await benchRun({
        portfolio,
        rules: values.rules,
        fx: values.fx,
        out: projectPath("data/tmp/bench/runs"),
        runId: `bench-${defaultRunId().slice(4)}`,
        report: !values["no-report"],
        batchSize,
        chunkSize,
        onStep: progress.step,
        onProgress: progress.update,
      });
    } finally {
      progress.done();
    }
    if (!values.keep) await Deno.remove(result.dir, { recursive: true });
    if (values.json) {
      console.log(JSON.stringify({ portfolio, ...result }, null, 2));
      return 0;
    }
    console.log(
      `Bench of ${portfolio}: ${result.loans.toLocaleString("en-US")} loans`,
    );
    console.log(table(
      ["step", "ms", "peak memory after"],
      [
        ...Object.entries(result.stepsMs).map(([k, v]) => [
          k,
          v.toFixed(0),
          gb(result.peakMemoryByStep[k] ?? null),
        ]),
        ["total (end to end)", result.totalMs.toFixed(0), ""],
      ],
    ));
    console.log(
      `${Math.round(result.loansPerSecond).toLocaleString("en-US")} loans/s; ` +
        `peak memory (VmHWM) ${gb(result.peakMemoryBytes)}`,
    );
    if (values.keep) console.log(result.dir);
    return 0;
  });
}

/**
 * `--scale`: issue 17's table (bench/scale.ts); 1 when a target is missed.
 */
async function scale(
  opts: { sizes?: string; seed: number; report: boolean; json: boolean },
): Promise<number> {
  const sizes = opts.sizes === undefined
    ? undefined
    : opts.sizes.split(",").map((s) => wholeNumber("sizes", s.trim())!);
  const result = await benchScale({
    sizes,
    seed: opts.seed,
    report: opts.report,
    log: opts.json ? undefined : (line) => console.error(line),
    quiet: opts.json,
  });
  console.log(
    opts.json ? JSON.stringify(result, null, 2) : scaleTable(result),
  );
  return result.ok ? 0 : 1;
}

/** The speed targets of issue 13, milliseconds, for 1M rows. */
const PD_TARGETS = {
  scorecardFitMs: 5_000,
  gbtFitMs: 60_000,
  onnxScoreMs: 1_000,
};

/**
 * `--pd-models`: the fits, then train-pd end to end; 1 when an ONNX file
 * strays from its model by more than 1e-6, or, on 1M rows or more (what
 * the targets are stated for: fixed costs such as creating an ONNX Runtime
 * session do not shrink with the rows), when a target is missed.
 */
async function pdModels(
  opts: { rows: number; loans: number; seed: number; json: boolean },
): Promise<number> {
  const log = (line: string) => {
    if (!opts.json) console.log(line);
  };
  const judged = opts.rows >= 1_000_000;
  log(`scorecard: fitting ${opts.rows.toLocaleString("en-US")} rows ...`);
  const sc = await benchScorecard({ rows: opts.rows, seed: opts.seed });
  log(`gbt: fitting ${opts.rows.toLocaleString("en-US")} rows ...`);
  const gbt = await benchGbt({ rows: opts.rows, seed: opts.seed });
  log(`ONNX scoring: ${opts.rows.toLocaleString("en-US")} rows ...`);
  const onnx = await benchOnnxScore({ rows: opts.rows, seed: opts.seed });
  log(`train-pd: ${opts.loans.toLocaleString("en-US")}-loan book ...`);
  const train = await benchTrainPd({ loans: opts.loans, seed: opts.seed });
  const checks = [
    {
      what: `scorecard fit (${sc.characteristics} characteristics)`,
      ms: sc.fitMs,
      target: PD_TARGETS.scorecardFitMs,
    },
    {
      what: `gbt fit (${gbt.iterations} trees, depth ${gbt.maxDepth})`,
      ms: gbt.fitMs,
      target: PD_TARGETS.gbtFitMs,
    },
    {
      what: `ONNX scoring (${onnx.features} features, library path)`,
      ms: onnx.scoreMs,
      target: PD_TARGETS.onnxScoreMs,
    },
  ];
  const onnxOk = sc.maxPdDifference <= 1e-6 && gbt.onnxMaxDiff <= 1e-6;
  const ok = onnxOk && (!judged || checks.every((c) => c.ms <= c.target));
  if (opts.json) {
    console.log(
      JSON.stringify(
        { scorecard: sc, gbt, onnx, trainPd: train, checks, judged, ok },
        null,
        2,
      ),
    );
    return ok ? 0 : 1;
  }
  console.log(
    `PD models on ${opts.rows.toLocaleString("en-US")} simulated rows`,
  );
  console.log(table(
    ["step", "ms", "target ms (1M rows)", ""],
    checks.map((c) => [
      c.what,
      c.ms.toFixed(0),
      c.target.toFixed(0),
      !judged ? "–" : c.ms <= c.target ? "ok" : "MISSED",
    ]),
  ));
  console.log(
    `ONNX: encoding ${seconds(onnx.encodeMs)}, session ${
      seconds(onnx.loadMs)
    }, ${Math.round(onnx.rowsPerSecond).toLocaleString("en-US")} rows/s; ` +
      `the scorecard's file scores its rows in ${
        seconds(sc.onnxScoreMs)
      }, the trees' in ${seconds(gbt.onnxScoreMs)} (sessions included)`,
  );
  console.log(
    `largest |PD(ONNX) - PD(TypeScript)|: scorecard ${
      sc.maxPdDifference.toExponential(1)
    }, gbt ${gbt.onnxMaxDiff.toExponential(1)}; peak memory (VmHWM) ${
      gb(gbt.peakMemoryBytes)
    }`,
  );
  console.log(
    `train-pd end to end: ${
      train.loans.toLocaleString("en-US")
    } loans, ${train.periods} quarter-ends: ` +
      `development sample ${train.rows.toLocaleString("en-US")} rows (${
        train.defaults.toLocaleString("en-US")
      } defaults) in ${seconds(train.sampleMs)}; ` +
      train.models.map((m) =>
        `${m.kind} ${seconds(m.totalMs)} (held-out AUC ${
          m.heldOutAuc.toFixed(3)
        })`
      ).join(", ") + `; peak memory (VmHWM) ${gb(train.peakMemoryBytes)}`,
  );
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
