/**
 * `deno task generate`: writes quarterly snapshots of a synthetic retail and
 * SME book (see docs/generator.md).
 *
 * ```sh
 * deno task generate --loans 100000 --seed 42 --reporting-date 2025-12-31 \
 *   --periods 4 --out data/synthetic [--format parquet|csv] [--inject-broken 0.02]
 * ```
 *
 * Progress goes to stderr: a bar on a terminal, occasional plain lines
 * otherwise (logs of a batch scheduler).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  generatePortfolio,
  type GenerateProgress,
} from "../lib/generate/mod.ts";

const USAGE =
  "usage: deno task generate --loans N --seed S --reporting-date YYYY-MM-DD " +
  "[--periods P] --out DIR [--format parquet|csv] [--inject-broken SHARE] " +
  "[--batch-size N]";

/** Parses a numeric flag, naming it in the error. */
function num(name: string, v: string | undefined, fallback?: number): number {
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`missing --${name}\n${USAGE}`);
  }
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x)) {
    throw new Error(`--${name} ${JSON.stringify(v)} is not a number\n${USAGE}`);
  }
  return x;
}

/** A progress reporter: redraws a bar on a TTY, else prints every ~10%. */
function progressReporter(): (p: GenerateProgress) => void {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const start = performance.now();
  let lastDecile = -1;
  return ({ done, total, rows }) => {
    const frac = done / total;
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    if (tty) {
      const width = 30;
      const filled = Math.round(frac * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      Deno.stderr.writeSync(
        enc.encode(
          `\r[${bar}] ${(100 * frac).toFixed(0).padStart(3)}% ` +
            `${rows.toLocaleString("en")} rows ${secs}s${
              done === total ? "\n" : ""
            }`,
        ),
      );
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        console.error(
          `generate: ${
            (100 * frac).toFixed(0)
          }% (${done}/${total} batch-periods, ${rows} rows, ${secs}s)`,
        );
      }
    }
  };
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      loans: { type: "string" },
      seed: { type: "string" },
      "reporting-date": { type: "string" },
      periods: { type: "string" },
      out: { type: "string" },
      format: { type: "string" },
      "inject-broken": { type: "string" },
      "batch-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values["reporting-date"]) {
    throw new Error(`missing --reporting-date\n${USAGE}`);
  }
  if (!values.out) throw new Error(`missing --out\n${USAGE}`);
  const format = values.format ?? "parquet";
  if (format !== "parquet" && format !== "csv") {
    throw new Error(`--format ${format}: expected parquet or csv\n${USAGE}`);
  }
  const result = await generatePortfolio({
    loans: num("loans", values.loans),
    seed: num("seed", values.seed),
    reportingDate: values["reporting-date"],
    periods: num("periods", values.periods, 1),
    out: values.out,
    format,
    injectBroken: num("inject-broken", values["inject-broken"], 0),
    batchSize: num("batch-size", values["batch-size"], 250_000),
    onProgress: progressReporter(),
  });
  for (const s of result.snapshots) {
    console.log(
      `${s.path}: ${s.rows} rows` +
        (s.injectedPath
          ? `, ${s.injectedRows} broken (${s.injectedPath})`
          : ""),
    );
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`generate: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
