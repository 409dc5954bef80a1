/**
 * `deno task scenarios --scenarios PATH (--history PATH | --generate-history)
 * --out DIR [--rules PATH] [...]`: fits the satellite model of
 * docs/scenarios.md on a default-rate history and the scenario file's
 * macro history, projects each scenario's macro path to the rules'
 * `z_shift` adjustments and collateral haircuts, and writes, as the folder
 * DIR, `fit.json`, `fit.html`, `rules_fragment.yaml` (naming `fit.json`
 * and its SHA-256), with `--generate-history` the generated
 * `default_rates.csv`, and with `--rules` a `rules.yaml` with the fragment
 * merged in (checked by the rules loader first). It prints each
 * scenario's `z`, haircut and weighted PD ratio, and warnings: segments
 * not fitted (skipped), fitted segments the rules do not name, rules
 * segments without a fitted `rho`.
 *
 * Exit codes (lib/errors.ts): 0 done; 1 no segment can be fitted, or a
 * projected `z` is beyond the rules' bound; 2 a usage error, an invalid
 * scenario file, history or rules file (the message names the key path,
 * line or flag), or a refused --out; 3 the outputs cannot be written; 4
 * another live process is writing DIR.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { number, required, TaskCommand, UsageError } from "./_args.ts";
import {
  type DefaultRateHistory,
  defaultRateHistoryCsv,
  fitReport,
  fitSatellite,
  generateDefaultHistory,
  loadScenarioFile,
  readDefaultRateHistory,
  readRulesText,
  SAMPLE_NOISE_SD,
  SAMPLE_TERMS,
  sampleSegments,
  scenarioAdjustments,
  writeScenarioOutputs,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task scenarios",
  synopsis:
    "--scenarios PATH (--history PATH | --generate-history) --out DIR [--rules PATH] [--max-lag N] [--alpha A] [--rho SEG=R,...] [--pd-ttc SEG=P,...] [--haircut-base H] [--haircut-sensitivity S] [--seed S]",
  flags:
    `  --scenarios PATH           the scenario file (config/scenarios_2025-12-31.yaml)
  --history PATH             default-rate history CSV: segment,region,year,obligors,defaults
  --generate-history         generate the history from the scenario file's macro
                             history with the sample's known coefficients instead
  --out DIR                  folder for fit.json, fit.html, rules_fragment.yaml
  --rules PATH               also write DIR/rules.yaml: PATH with the fragment merged in
  --max-lag N                lags tried, 0..N (default 2, at most 4)
  --alpha A                  significance level of the checks (default 0.05)
  --rho SEG=R,...            asset correlation given for these segments (0 < R < 1)
                             instead of estimated (written as their rho)
  --pd-ttc SEG=P,...         through-the-cycle PD given for these segments (0 < P < 1)
  --haircut-base H           collateral haircut with no house-price fall (default 0.20)
  --haircut-sensitivity S    haircut per unit of peak-to-trough fall (default 1)
  --seed S                   seed of --generate-history (default 2025)`,
  options: {
    scenarios: { type: "string" },
    history: { type: "string" },
    "generate-history": { type: "boolean" },
    out: { type: "string" },
    rules: { type: "string" },
    "max-lag": { type: "string" },
    alpha: { type: "string" },
    rho: { type: "string" },
    "pd-ttc": { type: "string" },
    "haircut-base": { type: "string" },
    "haircut-sensitivity": { type: "string" },
    seed: { type: "string" },
  },
  required: ["scenarios", "out"],
});

/** Seed of `--generate-history` unless given. */
const DEFAULT_SEED = 2025;

/** Largest seed: the generator's (docs/generator.md, a 32-bit seed). */
const MAX_SEED = 4_294_967_295;

/**
 * `SEG=V,SEG=V` of `--rho` / `--pd-ttc`: each value strictly between 0
 * and 1, each segment once.
 */
function segmentValues(
  flag: string,
  text: string | undefined,
): Record<string, number> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const item of text.split(",")) {
    const m = /^\s*([a-z0-9_]+)\s*=\s*([^\s]+)\s*$/.exec(item);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !(v > 0 && v < 1)) {
      throw new UsageError(
        `--${flag}: ${
          JSON.stringify(item.slice(0, 60))
        } is not SEGMENT=VALUE with 0 < VALUE < 1 (e.g. --${flag} mortgage_es=0.15,sme_es=0.2)`,
      );
    }
    if (m[1] in out) {
      throw new UsageError(`--${flag}: segment ${m[1]} is given twice`);
    }
    out[m[1]] = v;
  }
  return out;
}

/** Runs `deno task scenarios` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { scenarios, out } = required(values, "scenarios", "out");
    const generate = values["generate-history"] === true;
    if (generate === (values.history !== undefined)) {
      throw new UsageError(
        "give exactly one of --history PATH and --generate-history",
      );
    }
    if (generate === false && values.seed !== undefined) {
      throw new UsageError("--seed applies to --generate-history only");
    }
    const maxLag = number("max-lag", values["max-lag"], {
      whole: true,
      min: 0,
    });
    const alpha = number("alpha", values.alpha, { min: 0 });
    const base = number("haircut-base", values["haircut-base"], { min: 0 });
    const sensitivity = number(
      "haircut-sensitivity",
      values["haircut-sensitivity"],
      { min: 0 },
    );
    const seed = number("seed", values.seed, { whole: true, min: 0 }) ??
      DEFAULT_SEED;
    if (seed > MAX_SEED) {
      throw new UsageError(`--seed must be at most ${MAX_SEED}, got ${seed}`);
    }
    const givenRho = segmentValues("rho", values.rho);
    const givenPd = segmentValues("pd-ttc", values["pd-ttc"]);
    const file = await loadScenarioFile(scenarios);
    const rules = values.rules === undefined
      ? undefined
      : { file: values.rules, text: await readRulesText(values.rules) };
    let history: DefaultRateHistory;
    let historyCsv: string | undefined;
    if (generate) {
      const lag = Math.max(...SAMPLE_TERMS.map((t) => t.lag));
      const segments = sampleSegments().filter((s) => s.region in file.regions);
      if (segments.length === 0) {
        throw new UsageError(
          `--generate-history: no region of ${scenarios} (${
            Object.keys(file.regions).join(", ")
          }) is a country of the generator (ES, MX, BR, CO, CL, PE); give --history`,
        );
      }
      const generated = generateDefaultHistory(file.history, {
        seed,
        segments,
        terms: SAMPLE_TERMS,
        noiseSd: SAMPLE_NOISE_SD,
        years: [file.history_years[0] + lag, file.history_years.at(-1)!],
      });
      historyCsv = defaultRateHistoryCsv(generated.segments);
      history = {
        file: `${out}/default_rates.csv (generated, seed ${seed})`,
        sha256: createHash("sha256").update(historyCsv).digest("hex"),
        segments: generated.segments,
      };
    } else {
      history = await readDefaultRateHistory(values.history!);
    }
    const fit = fitSatellite(history, file, {
      ...(maxLag === undefined ? {} : { maxLag }),
      ...(alpha === undefined ? {} : { alpha }),
      ...(givenRho === undefined ? {} : { rho: givenRho }),
      ...(givenPd === undefined ? {} : { pdTtc: givenPd }),
    });
    const adjustments = scenarioAdjustments(fit, file, {
      haircut: {
        ...(base === undefined ? {} : { base }),
        ...(sensitivity === undefined ? {} : { sensitivity }),
      },
    });
    const report = fitReport(
      fit,
      adjustments,
      file,
      generate
        ? { generating: { terms: SAMPLE_TERMS, noise_sd: SAMPLE_NOISE_SD } }
        : {},
    );
    const paths = await writeScenarioOutputs(out, report, file, {
      ...(historyCsv === undefined ? {} : { historyCsv }),
      ...(rules === undefined ? {} : { rules }),
      inputs: [
        scenarios,
        ...(values.history ? [values.history] : []),
        ...(values.rules ? [values.rules] : []),
      ],
    });
    for (const [i, s] of adjustments.scenarios.entries()) {
      console.log(
        `${s.name.padEnd(10)} weight ${s.weight}  z ${
          s.z.map((v) => v.toFixed(3)).join(" ")
        }  haircut ${s.collateral_haircut.toFixed(4)}  PD ratio ${
          adjustments.detail[i].pd_ratio_weighted.map((v) => v.toFixed(2))
            .join(" ")
        }`,
      );
    }
    for (const s of fit.skipped ?? []) {
      console.log(
        `warning: segment ${s.segment} not fitted, skipped: ${s.reason}`,
      );
    }
    for (const w of paths.warnings) console.log(`warning: ${w}`);
    console.log(
      `${fit.segments.length} segments fitted, ${report.warnings.length} warning(s) (see ${paths.html})`,
    );
    console.log(paths.fit);
    console.log(paths.html);
    console.log(paths.fragment);
    if (paths.history) console.log(paths.history);
    if (paths.rules) console.log(paths.rules);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
