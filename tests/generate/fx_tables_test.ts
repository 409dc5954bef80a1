/**
 * The FX tables the generator writes beside its snapshots
 * (`lib/generate/fx_tables.ts`, docs/generator.md): one per snapshot date,
 * the reference rates at the first, a seeded random walk after, read by a
 * run of the snapshot without `--fx`, so a generated book's later quarters
 * run without an FX warning and its movements carry a foreign-exchange
 * line (issue 9: every later run warned and every FX line was zero).
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import {
  CURRENCIES,
  FX_QUARTERLY_VOLATILITY,
  generateFxTables,
  generatePortfolio,
} from "../../lib/generate/mod.ts";
import { loadFx } from "../../lib/fx.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { computeMovement } from "../../lib/movement/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("generatePortfolio() writes an FX table per snapshot date, the first at the project's rates", async () => {
  const out = await Deno.makeTempDir({ prefix: "gen-fx-" });
  try {
    const gen = await generatePortfolio({
      loans: 200,
      seed: 9,
      reportingDate: "2025-12-31",
      periods: 3,
      out,
    });
    const tables = await Promise.all(
      gen.snapshots.map((s) => loadFx(s.fxPath)),
    );
    assert.deepEqual(
      gen.snapshots.map((s) => s.fxPath),
      ["2025-12-31", "2026-03-31", "2026-06-30"].map((d) =>
        `${out}/fx_rates_${d}.yaml`
      ),
    );
    assert.deepEqual(tables.map((t) => t.as_of), [
      "2025-12-31",
      "2026-03-31",
      "2026-06-30",
    ]);
    // The first date's rates are config/fx_rates.yaml's, read here as YAML.
    const reference = parseYaml(
      await Deno.readTextFile(`${ROOT}config/fx_rates.yaml`),
    );
    assert.deepEqual(tables[0].rates, reference.rates);
    for (let t = 1; t < tables.length; t++) {
      assert.equal(tables[t].base, "EUR");
      assert.equal(tables[t].rates.EUR, 1);
      for (const c of CURRENCIES.filter((c) => c !== "EUR")) {
        const move = Math.log(tables[t].rates[c] / tables[t - 1].rates[c]);
        // A quarter's move: not zero, and within five standard deviations.
        assert.notEqual(move, 0, `${c} ${tables[t].as_of}`);
        assert.ok(
          Math.abs(move) < 5 * FX_QUARTERLY_VOLATILITY[c],
          `${c} moved ${move}`,
        );
      }
    }
    // The file says where its rates come from.
    assert.match(
      await Deno.readTextFile(gen.snapshots[1].fxPath),
      /^# FX table of the synthetic book at 2026-03-31, written by deno task generate\n# \(seed 9\)/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("generateFxTables() moves each rate with the stated quarterly volatility, without drift", () => {
  const dates = Array.from({ length: 2001 }, (_, i) => `q${i}`);
  const tables = generateFxTables(123, dates);
  for (const c of CURRENCIES.filter((c) => c !== "EUR")) {
    const moves = tables.slice(1).map((t, i) =>
      Math.log(t.rates[c] / tables[i].rates[c])
    );
    const mean = moves.reduce((a, b) => a + b, 0) / moves.length;
    const sd = Math.sqrt(
      moves.reduce((a, b) => a + (b - mean) ** 2, 0) / (moves.length - 1),
    );
    const sigma = FX_QUARTERLY_VOLATILITY[c];
    // 2,000 draws: the sample sd within 6% of sigma, the mean log move
    // within four standard errors of -sigma^2 / 2 (a mean-preserving step;
    // rounding to 5 digits adds far less).
    assert.ok(Math.abs(sd / sigma - 1) < 0.06, `${c} sd ${sd} vs ${sigma}`);
    assert.ok(
      Math.abs(mean + sigma * sigma / 2) < 4 * sigma / Math.sqrt(2000),
      `${c} mean ${mean}`,
    );
  }
  // A longer book starts with the tables of a shorter one of its seed.
  assert.deepEqual(
    generateFxTables(123, dates.slice(0, 5)),
    tables.slice(0, 5),
  );
  assert.notDeepEqual(
    generateFxTables(124, dates.slice(0, 5)),
    tables.slice(0, 5),
  );
});

Deno.test("a generated two-quarter book runs without an FX warning and its movement has an FX line", async () => {
  const root = await Deno.makeTempDir({ prefix: "gen-fx-run-" });
  try {
    const gen = await generatePortfolio({
      loans: 600,
      seed: 5,
      reportingDate: "2025-12-31",
      periods: 2,
      out: `${root}/book`,
    });
    const runs = [];
    for (const s of gen.snapshots) {
      // No fx option: the run finds the table beside the snapshot.
      const run = await runPortfolio({
        portfolio: s.path,
        out: `${root}/runs`,
        runId: s.reportingDate,
        report: false,
      });
      assert.equal(run.manifest.inputs.fx.path, s.fxPath);
      assert.equal(run.summary.fx.as_of, s.reportingDate);
      assert.deepEqual(run.manifest.warnings, []);
      runs.push(await readRunFolder(run.dir));
    }
    const { movement } = await computeMovement(runs[0], runs[1]);
    assert.deepEqual(movement.warnings, []);
    for (const c of movement.checks) assert.ok(c.passed, c.name);
    const fx = movement.allowance.lines.find((l) => l.key === "fx")!;
    const gross = movement.gross_carrying_amount.lines.find((l) =>
      l.key === "fx"
    )!;
    assert.ok(Math.abs(fx.total) > 1, `allowance FX line ${fx.total}`);
    assert.ok(Math.abs(gross.total) > 1, `gross FX line ${gross.total}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
