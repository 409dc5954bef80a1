/**
 * The trend dashboard over three hand-made quarters: figures in thousands
 * with the unit stated, coverage ticks that cover every point, a legend
 * on every chart, coverage by product, the stage mix by count and by
 * amount, the allowance walk (from the summaries, or from a movement.json
 * beside the runs) and the data-quality trend, each worked out by hand.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  allowanceWalkSteps,
  coverageTrendChart,
  readMovements,
  readTrend,
  renderDashboard,
  writeDashboard,
} from "../../lib/report/mod.ts";
import {
  computeMovement,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { main } from "../../dashboards/build.ts";
import { type FixtureLoan, writeFixtureRun } from "./_run_fixture.ts";

const QUARTERS: [string, FixtureLoan[]][] = [
  // ECL 60,000 on 1,500,000: stage 1 1.00%, stage 2 10.00%, total 4.00%.
  ["2025-06-30", [
    { loan_id: "L1", currency: "EUR", stage: 1, ecl: 10_000, gross: 1_000_000 },
    {
      loan_id: "L2",
      currency: "EUR",
      stage: 2,
      ecl: 50_000,
      gross: 500_000,
      product: "mortgage",
    },
  ]],
  // ECL 215,000 on 2,000,000: stage 1 1.00%, stage 3 40.00%, total 10.75%.
  ["2025-09-30", [
    { loan_id: "L1", currency: "EUR", stage: 1, ecl: 12_000, gross: 1_000_000 },
    {
      loan_id: "L2",
      currency: "EUR",
      stage: 3,
      ecl: 200_000,
      gross: 500_000,
      product: "mortgage",
    },
    { loan_id: "L3", currency: "EUR", stage: 1, ecl: 3_000, gross: 500_000 },
  ]],
  // ECL 42,000 on 1,200,000: stage 1 0.50%, stage 2 5.00%, total 3.50%.
  ["2025-12-31", [
    { loan_id: "L1", currency: "EUR", stage: 2, ecl: 40_000, gross: 800_000 },
    { loan_id: "L3", currency: "EUR", stage: 1, ecl: 2_000, gross: 400_000 },
  ]],
];

/** The three quarters as run folders in `root/runs`, latest first. */
async function quarters(root: string): Promise<string[]> {
  const dirs = [];
  for (const [date, loans] of QUARTERS) {
    dirs.push(
      await writeFixtureRun(`${root}/runs/q-${date}`, {
        runId: `q-${date}`,
        reportingDate: date,
        rates: { EUR: 1 },
        loans,
      }),
    );
  }
  return dirs.reverse();
}

/** The labels of a Plot swatch legend inside `html` from `at` on. */
function legendAt(html: string, id: string): string[] {
  const at = html.indexOf(`id="${id}"`);
  assert.ok(at > 0, id);
  const figure = html.slice(at, html.indexOf("</figure>", at));
  return [
    ...figure.matchAll(
      /<span class="plot-[0-9a-z]+-swatch"><svg[^>]*>.*?<\/svg>([^<]*)<\/span>/g,
    ),
  ].map((m) => m[1]);
}

Deno.test("renderDashboard() shows amounts in thousands with the unit stated, never to the cent", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const html = renderDashboard(await readTrend(await quarters(root)));
  // Latest ECL 42,000; change from 60,000 is -18,000 (-30.00%).
  assert.match(
    html,
    /ECL: loss allowance \+ provision \(EUR thousands\)<\/div><div[^>]*>42\.0</,
  );
  assert.match(html, />-18\.0<\/div><div class="card-note">-30\.00%</);
  assert.match(
    html,
    /<caption>Per reporting date \(EUR thousands\)<\/caption>/,
  );
  // Coverage on the gross carrying amount: 42,000 / 1,200,000.
  assert.match(html, />3\.50%</);
  const text = html.replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ");
  const cents = text.match(/(?<![\d.])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%])/g);
  assert.equal(cents, null, `amounts to the cent: ${cents}`);
  await Deno.remove(root, { recursive: true });
});

Deno.test("coverageTrendChart() labels ticks below the lowest and above the highest coverage", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const points = await readTrend(await quarters(root));
  const svg = coverageTrendChart(points).html;
  // The tick values, drawn as a text mark (see logLines).
  const at = svg.indexOf('class="y-tick-value"');
  const ticks = [
    ...svg.slice(at, svg.indexOf("</g>", at)).matchAll(/>([\d.]+)%</g),
  ].map((m) => Number(m[1]) / 100);
  // Lowest point: stage 1 at 2025-12-31, 2,000 / 400,000 = 0.5%; highest:
  // stage 3 at 2025-09-30, 200,000 / 500,000 = 40%.
  assert.ok(Math.min(...ticks) <= 0.005, `${ticks}`);
  assert.ok(Math.max(...ticks) >= 0.4, `${ticks}`);
  // Every tick carries its label: with d3's "~%" format a log axis left
  // the 0.5%, 5% and 50% ticks blank. From 0.5% to 50% in 1-2-5 steps.
  const labels = [
    ...svg.slice(at, svg.indexOf("</g>", at)).matchAll(
      /<text[^>]*>([^<]*)<\/text>|<text[^>]*\/>/g,
    ),
  ].map((m) => m[1] ?? "");
  assert.deepEqual(labels, [
    "0.5%",
    "1%",
    "2%",
    "5%",
    "10%",
    "20%",
    "50%",
  ]);
  // The time axis ticks exactly the three reporting dates.
  assert.deepEqual(
    [...svg.matchAll(/<text[^>]*>(\d{4}-\d{2}-\d{2})<\/text>/g)].map((m) =>
      m[1]
    ),
    QUARTERS.map(([date]) => date),
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("renderDashboard() draws seven charts, each with its legend", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const html = renderDashboard(await readTrend(await quarters(root)));
  const stages = ["Stage 1", "Stage 2", "Stage 3"];
  assert.deepEqual(legendAt(html, "chart-allowance"), stages);
  assert.deepEqual(legendAt(html, "chart-mix-amount"), stages);
  assert.deepEqual(legendAt(html, "chart-mix-count"), stages);
  assert.deepEqual(legendAt(html, "chart-coverage"), [...stages, "Total"]);
  assert.deepEqual(legendAt(html, "chart-coverage-product"), [
    "mortgage",
    "sme",
  ]);
  assert.deepEqual(legendAt(html, "chart-walk"), [
    "Allowance at the reporting date",
    "Increase: charge",
    "Decrease: release or use",
  ]);
  assert.deepEqual(legendAt(html, "chart-dq-trend"), [
    "Rows rejected",
    "Limit (max_reject_rate)",
  ]);
  // Stage mix by count: 1 of 2 facilities in stage 1 at 2025-06-30.
  const mix = html.slice(html.indexOf('id="chart-mix-count"'));
  assert.match(mix.slice(0, mix.indexOf("</figure>")), />50\.00%</);
  // The fixture's data_quality.json rejects 1 row of 3, 4 and 3.
  const dq = html.slice(html.indexOf('id="chart-dq-trend"'));
  assert.deepEqual(
    [
      ...dq.slice(0, dq.indexOf("</figure>"))
        .matchAll(/>(\d+ \([\d.]+%\))</g),
    ].map((m) => m[1]),
    ["1 (33.33%)", "1 (25.00%)", "1 (33.33%)"],
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("the allowance walk steps from date to date by stage from the summaries", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const points = await readTrend(await quarters(root));
  const steps = allowanceWalkSteps(points).map((s) => [s.label, s.y1, s.y2]);
  assert.deepEqual(steps, [
    ["2025-06-30", 0, 60_000],
    // Stage 1 10,000 -> 15,000; stage 2 50,000 -> 0; stage 3 0 -> 200,000.
    ["Δ stage 1", 60_000, 65_000],
    ["Δ stage 2", 65_000, 15_000],
    ["Δ stage 3", 15_000, 215_000],
    ["2025-09-30", 0, 215_000],
    // Stage 1 15,000 -> 2,000; stage 2 0 -> 40,000; stage 3 200,000 -> 0.
    ["Δ stage 1", 215_000, 202_000],
    ["Δ stage 2", 202_000, 242_000],
    ["Δ stage 3", 242_000, 42_000],
    ["2025-12-31", 0, 42_000],
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeDashboard() walks a period with the lines of the movement.json found beside the runs", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const runs = await quarters(root);
  const [q3, q2] = [runs[0], runs[1]];
  const { movement, facilities } = await computeMovement(
    await readRunFolder(q2),
    await readRunFolder(q3),
  );
  await writeMovementOutputs(movement, facilities, `${root}/runs/movement-q4`);
  const points = await readTrend(runs);
  const movements = await readMovements(points);
  assert.equal(movements.length, 1);
  const steps = allowanceWalkSteps(points, movements);
  // The second period's bars are the movement's lines but the opening and
  // closing balances and the transfers, and they end at the closing ECL.
  const second = steps.slice(steps.findIndex((s) => s.label === "2025-09-30"));
  const lines = movement.allowance.lines.filter((l) =>
    !["opening", "closing"].includes(l.key) && !l.key.startsWith("transfer_")
  );
  assert.equal(second.length, lines.length + 2);
  assert.ok(Math.abs(second.at(-2)!.y2 - 42_000) < 1e-6);
  assert.deepEqual(second.at(-1), {
    key: "2025-12-31",
    label: "2025-12-31",
    y1: 0,
    y2: 42_000,
    amount: 42_000,
    kind: "balance",
  });
  const html = await Deno.readTextFile(
    await writeDashboard(runs, `${root}/dashboard.html`),
  );
  assert.match(
    html,
    /1 of 2 periods walked with the lines of its movement\.json/,
  );
  // A movement given that joins no two consecutive runs is refused.
  const { movement: skip, facilities: f } = await computeMovement(
    await readRunFolder(runs[2]),
    await readRunFolder(q3),
  );
  await writeMovementOutputs(skip, f, `${root}/skip`);
  await assert.rejects(
    () => readMovements(points, [`${root}/skip`]),
    /Cannot use movement .*skip: it goes from run q-2025-06-30 \(2025-06-30\) to q-2025-12-31 \(2025-12-31\), not between two consecutive runs/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("renderDashboard() says in a sentence that no row was rejected instead of drawing an empty chart", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const runs = await quarters(root);
  for (const dir of runs) {
    const path = `${dir}/data_quality.json`;
    const dq = JSON.parse(await Deno.readTextFile(path));
    dq.rows_rejected = 0;
    dq.reject_rate = 0;
    await Deno.writeTextFile(path, JSON.stringify(dq));
  }
  const html = renderDashboard(await readTrend(runs));
  const dq = html.slice(html.indexOf('id="chart-dq-trend"'));
  assert.match(
    dq.slice(0, dq.indexOf("</figure>")),
    /No row was rejected at any of the 3 reporting dates/,
  );
  assert.doesNotMatch(dq.slice(0, dq.indexOf("</figure>")), /<svg/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("dashboards/build.ts --movement names a movement folder kept away from the runs", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const runs = await quarters(root);
  const { movement, facilities } = await computeMovement(
    await readRunFolder(runs[2]),
    await readRunFolder(runs[1]),
  );
  await writeMovementOutputs(movement, facilities, `${root}/movements/q3`);
  const out = `${root}/dashboard.html`;
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(
      await main([
        "--runs",
        ...runs,
        "--out",
        out,
        "--movement",
        `${root}/movements/q3`,
      ]),
      0,
    );
  } finally {
    console.log = log;
  }
  assert.match(
    await Deno.readTextFile(out),
    /1 of 2 periods walked with the lines of its movement\.json/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("readMovements() passes over plain files beside the runs without a warning, and warns about an unreadable movement.json", async () => {
  const root = await Deno.makeTempDir();
  try {
    const loans: FixtureLoan[] = [
      { loan_id: "A", currency: "EUR", stage: 1, ecl: 4, gross: 400 },
    ];
    for (const [id, date] of [["r1", "2025-09-30"], ["r2", "2025-12-31"]]) {
      await writeFixtureRun(`${root}/${id}`, {
        runId: id,
        reportingDate: date,
        rates: { EUR: 1 },
        loans,
      });
    }
    await Deno.writeTextFile(`${root}/book.csv`, "loan_id\n");
    await Deno.mkdir(`${root}/movement-q4`);
    await Deno.writeTextFile(`${root}/movement-q4/movement.json`, "{broken");
    const warnings: string[] = [];
    const points = await readTrend([`${root}/r1`, `${root}/r2`]);
    assert.deepEqual(
      await readMovements(points, [], (w) => warnings.push(w)),
      [],
    );
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      new RegExp(
        `^skipped ${root}/movement-q4: .*movement\\.json: not valid JSON`,
      ),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
