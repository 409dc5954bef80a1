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

Deno.test("deno task scenarios --rules reads the rules with the rules loader: a bad file exits 2 naming it, never a file not written", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, string | Uint8Array, RegExp][] = [
      ["empty.yaml", "", /key \(root\): must be a mapping/],
      ["list.yaml", "- a\n- b\n", /key \(root\): must be a mapping/],
      [
        "binary.yaml",
        new Uint8Array([0, 1, 2, 255, 254, 0, 7]),
        /empty\.yaml|binary\.yaml/,
      ],
      ["syntax.yaml", "a: [b\n", /key \(syntax\): not valid YAML/],
      ["dup.yaml", "x: 1\nx: 2\n", /Map keys must be unique/],
      ["alias.yaml", "a: &a {b: *a}\n", /key a: unknown key/],
    ];
    for (const [name, content, expected] of cases) {
      const path = join(dir, name);
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      const out = join(dir, `out_${name}`);
      const r = await callMain(
        main,
        "--scenarios",
        SCENARIOS,
        "--generate-history",
        "--out",
        out,
        "--rules",
        path,
      );
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`rules file .*${name}`), name);
      assert.match(r.stderr, expected, name);
      assert.doesNotMatch(r.stderr, /rules\.yaml|\bat .*\.ts:\d+/, name);
      await assert.rejects(Deno.stat(out));
    }
  }, "scenarios_task_");
});

Deno.test("deno task scenarios warns of fitted segments the rules lack and rules segments without a fitted rho; --rho gives one", async () => {
  await withTempDir(async (dir) => {
    // A history of two segments, mortgage_es and retail_es, from the
    // generated one (mortgage_es and sme_es renamed).
    const gen = join(dir, "gen");
    const r0 = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--generate-history",
      "--out",
      gen,
    );
    assert.equal(r0.code, 0, r0.stderr);
    const rows = (await Deno.readTextFile(join(gen, "default_rates.csv")))
      .trim().split("\n");
    const csv = join(dir, "h.csv");
    await Deno.writeTextFile(
      csv,
      [
        rows[0],
        ...rows.filter((l) => l.startsWith("mortgage_es,")),
        ...rows.filter((l) => l.startsWith("sme_es,")).map((l) =>
          l.replace("sme_es,", "retail_es,")
        ),
      ].join("\n") + "\n",
    );
    const out = join(dir, "fit");
    const r = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--history",
      csv,
      "--out",
      out,
      "--rules",
      "config/sample_rules.yaml",
      "--rho",
      "retail_es=0.2",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /warning: 1 fitted segment\(s\) are not named in config\/sample_rules\.yaml .*: retail_es;/,
    );
    // The sample rules name 18 segments: 17 without a fitted rho.
    assert.match(
      r.stdout,
      /warning: 17 segment\(s\) of config\/sample_rules\.yaml have no fitted rho .*: mortgage_mx, mortgage_br, .* and 7 more/,
    );
    const fragment = parse(
      await Deno.readTextFile(join(out, "rules_fragment.yaml")),
    );
    // The given rho is written, as the estimated one is.
    assert.equal(fragment.segments.retail_es.rho, 0.2);
    assert.ok(fragment.segments.mortgage_es.rho > 0);
    // A --rho for a segment the history lacks, or out of (0, 1): exit 2.
    for (const bad of ["nope_es=0.2", "retail_es=1.5", "retail_es"]) {
      const b = await callMain(
        main,
        "--scenarios",
        SCENARIOS,
        "--history",
        csv,
        "--out",
        join(dir, "bad"),
        "--rho",
        bad,
      );
      assert.equal(b.code, 2, bad);
    }
  }, "scenarios_task_");
});

Deno.test("deno task scenarios skips a segment that cannot be fitted, names the history file, refuses years after the reporting date", async () => {
  await withTempDir(async (dir) => {
    const gen = join(dir, "gen");
    assert.equal(
      (await callMain(
        main,
        "--scenarios",
        SCENARIOS,
        "--generate-history",
        "--out",
        gen,
      )).code,
      0,
    );
    const rows = (await Deno.readTextFile(join(gen, "default_rates.csv")))
      .trim().split("\n");
    // mortgage_es without a default in any year: skipped, reported.
    const zero = join(dir, "zero.csv");
    await Deno.writeTextFile(
      zero,
      rows.map((l) =>
        l.startsWith("mortgage_es,") ? l.replace(/,\d+$/, ",0") : l
      ).join("\n") + "\n",
    );
    const out = join(dir, "fit");
    const r = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--history",
      zero,
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /warning: segment mortgage_es not fitted, skipped: the default rate does not vary .*no defaults in any year/,
    );
    assert.match(r.stdout, /29 segments fitted/);
    const report = JSON.parse(await Deno.readTextFile(join(out, "fit.json")));
    assert.deepEqual(
      report.fit.skipped.map((s: { segment: string }) => s.segment),
      ["mortgage_es"],
    );
    assert.equal(report.adjustments.segments.mortgage_es, undefined);
    assert.match(
      await Deno.readTextFile(join(out, "fit.html")),
      /Segments not fitted/,
    );
    // Every segment without defaults: exit 1 naming the history file.
    const none = join(dir, "none.csv");
    await Deno.writeTextFile(
      none,
      rows.map((l, i) => i === 0 ? l : l.replace(/,\d+$/, ",0")).join("\n") +
        "\n",
    );
    const r1 = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--history",
      none,
      "--out",
      join(dir, "o1"),
    );
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /none\.csv: no segment can be fitted/);
    // A year after the reporting date (2026): exit 2 naming file and segment.
    const beyond = join(dir, "beyond.csv");
    await Deno.writeTextFile(
      beyond,
      [...rows, "sme_pe,PE,2026,1000,10"].join("\n") + "\n",
    );
    const r2 = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--history",
      beyond,
      "--out",
      join(dir, "o2"),
    );
    assert.equal(r2.code, 2);
    assert.match(
      r2.stderr,
      /beyond\.csv: 1 segment\(s\) have years after 2025, the reporting year .*: sme_pe to 2026/,
    );
  }, "scenarios_task_");
});

Deno.test("fit.html shows the generating terms against the selected ones, and the PD ratio at each scenario's z", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "fit");
    const r = await callMain(
      main,
      "--scenarios",
      SCENARIOS,
      "--generate-history",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(await Deno.readTextFile(join(out, "fit.json")));
    assert.equal(report.generating.terms.length, 4);
    assert.equal(report.generating.segments.length, 30);
    const k = report.generating.segments.filter((s: { recovered: boolean }) =>
      s.recovered
    ).length;
    assert.ok(
      report.warnings.some((w: string) =>
        w.includes(`in ${k} of 30 segments`)
      ) || k === 30,
    );
    assert.equal(report.adjustments.anchor_year, 2025);
    assert.equal(report.adjustments.detail[0].pd_ratio_weighted.length, 5);
    const html = await Deno.readTextFile(join(out, "fit.html"));
    assert.match(html, /Generating terms against the selected ones/);
    assert.match(html, /PD ratio 2026/);
    assert.match(
      html,
      /measured from each segment.{1,6}s fitted index in 2025 with the median correction/,
    );
  }, "scenarios_task_");
});
