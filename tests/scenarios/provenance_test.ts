/**
 * The provenance check of fitted scenarios at rules load
 * (lib/scenario_source.ts, docs/scenarios.md §5): rules naming a fit
 * in `scenario_source` must hold its scenarios; the fit must be there,
 * unchanged; a macro stress is checked against the fit's scenario file
 * at load. One fit of the sample (`--generate-history`) serves every step.
 */
import assert from "node:assert/strict";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse, stringify } from "yaml";
import { main } from "../../tasks/scenarios.ts";
import { main as runMain } from "../../tasks/run.ts";
import {
  loadRules,
  macroShiftWarnings,
  type SatelliteFit,
} from "../../lib/mod.ts";
import { scenarioMismatches } from "../../lib/scenario_source.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";

const SCENARIOS = "config/scenarios_2025-12-31.yaml";

Deno.test("rules naming a fit are refused at load unless they hold its scenarios", async (t) => {
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
    const merged = parse(await Deno.readTextFile(join(out, "rules.yaml")));
    const write = async (name: string, doc: unknown) => {
      const path = join(dir, name);
      await Deno.writeTextFile(path, stringify(doc));
      return path;
    };

    await t.step("the merged rules load", async () => {
      const rules = await loadRules(join(out, "rules.yaml"));
      assert.equal(rules.scenarios.length, 3);
    });

    await t.step("a hand-typed z is refused with its key path", async () => {
      const doc = structuredClone(merged);
      doc.scenarios[2].z[0] = 1.5;
      await assert.rejects(
        () => write("typed.yaml", doc).then((p) => loadRules(p)),
        /key scenarios\[2\]\.z\[0\]: is 1\.5, the fit .*fit\.json has -?\d/,
      );
    });

    await t.step(
      "another weight and another haircut are refused",
      async () => {
        const doc = structuredClone(merged);
        doc.scenarios[0].weight = 0.45;
        doc.scenarios[1].weight += 0.05;
        doc.scenarios[2].collateral_haircut = 0.5;
        await assert.rejects(
          () => write("weights.yaml", doc).then((p) => loadRules(p)),
          (e: Error) => {
            assert.match(e.message, /key scenarios\[0\]\.weight: is 0\.45/);
            assert.match(e.message, /key scenarios\[2\]\.collateral_haircut/);
            return true;
          },
        );
      },
    );

    await t.step("multipliers with a scenario_source are refused", async () => {
      const doc = parse(
        await Deno.readTextFile("config/sample_rules.yaml"),
      );
      doc.scenario_source = merged.scenario_source;
      await assert.rejects(
        () => write("mult.yaml", doc).then((p) => loadRules(p)),
        /key scenario_adjustment: is multiplier, but the scenarios of scenario_source/,
      );
    });

    await t.step("a changed fit, then a missing one, are refused", async () => {
      const fit = join(out, "fit.json");
      const text = await Deno.readTextFile(fit);
      await Deno.writeTextFile(
        fit,
        text.replace('"report_version": 1', '"report_version":  1'),
      );
      await assert.rejects(
        () => loadRules(join(out, "rules.yaml")),
        /key scenario_source\.sha256: .*fit\.json has SHA-256 [0-9a-f]{64}: the fit changed/,
      );
      await Deno.remove(fit);
      await assert.rejects(
        () => loadRules(join(out, "rules.yaml")),
        /key scenario_source\.fit: the fit .*fit\.json is not there/,
      );
      // A run refuses them before it reads any data: the portfolio named
      // does not exist, the message is the rules'.
      const run = await callMain(
        runMain,
        "--portfolio",
        join(dir, "no_such_book.parquet"),
        "--rules",
        join(out, "rules.yaml"),
        "--out",
        join(dir, "runs"),
      );
      assert.equal(run.code, 2);
      assert.match(run.stderr, /scenario_source\.fit/);
      assert.doesNotMatch(run.stderr, /no_such_book/);
      await Deno.writeTextFile(fit, text);
    });

    await t.step(
      "a relative fit path is read beside the rules file",
      async () => {
        const sub = join(dir, "elsewhere");
        await Deno.mkdir(sub);
        const doc = structuredClone(merged);
        doc.scenario_source.fit = "../fit/fit.json";
        const path = join(sub, "rules.yaml");
        await Deno.writeTextFile(path, stringify(doc));
        const rules = await loadRules(path);
        assert.equal(rules.scenario_source?.fit, "../fit/fit.json");
      },
    );

    await t.step(
      "fit.json names its scenario file relative to itself: a macro stress loads from any working directory",
      async () => {
        const report = JSON.parse(
          await Deno.readTextFile(join(out, "fit.json")),
        );
        assert.equal(report.fit.scenario_file.file, relative(out, SCENARIOS));
        const doc = structuredClone(merged);
        doc.sensitivity = {
          stresses: [{
            name: "recession",
            macro: [{ variable: "gdp_growth", delta: -2 }],
          }],
        };
        const path = await write("with_stress.yaml", doc);
        const elsewhere = await Deno.makeTempDir({ prefix: "provenance_cwd_" });
        try {
          const code = `import { loadRules } from ${
            JSON.stringify(pathToFileURL(resolve("lib/mod.ts")).href)
          };
const r = await loadRules(${JSON.stringify(path)});
console.log(r.sensitivity.stresses[0].name);`;
          const p = await new Deno.Command(Deno.execPath(), {
            args: ["eval", "--config", resolve("deno.json"), code],
            cwd: elsewhere,
            stdout: "piped",
            stderr: "piped",
          }).output();
          const dec = new TextDecoder();
          assert.equal(p.code, 0, dec.decode(p.stderr));
          assert.equal(dec.decode(p.stdout).trim(), "recession");
        } finally {
          await Deno.remove(elsewhere, { recursive: true });
        }
      },
    );

    await t.step(
      "a macro stress is checked against the fit's scenario file at load",
      async () => {
        const doc = structuredClone(merged);
        doc.sensitivity = {
          stresses: [
            {
              name: "badreg",
              macro: [{ variable: "gdp_growth", delta: -1, region: "XX" }],
            },
            {
              name: "beyond",
              macro: [{ variable: "unemployment_rate", delta: 45 }],
            },
          ],
        };
        await assert.rejects(
          () => write("stress.yaml", doc).then((p) => loadRules(p)),
          (e: Error) => {
            assert.match(
              e.message,
              /key sensitivity\.stresses\[0\]\.macro\[0\]\.region: stress badreg \(fit .*fit\.json\): "XX" is not a region of .*scenarios_2025-12-31\.yaml/,
            );
            // The sample's unemployment paths reach 10-16%: +45 points is
            // beyond the file's own bound of 40.
            assert.match(
              e.message,
              /key sensitivity\.stresses\[1\]\.macro\[0\]\.delta: stress beyond .*outside the scenario file's bounds \[0, 40\]/,
            );
            return true;
          },
        );
      },
    );
  }, "provenance_");
});

Deno.test("scenarioMismatches() lists at most ten differences, then how many more", () => {
  const fit = Array.from({ length: 3 }, (_, i) => ({
    name: `s${i}`,
    weight: 1 / 3,
    z: Array(10).fill(0),
    collateral_haircut: 0.2,
  }));
  const typed = fit.map((s) => ({ ...s, z: s.z.map(() => 1) }));
  const issues = scenarioMismatches(fit, typed, 1e-6);
  assert.equal(issues.length, 11);
  assert.deepEqual(issues[10], {
    path: "scenarios",
    message: "and 20 more differences",
  });
  // Within the tolerance: none.
  assert.deepEqual(
    scenarioMismatches(
      fit,
      fit.map((s) => ({ ...s, weight: s.weight + 5e-7 })),
    ),
    [],
  );
});

Deno.test("macroShiftWarnings() warns of a shifted variable no fitted segment uses", () => {
  const segment = (name: string, variables: string[]) => ({
    segment: name,
    terms: variables.map((variable) => ({ variable, lag: 0 })),
  });
  const fit = {
    segments: [
      segment("a_es", ["gdp_growth"]),
      segment("b_es", ["gdp_growth", "policy_rate"]),
    ],
  } as unknown as SatelliteFit;
  assert.deepEqual(
    macroShiftWarnings(fit, [
      { variable: "gdp_growth", delta: -2 },
      { variable: "unemployment_rate", delta: 45 },
      { variable: "house_price_growth", delta: -10 },
    ]),
    [
      "unemployment_rate is in no segment's fitted model (dropped by the selection in all 2): shifting it moves nothing",
      "house_price_growth is in no segment's fitted model (dropped by the selection in all 2): shifting it moves only the collateral haircuts",
    ],
  );
});
