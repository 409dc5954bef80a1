/**
 * `writeRunReport()` on a hand-made run folder: the page is self-contained,
 * carries the headline figures of summary.json, every chart and the
 * data-quality and manifest sections, and works in a folder that still has
 * its temporary name and no manifest.
 *
 * @module
 */
import assert from "node:assert/strict";
import { writeRunReport } from "../../lib/report/mod.ts";
import { readRunFolder, RunFolderReadError } from "../../lib/run_folder/mod.ts";
import { writeFixtureRun } from "./_run_fixture.ts";

/** The value of the headline card whose label matches `label`. */
function card(html: string, label: string): string | undefined {
  return html.match(
    new RegExp(
      `card-label">${label}</div><div class="card-value[^>]*>([^<]*)<`,
    ),
  )?.[1];
}

/** Amounts in thousands, so that the page (in EUR thousands) shows them whole. */
const LOANS = [
  {
    loan_id: "L1",
    currency: "EUR",
    stage: 1 as const,
    ecl: 10_000,
    gross: 1_000_000,
  },
  {
    loan_id: "L2",
    currency: "USD",
    stage: 2 as const,
    ecl: 300_000,
    gross: 500_000,
    ead: 600_000,
    product: "mortgage",
    region: "south",
  },
  {
    loan_id: "L3",
    currency: "EUR",
    stage: 1 as const,
    ecl: 5_000,
    gross: 800_000,
  },
  // A card with 40,000 drawn and ECL 50,000: 40,000 loss allowance, 10,000
  // provision.
  {
    loan_id: "L4",
    currency: "EUR",
    stage: 2 as const,
    ecl: 50_000,
    gross: 40_000,
    ead: 200_000,
    product: "card",
  },
];

Deno.test("writeRunReport() writes a self-contained page with headline, charts, tables, data quality and manifest", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/.r1.partial-abc`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const path = await writeRunReport(dir);
  assert.equal(path, `${dir}/report.html`);
  const html = await Deno.readTextFile(path);
  // In EUR thousands: total ECL 10 + 300 * 0.9 + 5 + 50 = 335; gross
  // carrying amount 1000 + 500 * 0.9 + 800 + 40 = 2290; EAD 1000 + 540 +
  // 800 + 200 = 2540.
  assert.equal(card(html, "Expected credit loss \\(EUR thousands\\)"), "335.0");
  assert.equal(
    card(html, "Gross carrying amount \\(EUR thousands\\)"),
    "2,290.0",
  );
  assert.equal(card(html, "EAD \\(EUR thousands\\)"), "2,540.0");
  // Coverage on the gross carrying amount: 335 / 2290, not 335 / 2540.
  assert.equal(card(html, "Coverage"), "14.63%");
  // IFRS 7 B8E: L4's ECL above its 40 drawn is a provision of 10; the
  // loss allowance is 335 - 10.
  assert.equal(card(html, "Loss allowance \\(EUR thousands\\)"), "325.0");
  assert.equal(card(html, "Provision \\(EUR thousands\\)"), "10.0");
  // By stage: stage 2 holds 270 + 50 = 320 ECL, 310 allowance, 10
  // provision, on 450 + 40 = 490 drawn: coverage 65.31%.
  const stages = html.slice(
    html.indexOf("<caption>By stage (EUR thousands)</caption>"),
  );
  const stage2 = stages.slice(stages.indexOf("<td>2</td>"));
  const cells = [
    ...stage2.slice(0, stage2.indexOf("</tr>"))
      .matchAll(/<td[^>]*>([^<]*)<\/td>/g),
  ].map((m) => m[1]);
  assert.deepEqual(cells, [
    "2",
    "2",
    "490.0",
    "740.0",
    "320.0",
    "310.0",
    "10.0",
    "65.31%",
    "95.52%",
  ]);
  for (
    const id of [
      "chart-stages",
      "chart-ecl-stage",
      "chart-ecl-product",
      "chart-ecl-region",
      "chart-scenarios",
      "chart-pd",
      "chart-lgd",
      "chart-top",
      "chart-dq",
    ]
  ) {
    const at = html.indexOf(`id="${id}"`);
    assert.ok(at > 0, `${id} present`);
    assert.ok(html.indexOf("<svg", at) > at, `${id} has an SVG`);
  }
  assert.match(html, /BALANCE_NEGATIVE/);
  assert.match(html, /Run manifest/);
  assert.match(html, /a{64}/); // the portfolio hash
  // Self-contained: no script, no external reference.
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(html, /<link\b/i);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() says when the manifest is not written yet", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  await Deno.remove(`${dir}/manifest.json`);
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.match(html, /manifest is written when the run completes/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() names the folder and file when summary.json is missing", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  await assert.rejects(
    () => writeRunReport(root),
    (e: Error) =>
      e instanceof RunFolderReadError &&
      e.message.startsWith(`Cannot read run folder ${root}: summary.json:`),
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() shows the in-progress manifest the run passes", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  await Deno.remove(`${dir}/manifest.json`);
  const html = await Deno.readTextFile(
    await writeRunReport(dir, {
      manifest: { ...manifest, status: "running", finished_at: null },
    }),
  );
  assert.match(html, />running</);
  assert.match(html, /written while the run was finishing/);
  assert.match(html, /c{64}/); // the FX table's hash
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() refuses a currency without a rate and reports a folder without data_quality.json", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  await Deno.remove(`${dir}/data_quality.json`);
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.match(html, /This run folder has no data_quality\.json/);
  const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
  delete summary.fx.rates.USD;
  await Deno.writeTextFile(`${dir}/summary.json`, JSON.stringify(summary));
  await assert.rejects(
    () => writeRunReport(dir),
    /summary\.json: fx\.rates has no rate for USD/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("readRunFolder() reads a manifest written before run warnings existed as having none", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  delete manifest.warnings;
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
  const run = await readRunFolder(dir);
  assert.deepEqual(run.manifest?.warnings, []);
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.doesNotMatch(html, /Warning:/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() lists each overlay's adjustment and impact, the floor and their total, and warns about the floor", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    // Model ECL 40,000, 0 after a release of 60,000 and the floor's 20,000
    // back.
    loans: [
      {
        loan_id: "L1",
        currency: "EUR",
        stage: 1,
        ecl: 0,
        ecl_model: 40_000,
        gross: 1_000_000,
      },
    ],
  });
  const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
  summary.overlays = [{
    name: "release",
    reason: "recoveries expected",
    add: -60_000,
    facilities: 1,
    ecl_impact: -60_000,
    floored_facilities: 1,
  }];
  summary.overlay_floor = { facilities: 1, ecl_impact: 20_000 };
  await Deno.writeTextFile(`${dir}/summary.json`, JSON.stringify(summary));
  const html = await Deno.readTextFile(await writeRunReport(dir));
  const at = html.indexOf("Post-model adjustments, in the order applied");
  assert.ok(at > 0);
  const rows = [
    ...html.slice(at, html.indexOf("</table>", at))
      .matchAll(/<tr>(.*?)<\/tr>/g),
  ]
    .map((m) => [...m[1].matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1]))
    .filter((r) => r.length > 0);
  // In EUR thousands, the column headings say so.
  assert.match(html, /ECL impact \(EUR thousands\)/);
  assert.deepEqual(rows, [
    ["release", "recoveries expected", "− 60.0", "1", "-60.0"],
    [
      "Floor at 0",
      "no facility&#39;s ECL below 0 after the overlays",
      "",
      "1",
      "+20.0",
    ],
    ["Total", "ECL after overlays less model ECL", "", "", "-40.0"],
  ]);
  // The floor's warning beside the headline figures it changed.
  const headline = html.slice(
    html.indexOf('id="headline"'),
    html.indexOf('id="stages"'),
  );
  assert.match(
    headline,
    /Warning: Overlay release took the ECL of 1 facility below 0/,
  );
  await Deno.remove(root, { recursive: true });
});

/** Amounts to the cent in the text of a page (percentages excluded). */
function amountsToTheCent(html: string): string[] {
  const text = html.replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ");
  return text.match(/(?<![\d.])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%])/g) ?? [];
}

Deno.test("writeRunReport() shows every amount in thousands with the unit stated, none to the cent", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    // Cents everywhere: 10,000.37 of ECL on 1,000,000.55 drawn.
    loans: LOANS.map((l) => ({
      ...l,
      ecl: l.ecl + 0.37,
      gross: l.gross + 0.55,
    })),
  });
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.deepEqual(amountsToTheCent(html), []);
  assert.match(html, /amounts in EUR thousands/);
  for (
    const caption of [
      "By stage (EUR thousands)",
      "By product (EUR thousands)",
      "By region (EUR thousands)",
      "By segment (EUR thousands)",
    ]
  ) {
    assert.ok(html.includes(`<caption>${caption}</caption>`), caption);
  }
  // The charts' axes say the unit too.
  assert.match(html, /↑ ECL \(EUR thousands\)/);
  assert.match(html, /ECL \(EUR thousands\) →/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() says in a sentence that no validation rule failed instead of drawing an empty chart", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const path = `${dir}/data_quality.json`;
  const dq = JSON.parse(await Deno.readTextFile(path));
  dq.rules = dq.rules.map((r: object) => ({ ...r, rows_failed: 0 }));
  Object.assign(dq, { rows_read: 4, rows_rejected: 0, reject_rate: 0 });
  await Deno.writeTextFile(path, JSON.stringify(dq));
  const html = await Deno.readTextFile(await writeRunReport(dir));
  const section = html.slice(
    html.indexOf('id="data-quality"'),
    html.indexOf('id="manifest"'),
  );
  assert.match(
    section,
    /No validation rule failed: each of the 4 rows read passed all 2 rules\./,
  );
  assert.doesNotMatch(section, /<svg|id="chart-dq"/);
  await Deno.remove(root, { recursive: true });
});
