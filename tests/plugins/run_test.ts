/**
 * The shipped plugins in a real run (`runPortfolio`), listed in a rules
 * file (a copy of config/sample_rules.yaml with a `plugins` list): the
 * watchlist moves exactly its stage-1 facilities to stage 2, a management
 * multiplier scales its product's ECL, the run folder is exported whole,
 * and the manifest records the plugins. Compared facility by facility with
 * the same run without plugins.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { parse, stringify } from "yaml";
import { projectPath, runPortfolio } from "../../lib/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";

/** A copy of the sample rules with `plugins`, written into `dir`. */
async function writeRules(
  dir: string,
  name: string,
  plugins: unknown[],
): Promise<string> {
  const doc = parse(
    await Deno.readTextFile(projectPath("config/sample_rules.yaml")),
  ) as Record<string, unknown>;
  if (plugins.length > 0) doc.plugins = plugins;
  const path = join(dir, name);
  await Deno.writeTextFile(path, stringify(doc));
  return path;
}

/** Every file under `dir`, relative path -> bytes' length and first bytes. */
async function files(dir: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix + e.name;
    if (e.isDirectory) {
      for (const [k, v] of await files(join(dir, e.name), rel + "/")) {
        out.set(k, v);
      }
    } else {
      const bytes = await Deno.readFile(join(dir, e.name));
      const digest = await crypto.subtle.digest("SHA-256", bytes);
      out.set(rel, btoa(String.fromCharCode(...new Uint8Array(digest))));
    }
  }
  return out;
}

type Row = Record<string, unknown>;

Deno.test("plugins in a run: watchlist, management overlay and export, against the run without them", async () => {
  const root = await Deno.makeTempDir();
  try {
    const portfolio = writePortfolio(join(root, "book.parquet"), 80);
    const fx = projectPath("config/fx_rates.yaml");
    const base = await runPortfolio({
      portfolio,
      rules: await writeRules(root, "plain.yaml", []),
      fx,
      out: join(root, "runs"),
      runId: "plain",
    });
    const baseRows = pl.readParquet(join(base.dir, "loan_results.parquet"))
      .toRecords() as Row[];
    const byId = new Map(baseRows.map((r) => [r.loan_id, r]));
    // Listed: three stage-1 facilities, one stage-3 one.
    const stage1 = baseRows.filter((r) => r.stage === 1).slice(0, 3);
    const stage3 = baseRows.find((r) => r.stage === 3)!;
    assert.equal(stage1.length, 3);
    const listed = [...stage1.map((r) => r.loan_id), stage3.loan_id];
    await Deno.writeTextFile(
      join(root, "watch.csv"),
      "loan_id,reason\n" + listed.map((id) =>
        `${id},sector review`
      ).join("\n") +
        "\n",
    );
    await Deno.writeTextFile(
      join(root, "overlays.csv"),
      "product,multiplier,approver,reason\nauto,1.5,CRO,used-car prices\n",
    );
    const archive = join(root, "archive");
    const rules = await writeRules(root, "rules.yaml", [
      {
        module: projectPath("plugins/watchlist.ts"),
        options: { file: join(root, "watch.csv") },
      },
      {
        module: projectPath("plugins/management_overlay.ts"),
        options: { file: join(root, "overlays.csv") },
      },
      {
        module: projectPath("plugins/export_run.ts"),
        options: { to: archive },
      },
    ]);
    const run = await runPortfolio({
      portfolio,
      rules,
      fx,
      out: join(root, "runs"),
      runId: "q4",
    });
    // The export: the published folder, file for file, under <to>/<run_id>.
    const exported = join(archive, "q4");
    assert.deepEqual(await files(exported), await files(run.dir));
    assert.ok((await files(exported)).has("loan_results.parquet"));
    // The stages: exactly the listed stage-1 facilities moved.
    const rows = pl.readParquet(join(run.dir, "loan_results.parquet"))
      .toRecords() as Row[];
    assert.equal(rows.length, baseRows.length);
    const moved = new Set(stage1.map((r) => r.loan_id));
    for (const r of rows) {
      const b = byId.get(r.loan_id)!;
      if (moved.has(r.loan_id)) {
        assert.equal(r.stage, 2, String(r.loan_id));
        assert.equal(r.stage_reason, "WATCHLIST_PLUGIN");
      } else {
        assert.equal(r.stage, b.stage, String(r.loan_id));
        assert.equal(r.stage_reason, b.stage_reason);
      }
      // The ECL: lifetime for the moved ones, times 1.5 for auto loans.
      const m = r.product === "auto" ? 1.5 : 1;
      const expected = moved.has(r.loan_id)
        ? Number(b.ecl_lifetime) * m
        : Number(b.ecl) * m;
      assert.ok(
        Math.abs(Number(r.ecl) - expected) <= 1e-9 * Math.max(1, expected),
        `${r.loan_id}: ecl ${r.ecl}, expected ${expected}`,
      );
    }
    assert.ok(run.summary.totals.ecl > base.summary.totals.ecl);
    // The manifest records each plugin; the report has their sections.
    const recorded = (run.manifest as unknown as { plugins?: Row[] }).plugins;
    assert.deepEqual(recorded?.map((p) => p.name), [
      "watchlist",
      "management_overlay",
      "export_run",
    ]);
    const report = await Deno.readTextFile(join(run.dir, "report.html"));
    assert.match(report, /Management overlays \(audit trail\)/);
    assert.match(report, /used-car prices/);
    // summary.json carries the plugin's overlay: the bridge from the model
    // ECL to the final ECL adds up.
    const s = run.summary;
    assert.deepEqual(s.overlays.map((o) => o.name), ["management:2"]);
    const bridge = s.overlays.reduce((a, o) => a + o.ecl_impact, 0) +
      s.overlay_floor.ecl_impact;
    assert.ok(bridge > 0);
    assert.ok(
      Math.abs(bridge - (s.totals.ecl - s.totals.ecl_model)) <= 1e-6,
      `bridge ${bridge} != ${s.totals.ecl - s.totals.ecl_model}`,
    );
    // A rerun of the run (replace: true, as the quarter-end close does)
    // replaces its export instead of failing.
    const rerun = await runPortfolio({
      portfolio,
      rules,
      fx,
      out: join(root, "runs"),
      runId: "q4",
      replace: true,
    });
    assert.deepEqual(await files(exported), await files(rerun.dir));
    assert.deepEqual([...Deno.readDirSync(archive)].map((e) => e.name), [
      "q4",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("plugins in a run: a hook that writes to context.rules fails the run, naming the plugin", async () => {
  const root = await Deno.makeTempDir();
  try {
    const portfolio = writePortfolio(join(root, "book.parquet"), 10);
    const module = join(root, "meddler.ts");
    await Deno.writeTextFile(
      module,
      `export default () => ({
  name: "meddler",
  afterStaging(_frame, context) {
    context.rules.staging.dpd_sicr = 99;
  },
});
`,
    );
    const rules = await writeRules(root, "rules.yaml", [{ module }]);
    await assert.rejects(
      runPortfolio({
        portfolio,
        rules,
        fx: projectPath("config/fx_rates.yaml"),
        out: join(root, "runs"),
        runId: "q4",
      }),
      (e) =>
        e instanceof Error &&
        /plugin meddler failed in afterStaging: .*read.only|plugin meddler failed in afterStaging: .*(frozen|not extensible)/i
          .test(e.message),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
