/**
 * The run report's comparison with the previous run of the same book:
 * which run is found beside the report's run folder (the latest complete
 * run of the same book at an earlier date, documented in
 * `lib/report/compare.ts`), which one is used when given, and the changes
 * the page shows, worked out by hand from the fixture's few facilities.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  bookName,
  ComparisonError,
  renderRunReport,
  writeRunReport,
} from "../../lib/report/mod.ts";
import pl from "nodejs-polars";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { generateBook } from "../../lib/generate/mod.ts";
import { main } from "../../tasks/run.ts";
import { type FixtureLoan, writeFixtureRun } from "./_run_fixture.ts";

const REFERENCE_RULES = new URL(
  "../../config/ifrs9_rules.yaml",
  import.meta.url,
).pathname;

/** 2025-09-30: stage 1 ECL 10,000 on 1,000,000; stage 2 50,000 on 500,000. */
const Q3: FixtureLoan[] = [
  { loan_id: "L1", currency: "EUR", stage: 1, ecl: 10_000, gross: 1_000_000 },
  { loan_id: "L2", currency: "EUR", stage: 2, ecl: 50_000, gross: 500_000 },
];

/**
 * 2025-12-31: stage 1 ECL 12,000 + 3,000 on 1,500,000; L2 credit-impaired,
 * stage 3 ECL 200,000 on 500,000; nothing in stage 2.
 */
const Q4: FixtureLoan[] = [
  { loan_id: "L1", currency: "EUR", stage: 1, ecl: 12_000, gross: 1_000_000 },
  { loan_id: "L2", currency: "EUR", stage: 3, ecl: 200_000, gross: 500_000 },
  { loan_id: "L3", currency: "EUR", stage: 1, ecl: 3_000, gross: 500_000 },
];

/** Writes a fixture run of `loans` at `date`, then patches its manifest. */
async function run(
  dir: string,
  date: string,
  loans: FixtureLoan[],
  manifest: Record<string, unknown> = {},
): Promise<string> {
  await writeFixtureRun(dir, {
    runId: dir.split("/").pop()!,
    reportingDate: date,
    rates: { EUR: 1 },
    loans,
  });
  const path = `${dir}/manifest.json`;
  const m = JSON.parse(await Deno.readTextFile(path));
  m.inputs.portfolio.path = `data/book_${date}.parquet`;
  await Deno.writeTextFile(path, JSON.stringify({ ...m, ...manifest }));
  return dir;
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

Deno.test("bookName() takes dates, extension and the separators around them out of the portfolio's file name", () => {
  assert.equal(
    bookName("data/sample/portfolio_2025-09-30.parquet"),
    "portfolio",
  );
  assert.equal(bookName("/in/portfolio_20251231.csv"), "portfolio");
  assert.equal(bookName("retail-2025_12_31-spain.arrow"), "retail-spain");
  assert.equal(bookName("portfolio.csv"), "portfolio");
  assert.notEqual(
    bookName("sme_2025-12-31.csv"),
    bookName("retail_2025-12-31.csv"),
  );
});

/** The manifest fields a comparison matches runs on. */
interface ManifestFields {
  inputs: { rules: { sha256: string }; portfolio: { path: string } };
  methodology_version?: number;
}

Deno.test("renderRunReport() compares with the latest complete earlier run of the same book beside the run, by stage", async () => {
  const root = await Deno.makeTempDir({ prefix: "compare_test_" });
  const runs = `${root}/runs`;
  await run(`${runs}/q2`, "2025-06-30", Q3);
  await run(`${runs}/q3`, "2025-09-30", Q3);
  // Not candidates: a failed run, another book, a later date, a folder
  // being written.
  await run(`${runs}/q3-retry.failed`, "2025-10-31", Q3, { status: "failed" });
  await run(`${runs}/other`, "2025-11-30", Q3);
  const other = JSON.parse(
    await Deno.readTextFile(`${runs}/other/manifest.json`),
  );
  other.inputs.portfolio.path = "data/other_2025-11-30.parquet";
  await Deno.writeTextFile(
    `${runs}/other/manifest.json`,
    JSON.stringify(other),
  );
  // Nor are runs of the same file name under other rules, under another
  // methodology version, or of a file in another folder: their change
  // would be a change of model or of book, not the period's.
  for (
    const [name, date, change] of [
      ["rules", "2025-11-01", (m: ManifestFields) => {
        m.inputs.rules.sha256 = "f".repeat(64);
      }],
      ["method", "2025-11-02", (m: ManifestFields) => {
        m.methodology_version = 3;
      }],
      ["folder", "2025-11-03", (m: ManifestFields) => {
        m.inputs.portfolio.path = `elsewhere/${m.inputs.portfolio.path}`;
      }],
    ] as const
  ) {
    await run(`${runs}/${name}`, date, Q3);
    const m = JSON.parse(
      await Deno.readTextFile(`${runs}/${name}/manifest.json`),
    );
    change(m);
    await Deno.writeTextFile(
      `${runs}/${name}/manifest.json`,
      JSON.stringify(m),
    );
  }
  await run(`${runs}/q1-2026`, "2026-03-31", Q3);
  await run(`${runs}/.q3b.partial-1-abc`, "2025-10-31", Q3);
  const dir = await run(`${runs}/q4`, "2025-12-31", Q4);

  const html = await renderRunReport(await readRunFolder(dir));
  assert.match(
    html,
    /Compared with run <strong>q3<\/strong> \(reporting date 2025-09-30/,
  );
  assert.match(html, /found beside this run/);
  assert.match(html, /<a href="#comparison">Since 2025-09-30<\/a>/);
  // ECL 60,000 -> 215,000 (+155,000, +258.33%); coverage 60,000 /
  // 1,500,000 = 4.00% -> 215,000 / 2,000,000 = 10.75%. Stage 1: 10,000 on
  // 1,000,000 -> 15,000 on 1,500,000, both 1.00%. Stage 2 empties (no
  // coverage at the closing date); stage 3 appears at 200,000 / 500,000 =
  // 40.00%. Amounts in EUR thousands.
  assert.deepEqual(
    tableRows(html, "ECL and coverage by stage (EUR thousands)"),
    [
      [
        "Stage 1",
        "10.0",
        "15.0",
        "+5.0",
        "+50.00%",
        "1.00%",
        "1.00%",
        "0.00 pp",
      ],
      ["Stage 2", "50.0", "0.0", "-50.0", "-100.00%", "10.00%", "–", "–"],
      ["Stage 3", "0.0", "200.0", "+200.0", "–", "–", "40.00%", "–"],
      [
        "Total",
        "60.0",
        "215.0",
        "+155.0",
        "+258.33%",
        "4.00%",
        "10.75%",
        "+6.75 pp",
      ],
    ],
  );
  // Facilities 1 and 1 -> 2, 0 and 1 of 3; EAD (the gross carrying
  // amount here) 1,000,000 and 500,000 of 1,500,000 -> 1,500,000, 0 and
  // 500,000 of 2,000,000.
  assert.deepEqual(
    tableRows(html, "Stage mix: facilities and share of facilities and of EAD"),
    [
      [
        "Stage 1",
        "1",
        "2",
        "50.00%",
        "66.67%",
        "+16.67 pp",
        "66.67%",
        "75.00%",
        "+8.33 pp",
      ],
      [
        "Stage 2",
        "1",
        "0",
        "50.00%",
        "0.00%",
        "-50.00 pp",
        "33.33%",
        "0.00%",
        "-33.33 pp",
      ],
      [
        "Stage 3",
        "0",
        "1",
        "0.00%",
        "33.33%",
        "+33.33 pp",
        "0.00%",
        "25.00%",
        "+25.00 pp",
      ],
      [
        "Total",
        "2",
        "3",
        "100.00%",
        "100.00%",
        "0.00 pp",
        "100.00%",
        "100.00%",
        "0.00 pp",
      ],
    ],
  );
  const card = (label: string) =>
    html.match(
      new RegExp(
        `card-label">${label}</div><div class="card-value[^>]*>([^<]*)<`,
      ),
    )?.[1];
  assert.equal(card("Change in ECL \\(EUR thousands\\)"), "+155.0");
  assert.equal(card("Change in coverage"), "+6.75 pp");
  // Stages 2 and 3: 33.33% of EAD -> 25.00%.
  assert.equal(card("Change in stage 2 and 3 share of EAD"), "-8.33 pp");
  await Deno.remove(root, { recursive: true });
});

Deno.test("renderRunReport() finds the previous run while the run is still being written, from the manifest it is given", async () => {
  const root = await Deno.makeTempDir({ prefix: "compare_test_" });
  await run(`${root}/q3`, "2025-09-30", Q3);
  const dir = await run(`${root}/.q4.partial-1-abc`, "2025-12-31", Q4);
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  await Deno.remove(`${dir}/manifest.json`);
  const folder = await readRunFolder(dir);
  assert.match(
    await renderRunReport(folder, {
      manifest: { ...manifest, status: "running" },
    }),
    /Compared with run <strong>q3<\/strong>/,
  );
  // Without a manifest, the book is unknown: the page says so.
  assert.match(
    await renderRunReport(folder),
    /no manifest\.json naming its portfolio, so no earlier run of the same book can be found/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("renderRunReport() says when there is no earlier run of the book, and compares with nothing when told not to", async () => {
  const root = await Deno.makeTempDir({ prefix: "compare_test_" });
  const dir = await run(`${root}/q4`, "2025-12-31", Q4);
  const html = await renderRunReport(await readRunFolder(dir));
  assert.match(
    html,
    /No complete run of the book book under the same rules file and methodology with a reporting date before 2025-12-31 beside this run folder/,
  );
  assert.doesNotMatch(html, /Compared with run/);
  await run(`${root}/q3`, "2025-09-30", Q3);
  const none = await renderRunReport(await readRunFolder(dir), {
    compare: false,
  });
  assert.doesNotMatch(none, /id="comparison"/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() compares with the run given, whatever its book, and refuses one of a later date or another currency", async () => {
  const root = await Deno.makeTempDir({ prefix: "compare_test_" });
  const given = await run(`${root}/elsewhere/q3`, "2025-09-30", Q3);
  const other = JSON.parse(await Deno.readTextFile(`${given}/manifest.json`));
  other.inputs.portfolio.path = "data/another_book.csv";
  await Deno.writeTextFile(`${given}/manifest.json`, JSON.stringify(other));
  await run(`${root}/runs/q2`, "2025-06-30", Q3);
  const dir = await run(`${root}/runs/q4`, "2025-12-31", Q4);
  const html = await Deno.readTextFile(
    await writeRunReport(dir, { compare: given }),
  );
  assert.match(html, /Compared with run <strong>q3<\/strong>/);
  assert.match(html, /given with the report \(--compare\)/);

  const later = await run(`${root}/runs/q1-2026`, "2026-03-31", Q3);
  await assert.rejects(
    () => writeRunReport(dir, { compare: later }),
    (e: Error) =>
      e instanceof ComparisonError &&
      e.message ===
        `Cannot compare run q4 with ${later}: its reporting date 2026-03-31 is not before this run's 2025-12-31`,
  );
  const summary = JSON.parse(await Deno.readTextFile(`${given}/summary.json`));
  summary.reporting_currency = "USD";
  await Deno.writeTextFile(`${given}/summary.json`, JSON.stringify(summary));
  await assert.rejects(
    () => writeRunReport(dir, { compare: given }),
    /Cannot compare run q4 with .*: it reports in USD, this run in EUR/,
  );
  await assert.rejects(
    () => writeRunReport(dir, { compare: `${root}/missing` }),
    /Cannot read run folder .*missing: summary\.json: file is missing/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("deno task run finds the previous run of the book in --out, and --compare RUN_DIR names another", async () => {
  const root = await Deno.makeTempDir({ prefix: "compare_test_" });
  const files = generateBook({
    loans: 200,
    seed: 5,
    reportingDate: "2025-09-30",
    periods: 2,
  }).map((book) => {
    const date = book.select(pl.col("reporting_date").cast(pl.Utf8))
      .getColumn("reporting_date").get(0) as string;
    const file = `${root}/book_${date}.parquet`;
    book.writeParquet(file);
    return file;
  });
  const quiet = ["--quiet", "--rules", REFERENCE_RULES];
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(
      await main([
        "--portfolio",
        files[0],
        "--out",
        `${root}/runs`,
        "--run-id",
        "q3",
        ...quiet,
      ]),
      0,
    );
    assert.equal(
      await main([
        "--portfolio",
        files[1],
        "--out",
        `${root}/runs`,
        "--run-id",
        "q4",
        ...quiet,
      ]),
      0,
    );
    assert.equal(
      await main([
        "--portfolio",
        files[1],
        "--out",
        `${root}/other`,
        "--run-id",
        "q4",
        "--compare",
        `${root}/runs/q3`,
        ...quiet,
      ]),
      0,
    );
  } finally {
    console.log = log;
  }
  const found = await Deno.readTextFile(`${root}/runs/q4/report.html`);
  assert.match(found, /Compared with run <strong>q3<\/strong>/);
  assert.match(found, /found beside this run/);
  const given = await Deno.readTextFile(`${root}/other/q4/report.html`);
  assert.match(given, /Compared with run <strong>q3<\/strong>/);
  assert.match(given, /given with the report \(--compare\)/);
  await Deno.remove(root, { recursive: true });
});
