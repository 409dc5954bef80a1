/**
 * `movement.html` as a finance reader reads it: the migration matrix with
 * thousands separators and each cell's share of its row, amounts in
 * thousands with the unit stated (none to the cent), and a legend on the
 * waterfalls and the heat map. Built from two hand-made runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  computeMovement,
  type MigrationCell,
  renderMovementHtml,
} from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { writeFixtureRun } from "./_run_fixture.ts";

/** A movement between two small runs, amounts with cents. */
async function movement(root: string) {
  const from = await writeFixtureRun(`${root}/q3`, {
    runId: "q3",
    reportingDate: "2025-09-30",
    rates: { EUR: 1 },
    loans: [
      {
        loan_id: "L1",
        currency: "EUR",
        stage: 1,
        ecl: 10_000.37,
        gross: 1_000_000.55,
      },
      {
        loan_id: "L2",
        currency: "EUR",
        stage: 2,
        ecl: 50_000.11,
        gross: 500_000.25,
      },
    ],
  });
  const to = await writeFixtureRun(`${root}/q4`, {
    runId: "q4",
    reportingDate: "2025-12-31",
    rates: { EUR: 1 },
    loans: [
      {
        loan_id: "L1",
        currency: "EUR",
        stage: 2,
        ecl: 30_000.19,
        gross: 900_000.35,
      },
      {
        loan_id: "L3",
        currency: "EUR",
        stage: 1,
        ecl: 2_000.03,
        gross: 400_000.45,
      },
    ],
  });
  return (await computeMovement(
    await readRunFolder(from),
    await readRunFolder(to),
  )).movement;
}

/** The cells of each row of the table with `caption`, footer included. */
function tableRows(html: string, caption: string): string[][] {
  const at = html.indexOf(`<caption>${caption}</caption>`);
  assert.ok(at > 0, `table ${caption}`);
  return [
    ...html.slice(at, html.indexOf("</table>", at))
      .matchAll(/<tr>(.*?)<\/tr>/g),
  ]
    .map((m) => [...m[1].matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1]))
    .filter((r) => r.length > 0);
}

Deno.test("the migration matrix shows counts with separators and each cell's share of its row", async () => {
  const root = await Deno.makeTempDir({ prefix: "movement_page_test_" });
  const m = await movement(root);
  const cell = (
    from: MigrationCell["from"],
    to: MigrationCell["to"],
    count: number,
  ): MigrationCell => ({
    from,
    to,
    count,
    gross_opening: count * 1_000,
    gross_closing: count * 1_000,
  });
  m.migration = [
    cell("1", "1", 12_345),
    cell("1", "2", 655),
    cell("2", "2", 1_200),
    cell("new", "1", 45),
  ];
  const html = renderMovementHtml(m);
  // Stage 1: 12,345 and 655 of 13,000 (94.96%, 5.04%); stage 2: 1,200 of
  // 1,200; new: 45. Closing: 12,390 of 14,245 in stage 1 (86.98%), 1,855 in
  // stage 2 (13.02%).
  assert.deepEqual(
    tableRows(
      html,
      "Facilities by opening and closing state (share of the opening state&#39;s facilities)",
    ),
    [
      ["Stage 1", "12,345 (94.96%)", "655 (5.04%)", "", "", "", "13,000"],
      ["Stage 2", "", "1,200 (100.00%)", "", "", "", "1,200"],
      ["Stage 3", "", "", "", "", "", "0"],
      ["New", "45 (100.00%)", "", "", "", "", "45"],
      ["Total", "12,390 (86.98%)", "1,855 (13.02%)", "", "", "", "14,245"],
    ],
  );
  // The heat map's cells: count and share, then the gross carrying amount
  // in EUR thousands (12,345 × 1,000 = 12,345.0 thousand).
  const heat = html.slice(html.indexOf('id="chart-migration"'));
  assert.match(
    heat,
    /<tspan[^>]*>12,345 · 94\.96%<\/tspan><tspan[^>]*>12,345\.0<\/tspan>/,
  );
  assert.match(heat, /share of the opening state/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("movement.html shows amounts in thousands with the unit stated, none to the cent, and legends on its charts", async () => {
  const root = await Deno.makeTempDir({ prefix: "movement_page_test_" });
  const m = await movement(root);
  const html = renderMovementHtml(m);
  const text = html.replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ");
  // The invariants' differences are in scientific notation (1.23e-10):
  // they say how far from zero, not an amount.
  const cents = text.match(/(?<![\d.])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%e])/g);
  assert.equal(cents, null, `amounts to the cent: ${cents}`);
  assert.match(
    html,
    /<caption>ECL: loss allowance and provision \(EUR thousands\), IFRS 7 §35H<\/caption>/,
  );
  // Opening 60,000.48, closing 32,000.22 (EUR thousands, one decimal).
  assert.match(
    html,
    /Opening ECL \(EUR thousands\)<\/div><div[^>]*>60\.0</,
  );
  assert.match(
    html,
    /Closing ECL \(EUR thousands\)<\/div><div[^>]*>32\.0</,
  );
  const total = html.slice(html.indexOf('id="chart-waterfall-total"'));
  const legend = [
    ...total.slice(0, total.indexOf("</figure>"))
      .matchAll(
        /<span class="plot-[0-9a-z]+-swatch"><svg[^>]*>.*?<\/svg>([^<]*)<\/span>/g,
      ),
  ].map((x) => x[1]);
  // The total has no transfers (they net to zero), so no grey in its legend.
  assert.deepEqual(legend, [
    "Opening / closing",
    "Increase: charge",
    "Decrease: release or use",
  ]);
  await Deno.remove(root, { recursive: true });
});
