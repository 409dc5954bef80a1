/**
 * `deno task scenarios` (docs/scenarios.md §5): fit, fragment, report and
 * merged rules from the sample scenario file; a run with the merged rules
 * records which fit produced its scenarios; bad command lines and inputs.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { parse } from "yaml";
import { main } from "../../tasks/scenarios.ts";
import { runPortfolio } from "../../lib/mod.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import { writePortfolio } from "../run/_portfolio.ts";

const SCENARIOS = "config/scenarios_2025-12-31.yaml";

Deno.test("deno task scenarios writes the fit, the page, the fragment and merged rules a run records", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "fit");
    const r = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--generate-history",
      "--out",
      out,
      "--rules",
      "config/sample_rules.yaml",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^base +weight 0\.5 +z /m);
    assert.match(r.stdout, /30 segments fitted/);
    const fitBytes = await Deno.readFile(join(out, "fit.json"));
    const sha = createHash("sha256").update(fitBytes).digest("hex");
    const fragment = parse(
      await Deno.readTextFile(join(out, "rules_fragment.yaml")),
    );
    assert.deepEqual(fragment.scenario_source, {
      fit: join(out, "fit.json"),
      sha256: sha,
    });
    const report = JSON.parse(new TextDecoder().decode(fitBytes));
    assert.deepEqual(
      fragment.scenarios.map((s: { z: number[] }) => s.z),
      report.adjustments.scenarios.map((s: { z: number[] }) => s.z),
    );
    const html = await Deno.readTextFile(join(out, "fit.html"));
    assert.match(html, /<title>Satellite model: /);
    assert.match(html, /id="z-paths"/);
    assert.match(html, /id="fitted"/);
    assert.match(html, /id="macro-gdp_growth"/);

    // The generated history, read back with --history, gives the same z.
    const again = join(dir, "fit2");
    const r2 = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--history",
      join(out, "default_rates.csv"),
      "--out",
      again,
    );
    assert.equal(r2.code, 0, r2.stderr);
    const fragment2 = parse(
      await Deno.readTextFile(join(again, "rules_fragment.yaml")),
    );
    assert.deepEqual(fragment2.scenarios, fragment.scenarios);

    // A run with the merged rules records the fit in its manifest.
    const run = await runPortfolio({
      portfolio: writePortfolio(join(dir, "book.parquet"), 30),
      rules: join(out, "rules.yaml"),
      fx: "config/fx_rates.yaml",
      out: join(dir, "runs"),
      runId: "with-fit",
      report: false,
    });
    const manifest = JSON.parse(
      await Deno.readTextFile(join(run.dir, "manifest.json")),
    );
    const params = manifest.inputs.rules.parameters;
    assert.equal(params["scenario_source.sha256"], sha);
    assert.equal(params["scenario_source.fit"], join(out, "fit.json"));
    assert.equal(params.scenario_adjustment, "z_shift");
    assert.deepEqual(params["scenarios[2].z"], fragment.scenarios[2].z);
  }, "scenarios_task_");
});

Deno.test("deno task scenarios refuses both or neither history flag, and names a bad history line", async () => {
  await withTempDir(async (dir) => {
    const both = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--generate-history",
      "--history",
      "h.csv",
      "--out",
      join(dir, "o"),
    );
    assert.equal(both.code, 2);
    assert.match(
      both.stderr,
      /give exactly one of --history PATH and --generate-history/,
    );
    const csv = join(dir, "h.csv");
    await Deno.writeTextFile(
      csv,
      "segment,region,year,obligors,defaults\nsme_es,ES,2010,100,3\nsme_es,ES,2011,100,300\n",
    );
    const bad = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--history",
      csv,
      "--out",
      join(dir, "o"),
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /line 3, column defaults: 300 is more than the 100 obligors/,
    );
    assert.doesNotMatch(bad.stderr, /\bat .*\.ts:\d+/);
    await assert.rejects(Deno.stat(join(dir, "o")));
  }, "scenarios_task_");
});

Deno.test("deno task scenarios prints its usage on --help and names a bad flag value", async () => {
  const help = await callMain(main, "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task scenarios --scenarios PATH/);
  const lag = await callMain(
    main,
    "--scenarios",
    SCENARIOS,
    "--generate-history",
    "--out",
    "x",
    "--max-lag",
    "two",
  );
  assert.equal(lag.code, 2);
  assert.match(lag.stderr, /--max-lag must be a whole number/);
  const big = await callMain(
    main,
    "--scenarios",
    SCENARIOS,
    "--generate-history",
    "--out",
    "x",
    "--max-lag",
    "9",
  );
  assert.equal(big.code, 2);
  assert.match(
    big.stderr,
    /maxLag must be a whole number in 0\.\.4 \(MAX_LAG\), got 9/,
  );
});
