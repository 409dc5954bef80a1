/**
 * Benchmark of the generator: `deno run -A bench/generate.ts --loans 1000000
 * [--periods 1] [--format parquet|csv]` generates in-process into a
 * temporary folder and prints elapsed seconds and peak resident memory
 * (VmHWM from /proc/self/status). The goal is under 2 GB at 1M loans.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { generatePortfolio } from "../lib/generate/mod.ts";

/** Peak resident set size in MiB (Linux), or NaN where /proc is absent. */
function peakRssMiB(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    loans: { type: "string", default: "1000000" },
    periods: { type: "string", default: "1" },
    format: { type: "string", default: "parquet" },
    seed: { type: "string", default: "42" },
  },
});
const out = await Deno.makeTempDir({ prefix: "bench-generate-" });
try {
  const start = performance.now();
  const result = await generatePortfolio({
    loans: Number(values.loans),
    seed: Number(values.seed),
    reportingDate: "2025-12-31",
    periods: Number(values.periods),
    out,
    format: values.format as "parquet" | "csv",
  });
  const secs = (performance.now() - start) / 1000;
  const rows = result.snapshots.reduce((a, s) => a + s.rows, 0);
  let bytes = 0;
  for (const s of result.snapshots) bytes += (await Deno.stat(s.path)).size;
  console.log(
    `generate: ${values.loans} loans, ${values.periods} period(s), ${values.format}: ` +
      `${rows} rows, ${(bytes / 2 ** 20).toFixed(1)} MiB on disk, ` +
      `${secs.toFixed(2)} s, peak RSS ${peakRssMiB().toFixed(0)} MiB`,
  );
} finally {
  await Deno.remove(out, { recursive: true });
}
