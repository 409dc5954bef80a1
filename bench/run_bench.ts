/**
 * Micro-benchmarks of the run steps this module owns, at a size that runs
 * in seconds (`deno bench -A bench/run_bench.ts`): the whole run on a generated
 * 20,000-loan book, the summary over 200,000 loan results, and the atomic
 * run-folder life cycle. End-to-end figures at 1M and 10M loans come from
 * `deno task bench --loans N`, which also reports peak memory.
 *
 * @module
 */
import pl from "nodejs-polars";
import {
  attachCarryingAmounts,
  generateBook,
  loadFx,
  loadRules,
  projectPath,
  runPortfolio,
  summarize,
} from "../lib/mod.ts";
import { openRunFolder } from "../lib/run_folder/mod.ts";

const tmp = await Deno.makeTempDir({ prefix: "bench-run-" });
const portfolio = `${tmp}/portfolio.parquet`;
generateBook({ loans: 20_000, seed: 7, reportingDate: "2025-12-31" })[0]
  .writeParquet(portfolio);
const rules = await loadRules(projectPath("config/ifrs9_rules.yaml"));
const fx = await loadFx(projectPath("config/fx_rates.yaml"));

/** `n` loan results over the generator's currencies, with carrying amounts. */
function loanResults(n: number): pl.DataFrame {
  const currencies = ["EUR", "USD", "MXN", "BRL", "COP", "CLP", "PEN"];
  const col = <T>(f: (i: number) => T) =>
    Array.from({ length: n }, (_, i) => f(i));
  const amounts = (m: number) =>
    Float64Array.from({ length: n }, (_, i) => i % m);
  const frame: Record<string, unknown> = {
    loan_id: col((i) => `L${i}`),
    stage: pl.Series("stage", col((i) => 1 + (i % 3)), pl.Int32),
    product: col((i) => `p${i % 5}`),
    segment: col((i) => `p${i % 5}`),
    region: col((i) => `r${i % 11}`),
    currency: col((i) => currencies[i % 7]),
    ead: amounts(1000),
    ecl_model: amounts(97),
    ecl: amounts(97),
    gross_carrying_amount: amounts(1000),
    overlays_applied: pl.Series(
      "overlays_applied",
      col(() => []),
      pl.List(pl.Utf8),
    ),
  };
  for (const s of rules.scenarios) frame[`ecl_${s.name}`] = amounts(89);
  return pl.DataFrame(frame);
}
const results = loanResults(200_000);

let runNo = 0;
Deno.bench({
  name: "runPortfolio() 20k generated loans, Parquet in, run folder out",
  group: "run",
  n: 5,
  warmup: 1,
  async fn() {
    await runPortfolio({
      portfolio,
      out: `${tmp}/runs`,
      runId: `b${runNo++}`,
      report: false,
    });
  },
});

Deno.bench({
  name: "summarize() 200k loan results, 7 currencies",
  group: "summary",
  n: 10,
  warmup: 2,
  async fn() {
    await summarize(results.lazy(), {
      runId: "bench",
      reportingDate: "2025-12-31",
      rules,
      fx,
    });
  },
});

Deno.bench({
  name: "attachCarryingAmounts() 200k loans, aligned",
  group: "summary",
  n: 10,
  warmup: 2,
  fn() {
    attachCarryingAmounts(
      results.drop("gross_carrying_amount"),
      results.select("loan_id", "gross_carrying_amount"),
    );
  },
});

Deno.bench({
  name: "openRunFolder() + commit()",
  group: "folder",
  async fn() {
    const f = await openRunFolder(`${tmp}/folders`, `f${runNo++}`);
    await f.commit();
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp, { recursive: true });
});
