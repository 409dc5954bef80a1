/**
 * The sensitivity table of a run whose plugins change stages or ECL
 * (docs/sensitivity.md, docs/plugins.md): the lines are computed without
 * the plugins, so summary.json's `sensitivity.warnings` and the report's
 * section say the weighted line is not the allowance, naming them.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { DEFAULT_FX, runPortfolio } from "../../lib/run/mod.ts";
import { sensitivitySection } from "../../lib/report/sensitivity_section.ts";
import { workspace, writeModule } from "../plugin/_helpers.ts";

Deno.test("sensitivity: a run whose plugin changes ECL warns in summary.json and the report that the weighted line is not the allowance", async () => {
  const { dir, portfolio, cleanup } = await workspace(40);
  try {
    const plugin = await writeModule(
      dir,
      "double.ts",
      `import pl from "nodejs-polars";
export default () => ({
  name: "double_ecl",
  afterEcl: (frame) => frame.withColumns(pl.col("ecl").mul(2)),
});
`,
    );
    const doc = parse(
      await Deno.readTextFile(
        new URL("../../config/ifrs9_rules.yaml", import.meta.url),
      ),
    ) as Record<string, unknown>;
    doc.plugins = [{ module: plugin }];
    doc.sensitivity = { scenarios: false };
    const rules = `${dir}/rules.yaml`;
    await Deno.writeTextFile(rules, stringify(doc));
    const run = await runPortfolio({
      portfolio,
      rules,
      fx: DEFAULT_FX,
      out: `${dir}/runs`,
      runId: "plugged",
      report: false,
    });
    const summary = JSON.parse(
      await Deno.readTextFile(`${run.dir}/summary.json`),
    );
    const s = summary.sensitivity;
    // The plugin doubled the allowance; the table's weighted line has not.
    const weighted = s.lines[0].ecl as number;
    assert.ok(
      Math.abs(summary.totals.ecl - 2 * weighted) < 0.01,
      `${summary.totals.ecl} vs 2 x ${weighted}`,
    );
    assert.equal(s.warnings.length, 1);
    assert.match(
      s.warnings[0],
      /^The run's plugin double_ecl changed stages or ECL \(afterStaging \/ afterEcl\); the sensitivity lines are computed without it, so the weighted line is not the run's allowance/,
    );
    const html = String(sensitivitySection(s));
    assert.match(
      html,
      /<li>Warning: The run(&#39;|&#x27;|')s plugin double_ecl changed/,
    );

    // Without plugins: no warnings key.
    delete doc.plugins;
    await Deno.writeTextFile(rules, stringify(doc));
    const plain = await runPortfolio({
      portfolio,
      rules,
      fx: DEFAULT_FX,
      out: `${dir}/runs`,
      runId: "plain",
      report: false,
    });
    const plainSummary = JSON.parse(
      await Deno.readTextFile(`${plain.dir}/summary.json`),
    );
    assert.equal(plainSummary.sensitivity.warnings, undefined);
    assert.doesNotMatch(
      String(sensitivitySection(plainSummary.sensitivity)),
      /Warning:/,
    );
  } finally {
    await cleanup();
  }
});
