/**
 * The watchlist plugin (plugins/watchlist.ts): exactly the listed stage-1
 * facilities move to stage 2 with the plugin's reason; stage 2 and 3 keep
 * their stage; bad options and bad CSV rows are refused naming them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  loadRules,
  projectPath,
  stageFacilities,
  UserError,
} from "../../lib/mod.ts";
import watchlist from "../../plugins/watchlist.ts";
import { portfolioFrame } from "../run/_portfolio.ts";

const context = async () => ({
  runId: "t",
  reportingDate: "2025-12-31",
  rules: await loadRules(projectPath("config/sample_rules.yaml")),
  portfolio: "p.parquet",
});

Deno.test("watchlist: exactly the listed stage-1 facilities move to stage 2", async () => {
  const ctx = await context();
  const staged = await stageFacilities(portfolioFrame(60).lazy(), ctx.rules)
    .collect();
  const rows = staged.toRecords() as Record<string, unknown>[];
  const byStage = (s: number) => rows.filter((r) => r.stage === s);
  const stage1 = byStage(1), stage2 = byStage(2), stage3 = byStage(3);
  assert.ok(stage1.length >= 3 && stage2.length >= 1 && stage3.length >= 1);
  // Listed: two stage-1 facilities by loan_id, one stage-1 customer (every
  // facility of that customer), one stage-2 and one stage-3 facility.
  const [a, b] = [stage1[0], stage1[1]];
  const customer = stage1[2].customer_id as string;
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "watch.csv");
    await Deno.writeTextFile(
      file,
      [
        "customer_id,loan_id,reason",
        `,${a.loan_id},sector downgrade`,
        `,${b.loan_id},"fraud alert, branch 12"`,
        `${customer},,covenant breach`,
        `,${stage2[0].loan_id},already stage 2`,
        `,${stage3[0].loan_id},already stage 3`,
      ].join("\n") + "\n",
    );
    const plugin = await watchlist({ file });
    assert.equal(plugin.name, "watchlist");
    const out = await (await plugin.afterStaging!(staged.lazy(), ctx))!
      .collect();
    assert.deepEqual(out.schema, staged.schema);
    const after = new Map(
      (out.toRecords() as Record<string, unknown>[]).map((r) => [r.loan_id, r]),
    );
    const expectedMoved = new Set(
      stage1.filter((r) =>
        r.loan_id === a.loan_id || r.loan_id === b.loan_id ||
        r.customer_id === customer
      ).map((r) => r.loan_id),
    );
    assert.ok(expectedMoved.size >= 3);
    for (const r of rows) {
      const n = after.get(r.loan_id)!;
      if (expectedMoved.has(r.loan_id)) {
        assert.equal(n.stage, 2, String(r.loan_id));
        assert.equal(n.stage_reason, "WATCHLIST_PLUGIN");
        assert.deepEqual(n.stage_triggers, [
          ...(r.stage_triggers as string[]),
          "WATCHLIST_PLUGIN",
        ]);
      } else {
        assert.equal(n.stage, r.stage, String(r.loan_id));
        assert.equal(n.stage_reason, r.stage_reason);
      }
    }
    // The listed stage-2 facility gets the trigger, the stage-3 one nothing.
    assert.deepEqual(after.get(stage2[0].loan_id)!.stage_triggers, [
      ...(stage2[0].stage_triggers as string[]),
      "WATCHLIST_PLUGIN",
    ]);
    assert.deepEqual(
      after.get(stage3[0].loan_id)!.stage_triggers,
      stage3[0].stage_triggers,
    );
    const moved = [...after.values()].filter((r) => r.stage === 2).length -
      stage2.length;
    assert.equal(moved, expectedMoved.size);
    // Its own stage reason, and the report lists the entries, escaped.
    const own = await watchlist({ file, stage_reason: "RISK_LIST" });
    const out2 = await (await own.afterStaging!(staged.lazy(), ctx))!.collect();
    assert.equal(
      out2.getColumn("stage_reason").toArray().filter((r) => r === "RISK_LIST")
        .length,
      expectedMoved.size,
    );
    const section = await own.onReport!(ctx);
    assert.ok(section && section.html.includes("fraud alert, branch 12"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchlist: refuses bad options and bad rows, naming them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      watchlist({}),
      (e) => e instanceof UserError && /options\.file/.test(e.message),
    );
    await assert.rejects(
      watchlist({ file: "x.csv", stage_reason: "lower case" }),
      /Plugin watchlist refuses its options: options\.stage_reason: must be an upper-case code/,
    );
    await assert.rejects(
      watchlist({ file: "x.csv", colour: 1 }),
      /Plugin watchlist refuses its options: options: .*colour/,
    );
    await assert.rejects(
      watchlist({ file: join(dir, "missing.csv") }),
      /Plugin watchlist: cannot read .*missing\.csv/,
    );
    const noReason = join(dir, "a.csv");
    await Deno.writeTextFile(noReason, "loan_id\nL1\n");
    await assert.rejects(
      watchlist({ file: noReason }),
      /a\.csv: needs a reason column/,
    );
    const blank = join(dir, "b.csv");
    await Deno.writeTextFile(blank, "loan_id,reason\nL1,x\nL2,\n");
    await assert.rejects(
      watchlist({ file: blank }),
      /b\.csv line 3: needs a reason/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchlist: the report names the listed ids that matched no facility, across chunks", async () => {
  const ctx = await context();
  const staged = await stageFacilities(portfolioFrame(40).lazy(), ctx.rules)
    .collect();
  const rows = staged.toRecords() as Record<string, unknown>[];
  const first = rows[0], last = rows[rows.length - 1];
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "watch.csv");
    await Deno.writeTextFile(
      file,
      [
        "customer_id,loan_id,reason",
        `,${first.loan_id},in the first chunk`,
        `${last.customer_id},,in the second chunk`,
        `,L_NOPE,closed last year`,
        `C_NOPE,,typo`,
        `,L_NOPE,listed twice`,
      ].join("\n") + "\n",
    );
    const plugin = await watchlist({ file });
    // Two chunks, as a run stages its book.
    await plugin.afterStaging!(staged.head(20).lazy(), ctx);
    await plugin.afterStaging!(staged.tail(20).lazy(), ctx);
    const section = await plugin.onReport!(ctx);
    assert.ok(section);
    assert.match(
      section.html,
      /2 listed ids matched no facility: L_NOPE, C_NOPE</,
    );
    assert.ok(!section.html.includes(`${String(first.loan_id)},`));
    // Every id matched: no such line.
    const all = join(dir, "all.csv");
    await Deno.writeTextFile(
      all,
      `customer_id,loan_id,reason\n,${first.loan_id},x\n`,
    );
    const ok = await watchlist({ file: all });
    await ok.afterStaging!(staged.lazy(), ctx);
    assert.ok(!(await ok.onReport!(ctx))!.html.includes("matched no"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchlist: every id of plugins/examples/watchlist.csv is in the sample book", async () => {
  const ctx = await context();
  const book = stageFacilities(
    pl.scanParquet(projectPath("data/sample/portfolio_2025-12-31.parquet")),
    ctx.rules,
  );
  const plugin = await watchlist({
    file: projectPath("plugins/examples/watchlist.csv"),
  });
  const out = await (await plugin.afterStaging!(book, ctx))!.collect();
  assert.ok(
    out.getColumn("stage_reason").toArray().includes("WATCHLIST_PLUGIN") ||
      out.getColumn("stage_triggers").toArray().some((t) =>
        (t as unknown as string[]).includes("WATCHLIST_PLUGIN")
      ),
  );
  const section = await plugin.onReport!(ctx);
  assert.ok(section && !section.html.includes("matched no facility"));
});
