/**
 * Notebook 08_scenarios executed headless on a 2,000-loan book into a
 * scratch folder of its own (IFRS9_SCENARIOS_NOTEBOOK_SCRATCH): it runs
 * without an error, renders every output and chart in Chromium, and what
 * it shows is what it wrote. Checked here from the files alone: the
 * sensitivity table's weighted line shown equals the fitted run's
 * `summary.json` allowance (and the line there); each scenario's `z`
 * shown is the one `fit.json` holds, and the same one the run's
 * `manifest.json` records; the fitted run names the `fit.json` written,
 * by its SHA-256; each grade's one-year PD shown is the default column of
 * the `transition_matrix.csv` written, which the matrix run's manifest
 * names by its SHA-256.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  executeNotebook,
  openPageChecker,
  readNotebook,
} from "../../lib/notebook/mod.ts";
import { formatAmount, formatPercent } from "../../lib/mod.ts";
import { codeOf, markdownOf, unformattedCells } from "./_tutorial.ts";

const NOTEBOOKS = fileURLToPath(new URL("../../notebooks", import.meta.url));
const PATH = join(NOTEBOOKS, "08_scenarios.ipynb");

Deno.test("08_scenarios uses the public face only, each piece of the chain, and cites forward-looking information", async () => {
  const nb = await readNotebook(PATH);
  const code = codeOf(nb);
  const imports = [...code.matchAll(/from "(\.[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(imports)], ["../lib/mod.ts"]);
  for (
    const api of [
      "loadScenarioFile(",
      "generateDefaultHistory(",
      "fitSatellite(",
      "scenarioAdjustments(",
      "writeScenarioOutputs(",
      "ratingHistory(",
      "estimateCohort(",
      "estimateDuration(",
      "validateMatrix(",
      "lifetimePds(",
      "runPortfolio(",
    ]
  ) {
    assert.ok(code.includes(api), api);
  }
  assert.match(code, /pd_curve: transition_matrix/);
  assert.match(code, /^sensitivity:$/m);
  const text = markdownOf(nb);
  for (const cite of ["§5.5.17", "B5.5.42", "B5.5.52", "B5.5.54", "§35G"]) {
    assert.ok(text.includes(cite), `cites ${cite}`);
  }
});

/** A file's SHA-256, hex. */
async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

Deno.test({
  name:
    "08_scenarios runs headless and shows the fit's z, the matrix's PDs and a sensitivity table tied to the run's summary.json",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "ifrs9-nb-08-" });
    const scratch = await Deno.makeTempDir({ prefix: "ifrs9-nb-08-scratch-" });
    const pages = await openPageChecker();
    try {
      const result = await executeNotebook(PATH, {
        outDir: out,
        env: {
          IFRS9_NOTEBOOK_LOANS: "2000",
          IFRS9_SCENARIOS_NOTEBOOK_SCRATCH: scratch,
        },
        pages,
      });
      assert.equal(result.status, "ok", result.message ?? "");
      const page = result.page!;
      assert.deepEqual(page.problems, []);
      assert.equal(page.outputsPresent, page.outputsExpected);
      assert.equal(page.chartsDrawn, page.chartsExpected);
      assert.ok(page.chartsExpected >= 4, `charts: ${page.chartsExpected}`);
      const html = await Deno.readTextFile(join(out, "08_scenarios.html"));
      // Tables formatted for people: no raw floats, no JavaScript dates.
      assert.deepEqual(unformattedCells(html), []);

      // The sensitivity table, from the fitted run's summary.json.
      const runs = join(scratch, "runs");
      const summary = JSON.parse(
        await Deno.readTextFile(join(runs, "fitted", "summary.json")),
      );
      const lines = summary.sensitivity.lines as {
        kind: string;
        name: string;
        ecl: number;
      }[];
      const weighted = lines.find((l) => l.kind === "weighted")!;
      assert.ok(
        Math.abs(weighted.ecl - summary.totals.ecl) < 0.005,
        `weighted line ${weighted.ecl}, run ${summary.totals.ecl}`,
      );
      const allowance = formatAmount(summary.totals.ecl);
      assert.ok(
        html.includes(`the weighted allowance ${allowance}`),
        `the findings show the weighted allowance ${allowance}`,
      );
      for (const l of lines) {
        assert.ok(html.includes(formatAmount(l.ecl)), `line ${l.name} shown`);
      }
      const names = lines.map((l) => l.name);
      for (
        const want of [
          "base",
          "upside",
          "downside",
          "pd_x150",
          "collateral_minus_20",
          "z_minus_1",
          "recession",
        ]
      ) {
        assert.ok(names.includes(want), `line ${want} computed`);
      }

      // The z paths: fit.json, the page and the run's manifest agree.
      const fitPath = join(scratch, "fit", "fit.json");
      const report = JSON.parse(await Deno.readTextFile(fitPath));
      const manifest = JSON.parse(
        await Deno.readTextFile(join(runs, "fitted", "manifest.json")),
      );
      const params = manifest.inputs.rules.parameters;
      assert.equal(params["scenario_adjustment"], "z_shift");
      assert.equal(params["scenario_source.sha256"], await sha256(fitPath));
      const scenarios = report.adjustments.scenarios as {
        name: string;
        z: number[];
        collateral_haircut: number;
      }[];
      assert.ok(scenarios.length >= 2);
      scenarios.forEach((s, i) => {
        assert.deepEqual(params[`scenarios[${i}].z`], s.z);
        for (const z of s.z) {
          assert.ok(html.includes(`<td>${z.toFixed(3)}</td>`), `z ${z}`);
        }
        assert.ok(html.includes(formatPercent(s.collateral_haircut)));
      });

      // The one-year PDs: transition_matrix.csv, the page and the matrix run.
      const csvPath = join(scratch, "migration", "transition_matrix.csv");
      const [header, ...rows] = (await Deno.readTextFile(csvPath)).trim()
        .split("\n").map((l) => l.split(","));
      assert.equal(header[0], "from");
      const D = header.length - 1;
      for (const row of rows.slice(0, -1)) {
        const pd = formatPercent(Number(row[D]));
        assert.ok(html.includes(`<td>${pd}</td>`), `${row[0]}: ${pd}`);
      }
      const matrixManifest = JSON.parse(
        await Deno.readTextFile(
          join(runs, "transition_matrix", "manifest.json"),
        ),
      );
      assert.equal(
        matrixManifest.inputs.rules.parameters[
          "segments.default.transition_matrix.sha256"
        ],
        await sha256(csvPath),
      );
    } finally {
      await pages.close();
      await Deno.remove(out, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    }
  },
});
