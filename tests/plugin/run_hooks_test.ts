/**
 * Plugins in a run (lib/run/run.ts, lib/plugin/hooks.ts, docs/plugins.md):
 * the hooks' order and the real frames they see, a plugin that moves a
 * facility from stage 1 to 2 changing the ECL by that facility's lifetime
 * less 12-month ECL, schema refusals naming the column and plugin, a
 * throwing hook failing the run into `<run_id>.failed`, the report section,
 * onRunComplete's context and the manifest's record.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { type Manifest, runPortfolio, UserError } from "../../lib/mod.ts";
import { workspace, writeModule, writeRules } from "./_helpers.ts";

/** What the recording plugins write to. */
type Log = {
  calls: string[];
  validRows?: number;
  stagedColumns?: string[];
  eclColumns?: string[];
  complete?: {
    runDir: string;
    runId: string;
    summaryRunId: string;
    status: string;
    manifestExists: boolean;
    reportingDate: string;
  };
};
const log = (): Log => ((globalThis as { __pluginLog?: Log }).__pluginLog ??= {
  calls: [],
});

const RECORDER = `
const log = () => (globalThis.__pluginLog ??= { calls: [] });
export default (options) => {
  const name = options.name;
  const rec = (hook) => log().calls.push(name + ":" + hook);
  return {
    name,
    afterValidate: async (frame, ctx) => {
      rec("afterValidate");
      log().validRows = (await frame.collect()).height;
    },
    afterStaging: async (frame) => {
      rec("afterStaging");
      log().stagedColumns = (await frame.head(0).collect()).columns;
    },
    afterEcl: async (frame) => {
      rec("afterEcl");
      log().eclColumns = (await frame.head(0).collect()).columns;
      return frame;
    },
    onReport: (ctx) => {
      rec("onReport");
      return { title: "<b>" + name + " & co</b>", html: '<p class="from-' + name + '">checked ' + ctx.runId + '</p>' };
    },
    onRunComplete: async (ctx) => {
      rec("onRunComplete");
      let manifestExists = false;
      try { await Deno.stat(ctx.runDir + "/manifest.json"); manifestExists = true; } catch {}
      log().complete = {
        runDir: ctx.runDir, runId: ctx.runId, summaryRunId: ctx.summary.run_id,
        status: ctx.manifest.status, manifestExists, reportingDate: ctx.reportingDate,
      };
    },
  };
};
`;

const MOVE = `
import pl from "nodejs-polars";
export default (options) => {
  if (typeof options.loan_id !== "string") throw new Error("option loan_id is required");
  return {
    name: "move_to_stage_2",
    afterStaging: (frame) => {
      const hit = pl.col("loan_id").eq(pl.lit(options.loan_id));
      return frame.withColumns(
        pl.when(hit).then(pl.lit(2)).otherwise(pl.col("stage")).cast(pl.Int32).alias("stage"),
        pl.when(hit).then(pl.lit("PLUGIN_WATCHLIST")).otherwise(pl.col("stage_reason")).alias("stage_reason"),
      );
    },
  };
};
`;

Deno.test("hooks run in the rules' order at their points, per chunk, on the real frames", async () => {
  const ws = await workspace(120);
  try {
    await writeModule(ws.dir, "recorder.ts", RECORDER);
    const rules = await writeRules(ws.dir, [
      { module: "recorder.ts", options: { name: "a" } },
      { module: "./recorder.ts", options: { name: "b" } },
    ]);
    log().calls = [];
    const run = await runPortfolio({
      portfolio: ws.portfolio,
      rules,
      out: `${ws.dir}/runs`,
      runId: "q4",
      chunkSize: 70, // two chunks
    });
    const per = (hook: string) => [`a:${hook}`, `b:${hook}`];
    assert.deepEqual(log().calls, [
      ...per("afterValidate"),
      ...per("afterStaging"),
      ...per("afterEcl"),
      ...per("afterStaging"),
      ...per("afterEcl"),
      ...per("onReport"),
      ...per("onRunComplete"),
    ]);
    // The real frames: every valid row; the staged rows with their stage;
    // the loan results with the columns of methodology §9.
    assert.equal(log().validRows, run.manifest.rows.valid);
    for (const c of ["loan_id", "stage", "stage_reason", "balance"]) {
      assert.ok(log().stagedColumns!.includes(c), c);
    }
    for (const c of ["loan_id", "stage", "ecl_12m", "ecl_lifetime", "ecl"]) {
      assert.ok(log().eclColumns!.includes(c), c);
    }
    // onRunComplete: the published folder, its summary and manifest.
    assert.deepEqual(log().complete, {
      runDir: `${ws.dir}/runs/q4`,
      runId: "q4",
      summaryRunId: "q4",
      status: "complete",
      manifestExists: true,
      reportingDate: "2025-12-31",
    });
    // One section per onReport, in order, the title escaped, the HTML as given.
    const html = await Deno.readTextFile(`${run.dir}/report.html`);
    assert.match(
      html,
      /<h2>&lt;b&gt;a &amp; co&lt;\/b&gt;<\/h2><p class="from-a">checked q4<\/p>/,
    );
    assert.ok(html.indexOf('class="from-a"') < html.indexOf('class="from-b"'));
    assert.ok(!html.includes("<b>a & co</b>"));
    // The manifest records each plugin: name, module, its SHA-256, options.
    const bytes = await Deno.readFile(`${ws.dir}/recorder.ts`);
    const sha = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const manifest = JSON.parse(
      await Deno.readTextFile(`${run.dir}/manifest.json`),
    ) as Manifest;
    assert.deepEqual(manifest.plugins, [
      {
        name: "a",
        module: `${ws.dir}/recorder.ts`,
        sha256: sha,
        options: { name: "a" },
      },
      {
        name: "b",
        module: `${ws.dir}/recorder.ts`,
        sha256: sha,
        options: { name: "b" },
      },
    ]);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("a plugin moving one facility from stage 1 to 2 changes the ECL by its lifetime less 12-month ECL", async () => {
  const ws = await workspace(150);
  try {
    const base = await runPortfolio({
      portfolio: ws.portfolio,
      rules: await writeRules(ws.dir, undefined, "base.yaml"),
      out: `${ws.dir}/runs`,
      runId: "base",
      report: false,
    });
    // The reference rules have no overlays, so a stage 1 facility's ECL
    // is its weighted 12-month ECL and a stage 2 one's its weighted
    // lifetime ECL (methodology §8): the stage-1 facility with the largest
    // gap between them.
    const baseRows = pl.readParquet(`${base.dir}/loan_results.parquet`);
    const rows = baseRows.toRecords() as Record<string, unknown>[];
    const stage1 = rows.filter((r) => r.stage === 1);
    const target = stage1.reduce((best, r) =>
      (r.ecl_lifetime as number) - (r.ecl_12m as number) >
          (best.ecl_lifetime as number) - (best.ecl_12m as number)
        ? r
        : best
    );
    const gap = (target.ecl_lifetime as number) - (target.ecl_12m as number);
    assert.ok(gap > 1, `a facility with a lifetime gap, got ${gap}`);
    assert.ok(
      Math.abs((target.ecl as number) - (target.ecl_12m as number)) < 1e-9,
    );

    await writeModule(ws.dir, "move.ts", MOVE);
    const moved = await runPortfolio({
      portfolio: ws.portfolio,
      rules: await writeRules(ws.dir, [
        { module: "move.ts", options: { loan_id: target.loan_id } },
      ]),
      out: `${ws.dir}/runs`,
      runId: "moved",
      report: false,
    });
    const after = pl.readParquet(`${moved.dir}/loan_results.parquet`)
      .toRecords() as Record<string, unknown>[];
    const byId = new Map(after.map((r) => [r.loan_id, r]));
    const t = byId.get(target.loan_id)!;
    assert.equal(t.stage, 2);
    assert.equal(t.stage_reason, "PLUGIN_WATCHLIST");
    assert.ok(
      Math.abs((t.ecl as number) - (target.ecl_lifetime as number)) < 1e-6,
    );
    // Every other facility is as it was.
    for (const r of rows) {
      if (r.loan_id === target.loan_id) continue;
      assert.equal(byId.get(r.loan_id)!.ecl, r.ecl, String(r.loan_id));
      assert.equal(byId.get(r.loan_id)!.stage, r.stage, String(r.loan_id));
    }
    // The book's ECL (reporting currency) moves by the gap at its FX rate.
    const expected = gap * (target.fx_rate as number);
    const change = moved.summary.totals.ecl - base.summary.totals.ecl;
    assert.ok(
      Math.abs(change - expected) < 1e-6,
      `ECL change ${change}, expected ${expected}`,
    );
    const stage2 = (s: typeof base.summary) =>
      s.by_stage.find((g) => g.key === "2")?.count ?? 0;
    assert.equal(stage2(moved.summary), stage2(base.summary) + 1);
  } finally {
    await ws.cleanup();
  }
});

/** Runs with one plugin module; returns the error the run threw. */
async function failing(source: string, chunkSize?: number): Promise<{
  error: UserError;
  dir: string;
}> {
  const ws = await workspace(60);
  await writeModule(ws.dir, "p.ts", source);
  const rules = await writeRules(ws.dir, [{ module: "p.ts" }]);
  let error: unknown;
  try {
    await runPortfolio({
      portfolio: ws.portfolio,
      rules,
      out: `${ws.dir}/runs`,
      runId: "q4",
      chunkSize,
    });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof UserError, `the run fails: ${error}`);
  return { error, dir: ws.dir };
}

Deno.test("a hook that throws fails the run into <run_id>.failed, naming the plugin and hook", async () => {
  for (
    const hook of ["afterValidate", "afterStaging", "afterEcl", "onReport"]
  ) {
    const { error, dir } = await failing(
      `export default () => ({ name: "boom", ${hook}: () => { throw new Error("kaboom"); } });\n`,
    );
    try {
      assert.match(
        error.message,
        new RegExp(`^plugin boom failed in ${hook}: kaboom\\n`),
      );
      assert.equal(error.kind, "input");
      const manifest = JSON.parse(
        await Deno.readTextFile(`${dir}/runs/q4.failed/manifest.json`),
      ) as Manifest;
      assert.equal(manifest.status, "failed");
      assert.equal(manifest.error, `plugin boom failed in ${hook}: kaboom`);
      await assert.rejects(Deno.stat(`${dir}/runs/q4`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("onRunComplete failing names the plugin and says the run is published", async () => {
  const { error, dir } = await failing(
    `export default () => ({ name: "late", onRunComplete: () => { throw new Error("export refused"); } });\n`,
  );
  try {
    assert.match(
      error.message,
      /^plugin late failed in onRunComplete: export refused\n/,
    );
    assert.match(
      error.message,
      /Run q4 is complete and published in .*runs\/q4/,
    );
    await Deno.stat(`${dir}/runs/q4/manifest.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a frame without a column the next step reads is refused, naming the column and plugin", async () => {
  const cases: [string, string, RegExp][] = [
    [
      "afterValidate",
      `(f) => f.drop("balance")`,
      /plugin cut is refused in afterValidate: its frame drops column balance, which staging reads/,
    ],
    [
      "afterStaging",
      `(f) => f.drop("stage_reason")`,
      /plugin cut is refused in afterStaging: its frame drops column stage_reason, which the ECL computation reads/,
    ],
    [
      "afterStaging",
      `(f) => f.withColumns(pl.col("stage").cast(pl.Float64))`,
      /plugin cut is refused in afterStaging: its frame changes column stage from Int32 to Float64/,
    ],
    [
      "afterEcl",
      `(f) => f.withColumns(pl.col("ecl_lifetime").cast(pl.Utf8))`,
      /plugin cut is refused in afterEcl: its frame changes column ecl_lifetime from Float64 to String/,
    ],
    [
      "afterEcl",
      `async (f) => await f.collect()`,
      /plugin cut failed in afterEcl: it returned a DataFrame, not a LazyFrame/,
    ],
  ];
  for (const [hook, fn, pattern] of cases) {
    const { error, dir } = await failing(
      `import pl from "nodejs-polars";\nexport default () => ({ name: "cut", ${hook}: ${fn} });\n`,
    );
    try {
      assert.match(error.message, pattern);
      await Deno.stat(`${dir}/runs/q4.failed`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("afterEcl sees the results after the overlays when an add overlay needs two passes", async () => {
  const ws = await workspace(90);
  try {
    await writeModule(
      ws.dir,
      "seen.ts",
      `export default () => ({ name: "seen", afterEcl: async (f) => {
        const df = await f.select("ecl", "ecl_model").collect();
        (globalThis.__seen ??= []).push(df.getColumn("ecl").sum() - df.getColumn("ecl_model").sum());
      } });\n`,
    );
    const path = await writeRules(ws.dir, [{ module: "seen.ts" }]);
    const { parse, stringify } = await import("yaml");
    const doc = parse(await Deno.readTextFile(path));
    doc.overlays = [{
      name: "uplift",
      add: 1000,
      reason: "test",
      filter: { product: ["mortgage"] },
    }];
    await Deno.writeTextFile(path, stringify(doc));
    (globalThis as { __seen?: number[] }).__seen = [];
    const run = await runPortfolio({
      portfolio: ws.portfolio,
      rules: path,
      out: `${ws.dir}/runs`,
      runId: "q4",
      chunkSize: 50,
      report: false,
    });
    const seen = (globalThis as { __seen?: number[] }).__seen!;
    assert.equal(seen.length, 2);
    // The add overlay is in what the hook saw: the sum of the overlays'
    // impact over both chunks, in facility currencies, is not zero.
    assert.ok(Math.abs(seen[0] + seen[1]) > 1, String(seen));
    assert.equal(run.manifest.rows.computed, 90);
  } finally {
    await ws.cleanup();
  }
});
