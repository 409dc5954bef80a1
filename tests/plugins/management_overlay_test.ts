/**
 * The management-overlay plugin (plugins/management_overlay.ts): the ECL of
 * a tiny frame against a hand computation, on top of a rules overlay; the
 * audit trail (escaped); lines without an approver or reason refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { loadRules, projectPath, UserError } from "../../lib/mod.ts";
import managementOverlay from "../../plugins/management_overlay.ts";

const context = async () => ({
  runId: "t",
  reportingDate: "2025-12-31",
  rules: await loadRules(projectPath("config/sample_rules.yaml")),
  portfolio: "p.parquet",
});

/** Three facilities; the third already carries a rules overlay of +10. */
const results = () =>
  pl.DataFrame({
    loan_id: ["A", "B", "C"],
    product: ["sme", "sme", "mortgage"],
    segment: ["sme_es", "sme_mx", "mortgage_es"],
    region: ["n", "s", "n"],
    stage: [1, 2, 1],
    currency: ["EUR", "MXN", "EUR"],
    ead: [1000, 40000, 2000],
    ecl_model: [100, 2000, 40],
    ecl: [100, 2000, 50],
    overlays_applied: [[], [], ["rule_x"]],
    overlay_impacts: [[], [], [10]],
    overlay_floor: [0, 0, 0],
    fx_rate: [1, 0.05, 1],
    ecl_rc: [100, 100, 50],
  }).withColumns(
    pl.col("stage").cast(pl.Int32),
    pl.col("overlays_applied").cast(pl.List(pl.Utf8)),
    pl.col("overlay_impacts").cast(pl.List(pl.Float64)),
    pl.col("overlay_floor").cast(pl.Float64),
  );

Deno.test("management overlay: the ECL changes as computed by hand, on top of the rules' overlays", async () => {
  const ctx = await context();
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "overlays.csv");
    await Deno.writeTextFile(
      file,
      "segment,product,multiplier,add,approver,reason\n" +
        "mortgage_es,,1.2,,CRO,housing prices\n" +
        ',sme,,50,CFO <b>,"sme stress & co"\n',
    );
    const plugin = await managementOverlay({ file });
    const input = results();
    await plugin.afterValidate!(input.lazy(), ctx);
    const out = await (await plugin.afterEcl!(input.lazy(), ctx))!.collect();
    assert.deepEqual(out.schema, input.schema);
    assert.deepEqual(out.columns, input.columns);
    const r = out.toRecords() as Record<string, unknown>[];
    // C: 50 * 1.2 = 60, the rules' +10 kept, the plugin's +10 after it.
    // A and B: the add of EUR 50 shared pro rata to ECL in EUR, 100 : 100
    // (B: 2000 MXN at 0.05 = EUR 100), EUR 25 each; B's 25 EUR is 500 MXN.
    const close = (a: unknown, b: number) =>
      assert.ok(Math.abs(Number(a) - b) < 1e-9, `${a} != ${b}`);
    close(r[0].ecl, 125);
    close(r[1].ecl, 2500);
    close(r[2].ecl, 60);
    close(r[0].ecl_rc, 125);
    close(r[1].ecl_rc, 125);
    close(r[2].ecl_rc, 60);
    assert.deepEqual(r.map((x) => x.ecl_model), [100, 2000, 40]);
    assert.deepEqual(r[2].overlays_applied, ["rule_x", "management:2"]);
    assert.deepEqual(r[0].overlays_applied, ["management:3"]);
    close((r[2].overlay_impacts as number[])[1], 10);
    close((r[1].overlay_impacts as number[])[0], 500);
    // ecl = ecl_model + sum(overlay_impacts) + overlay_floor, per facility.
    for (const x of r) {
      const sum = (x.overlay_impacts as number[]).reduce((a, b) => a + b, 0);
      close(x.ecl, Number(x.ecl_model) + sum + Number(x.overlay_floor));
    }
    const section = await plugin.onReport!(ctx);
    assert.ok(section);
    const flat = section.html.replace(/>\s+</g, "><");
    assert.match(flat, /CFO &lt;b&gt;/);
    assert.match(flat, /sme stress &amp; co/);
    assert.match(
      flat,
      /<td>CRO<\/td><td>housing prices<\/td><td class="num">1<\/td><td class="num">10\.00<\/td>/,
    );
    assert.match(
      flat,
      /<td class="num">2<\/td><td class="num">50\.00<\/td>/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("management overlay: an add over a run in chunks is refused", async () => {
  const ctx = await context();
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "o.csv");
    await Deno.writeTextFile(
      file,
      "product,add,approver,reason\nsme,50,CFO,x\n",
    );
    const plugin = await managementOverlay({ file });
    await plugin.afterValidate!(pl.concat([results(), results()]).lazy(), ctx);
    await assert.rejects(
      async () => await plugin.afterEcl!(results().lazy(), ctx),
      /Plugin management_overlay: afterEcl: .*holds an add overlay.*6 facilities in chunks \(this one has 3\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("management overlay: lines without an approver or a reason are refused, naming the line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = async (name: string, text: string) => {
      const f = join(dir, name);
      await Deno.writeTextFile(f, text);
      return f;
    };
    await assert.rejects(
      managementOverlay({
        file: await write(
          "a.csv",
          "segment,multiplier,approver,reason\ns,1.1,CRO,ok\ns2,1.2,,why\n",
        ),
      }),
      (e) =>
        e instanceof UserError &&
        /a\.csv line 3: needs an approver/.test(e.message),
    );
    await assert.rejects(
      managementOverlay({
        file: await write(
          "b.csv",
          "segment,multiplier,approver,reason\ns,1.1,CRO,\n",
        ),
      }),
      /b\.csv line 2: needs a reason/,
    );
    await assert.rejects(
      managementOverlay({
        file: await write("c.csv", "segment,multiplier,reason\ns,1.1,x\n"),
      }),
      /c\.csv: needs an approver column/,
    );
    await assert.rejects(
      managementOverlay({
        file: await write(
          "d.csv",
          "segment,multiplier,add,approver,reason\ns,1.1,5,CRO,x\n",
        ),
      }),
      /d\.csv line 2: needs exactly one of multiplier and add/,
    );
    await assert.rejects(
      managementOverlay({
        file: await write(
          "e.csv",
          "segment,multiplier,approver,reason\ns,lots,CRO,x\n",
        ),
      }),
      /e\.csv line 2: multiplier must be a number, got lots/,
    );
    await assert.rejects(
      managementOverlay({ files: "x" }),
      /Plugin management_overlay refuses its options: options\.file: .*; options: .*files/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
