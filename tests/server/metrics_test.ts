/**
 * Tests of the server's metrics (lib/server/metrics.ts): records fed
 * through observeRequest / observeJob / setQueueDepth, the rendered
 * Prometheus text checked line by line against figures worked out by hand
 * below, and the whole scrape (default process metrics included) linted by
 * `promtool check metrics`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServerMetrics, runBook } from "../../lib/server/metrics.ts";
import { projectPath } from "../../lib/project.ts";
import type { JobRecord, ServerMetrics } from "../../lib/server/types.ts";
import type { Summary } from "../../lib/run_folder/mod.ts";
import { promtoolCheckMetrics } from "./_promtool.ts";

/** A summary with the fields the metrics read; the rest empty. */
function summary(
  runId: string,
  stages: { ecl: number; ead: number }[],
): Summary {
  const byStage = stages.map((s, i) => ({
    key: String(i + 1),
    count: 1,
    gross_carrying_amount: s.ead,
    ead: s.ead,
    ecl: s.ecl,
    loss_allowance: s.ecl,
    provision: 0,
    coverage: s.ecl / s.ead,
  }));
  const ecl = stages.reduce((a, s) => a + s.ecl, 0);
  const ead = stages.reduce((a, s) => a + s.ead, 0);
  return {
    run_id: runId,
    reporting_date: "2025-12-31",
    reporting_currency: "EUR",
    simplified_products: [],
    fx: {
      file: "fx.yaml",
      sha256: "0",
      base: "EUR",
      as_of: "2025-12-31",
      rates: {},
    },
    scenarios: [],
    totals: {
      count: 0, // overwritten by run()
      gross_carrying_amount: ead,
      ead,
      ecl_model: ecl,
      ecl,
      loss_allowance: ecl,
      provision: 0,
      coverage: ecl / ead,
    },
    by_stage: byStage,
    by_product: [],
    by_segment: [],
    by_region: [],
    by_currency: [],
    overlays: [],
    overlay_floor: { facilities: 0, ecl_impact: 0 },
  };
}

/** A run's record. */
function run(
  id: string,
  status: JobRecord["status"],
  startedAt: string | null,
  finishedAt: string | null,
  extra: Partial<JobRecord> = {},
): JobRecord {
  return {
    id,
    kind: "run",
    status,
    request: {
      portfolio: "data/book.parquet",
      rules: "config/r.yaml",
      runId: id,
    },
    submittedAt: startedAt ?? "2026-01-05T09:00:00.000Z",
    startedAt,
    finishedAt,
    step: null,
    steps: [],
    progress: null,
    counts: null,
    summary: null,
    dir: null,
    error: null,
    ...extra,
  };
}

function withCount(s: Summary, count: number): Summary {
  return { ...s, totals: { ...s.totals, count } };
}

// The story, by hand:
// A succeeded 10:00:00 -> 10:00:42 (42 s): 1000 read, 980 valid, 20 rejected
//   (limit 0.05); ECL 100 + 250 + 650 = 1000; EAD 10000, 2000, 900.
// B succeeded 11:00:00 -> 11:02:30 (150 s): 2000 read, 1990 valid, 10
//   rejected; ECL 200 + 300 + 750 = 1250; EAD 12000, 3000, 1000.
// C failed 12:00:00 -> 12:00:03.5 (3.5 s): 200 read, 180 valid, 20 rejected
//   (0.1 against 0.05), no summary.
// M, a movement, succeeded. D interrupted 13:00 -> 13:05 (no duration).
// E running since 14:00:00; the clock reads 14:10:00 (600 s).
const A = run(
  "book-a",
  "succeeded",
  "2026-01-05T10:00:00.000Z",
  "2026-01-05T10:00:42.000Z",
  {
    counts: {
      rowsRead: 1000,
      rowsValid: 980,
      rowsRejected: 20,
      maxRejectRate: 0.05,
    },
    summary: withCount(
      summary("book-a", [{ ecl: 100, ead: 10000 }, { ecl: 250, ead: 2000 }, {
        ecl: 650,
        ead: 900,
      }]),
      980,
    ),
  },
);
const B = run(
  "book-b",
  "succeeded",
  "2026-01-05T11:00:00.000Z",
  "2026-01-05T11:02:30.000Z",
  {
    counts: {
      rowsRead: 2000,
      rowsValid: 1990,
      rowsRejected: 10,
      maxRejectRate: 0.05,
    },
    summary: withCount(
      summary("book-b", [{ ecl: 200, ead: 12000 }, { ecl: 300, ead: 3000 }, {
        ecl: 750,
        ead: 1000,
      }]),
      1990,
    ),
  },
);
const C = run(
  "book-c",
  "failed",
  "2026-01-05T12:00:00.000Z",
  "2026-01-05T12:00:03.500Z",
  {
    counts: {
      rowsRead: 200,
      rowsValid: 180,
      rowsRejected: 20,
      maxRejectRate: 0.05,
    },
    error: { kind: "check", message: "10.0% of rows rejected" },
  },
);
const M: JobRecord = {
  ...run(
    "mv-1",
    "succeeded",
    "2026-01-05T12:30:00.000Z",
    "2026-01-05T12:30:01.000Z",
  ),
  kind: "movement",
  request: {
    from: "data/runs/book-a",
    to: "data/runs/book-b",
    movementId: "mv-1",
  },
};
const D = run(
  "book-d",
  "interrupted",
  "2026-01-05T13:00:00.000Z",
  "2026-01-05T13:05:00.000Z",
);
const E = run("book-e", "running", "2026-01-05T14:00:00.000Z", null);
const NOW = Date.parse("2026-01-05T14:10:00.000Z");

/** The `ifrs9_` sample lines of a render. */
async function samples(metrics: ServerMetrics): Promise<string[]> {
  const { body } = await metrics.render();
  return body.split("\n").filter((l) => l.startsWith("ifrs9_"));
}

/** The sample lines of one metric family (histogram series included). */
function family(lines: string[], name: string): string[] {
  return lines.filter((l) =>
    l.startsWith(`${name} `) || l.startsWith(`${name}{`)
  );
}

function feed(metrics: ServerMetrics, records: JobRecord[]) {
  for (const r of records) metrics.observeJob(r);
}

Deno.test("observeRequest() counts by route, method and status and times by route and method", async () => {
  const metrics = createServerMetrics({ defaultMetrics: false });
  // Powers of two, so the sum is exact: 2^-10 + 2^-9 = 0.0029296875.
  metrics.observeRequest("/healthz", "GET", 200, 0.0009765625);
  metrics.observeRequest("/healthz", "GET", 200, 0.001953125);
  metrics.observeRequest("/runs/:id", "GET", 404, 0.5);
  const lines = await samples(metrics);
  assert.deepEqual(family(lines, "ifrs9_http_requests_total"), [
    'ifrs9_http_requests_total{route="/healthz",method="GET",status="200"} 2',
    'ifrs9_http_requests_total{route="/runs/:id",method="GET",status="404"} 1',
  ]);
  const hist = (
    route: string,
    counts: number[],
    sum: string,
    count: number,
  ) => [
    ...[
      "0.001",
      "0.0025",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "5",
      "10",
      "+Inf",
    ]
      .map((le, i) =>
        `ifrs9_http_request_duration_seconds_bucket{le="${le}",route="${route}",method="GET"} ${
          counts[i]
        }`
      ),
    `ifrs9_http_request_duration_seconds_sum{route="${route}",method="GET"} ${sum}`,
    `ifrs9_http_request_duration_seconds_count{route="${route}",method="GET"} ${count}`,
  ];
  assert.deepEqual(
    family(lines, "ifrs9_http_request_duration_seconds_bucket").length,
    28,
  );
  assert.deepEqual(
    lines.filter((l) => l.startsWith("ifrs9_http_request_duration_seconds")),
    [
      // 2^-10 <= 0.001; 2^-9 <= 0.0025.
      ...hist(
        "/healthz",
        [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
        "0.0029296875",
        2,
      ),
      // 0.5 falls in le="0.5" (buckets are inclusive).
      ...hist(
        "/runs/:id",
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
        "0.5",
        1,
      ),
    ],
  );
});

Deno.test("observeJob() counts each final job once and keeps the last run's figures", async () => {
  const metrics = createServerMetrics({
    defaultMetrics: false,
    now: () => NOW,
  });
  // C is seen running first, then final; A and B arrive twice (a repeated
  // update must not count twice).
  feed(metrics, [
    run("book-a", "queued", null, null),
    { ...A, status: "running", finishedAt: null, summary: null },
    A,
    A,
    B,
    { ...C, status: "running", finishedAt: null },
    C,
    M,
    D,
    E,
    B,
  ]);
  metrics.setQueueDepth({ queued: 3, running: 1 });
  const lines = await samples(metrics);
  const f = (name: string) => family(lines, name);

  assert.deepEqual(f("ifrs9_jobs_total"), [
    'ifrs9_jobs_total{kind="run",status="succeeded"} 2',
    'ifrs9_jobs_total{kind="run",status="failed"} 1',
    'ifrs9_jobs_total{kind="run",status="interrupted"} 1',
    'ifrs9_jobs_total{kind="movement",status="succeeded"} 1',
    'ifrs9_jobs_total{kind="movement",status="failed"} 0',
    'ifrs9_jobs_total{kind="movement",status="interrupted"} 0',
  ]);
  const les = [
    "1",
    "5",
    "15",
    "30",
    "60",
    "120",
    "300",
    "600",
    "900",
    "1800",
    "3600",
    "+Inf",
  ];
  assert.deepEqual(
    lines.filter((l) => l.startsWith("ifrs9_run_duration_seconds")),
    [
      // 42 s and 150 s: both above 30, 42 <= 60, 150 <= 300.
      ...les.map((le, i) =>
        `ifrs9_run_duration_seconds_bucket{le="${le}",status="succeeded"} ${
          [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2][i]
        }`
      ),
      'ifrs9_run_duration_seconds_sum{status="succeeded"} 192',
      'ifrs9_run_duration_seconds_count{status="succeeded"} 2',
      // 3.5 s: in le="5" and above.
      ...les.map((le, i) =>
        `ifrs9_run_duration_seconds_bucket{le="${le}",status="failed"} ${
          i === 0 ? 0 : 1
        }`
      ),
      'ifrs9_run_duration_seconds_sum{status="failed"} 3.5',
      'ifrs9_run_duration_seconds_count{status="failed"} 1',
    ],
  );
  // 980 + 1990 loans computed; 20 + 10 + 20 rows rejected.
  assert.deepEqual(f("ifrs9_loans_processed_total"), [
    "ifrs9_loans_processed_total 2970",
  ]);
  assert.deepEqual(f("ifrs9_rows_rejected_total"), [
    "ifrs9_rows_rejected_total 50",
  ]);
  // B is the last succeeded run.
  assert.deepEqual(f("ifrs9_last_run_ecl"), [
    'ifrs9_last_run_ecl{stage="1"} 200',
    'ifrs9_last_run_ecl{stage="2"} 300',
    'ifrs9_last_run_ecl{stage="3"} 750',
  ]);
  assert.deepEqual(f("ifrs9_last_run_ead"), [
    'ifrs9_last_run_ead{stage="1"} 12000',
    'ifrs9_last_run_ead{stage="2"} 3000',
    'ifrs9_last_run_ead{stage="3"} 1000',
  ]);
  assert.deepEqual(f("ifrs9_last_run_info"), [
    'ifrs9_last_run_info{run_id="book-b",reporting_date="2025-12-31",currency="EUR"} 1',
  ]);
  // 2026-01-05T11:02:30Z: 1767225600 (2026-01-01) + 4 days (345600)
  // + 11 h 2 min 30 s (39750).
  assert.deepEqual(f("ifrs9_last_run_timestamp_seconds"), [
    "ifrs9_last_run_timestamp_seconds 1767610950",
  ]);
  // A and B are runs of the same book (data/book.parquet):
  // (1250 - 1000) / 1000.
  assert.deepEqual(f("ifrs9_last_run_allowance_change_ratio"), [
    'ifrs9_last_run_allowance_change_ratio{book="data/book"} 0.25',
  ]);
  // C validated last: 20 / 200 against its limit 0.05.
  assert.deepEqual(f("ifrs9_last_run_reject_rate"), [
    "ifrs9_last_run_reject_rate 0.1",
  ]);
  assert.deepEqual(f("ifrs9_last_run_max_reject_rate"), [
    "ifrs9_last_run_max_reject_rate 0.05",
  ]);
  // C finished last among runs with a duration (D was interrupted).
  assert.deepEqual(f("ifrs9_last_run_duration_seconds"), [
    "ifrs9_last_run_duration_seconds 3.5",
  ]);
  // E: 14:00:00 to the clock's 14:10:00.
  assert.deepEqual(f("ifrs9_longest_running_run_seconds"), [
    "ifrs9_longest_running_run_seconds 600",
  ]);
  assert.deepEqual(f("ifrs9_jobs_queued"), ["ifrs9_jobs_queued 3"]);
  assert.deepEqual(f("ifrs9_jobs_running"), ["ifrs9_jobs_running 1"]);

  // E finishes: nothing runs any more.
  metrics.observeJob({
    ...E,
    status: "failed",
    finishedAt: "2026-01-05T14:09:00.000Z",
  });
  assert.deepEqual(
    family(await samples(metrics), "ifrs9_longest_running_run_seconds"),
    [
      "ifrs9_longest_running_run_seconds 0",
    ],
  );
});

Deno.test("observeJob() gives the same figures whatever order the records arrive in", async () => {
  const forward = createServerMetrics({
    defaultMetrics: false,
    now: () => NOW,
  });
  const backward = createServerMetrics({
    defaultMetrics: false,
    now: () => NOW,
  });
  feed(forward, [A, B, C, M, D]);
  // A registry replayed newest first after a restart.
  feed(backward, [D, M, C, B, A]);
  // Series appear in the order first seen; their values must agree.
  assert.deepEqual(
    (await samples(backward)).sort(),
    (await samples(forward)).sort(),
  );
  assert.ok(
    (await samples(backward)).includes(
      'ifrs9_last_run_allowance_change_ratio{book="data/book"} 0.25',
    ),
  );
});

Deno.test("observeJob(): a fall in the allowance is negative; from nothing there is no ratio; no limit, no reject rate", async () => {
  const metrics = createServerMetrics({ defaultMetrics: false });
  const at = (h: number) =>
    `2026-01-05T${String(h).padStart(2, "0")}:00:00.000Z`;
  const ok = (id: string, h: number, ecl: number) =>
    run(id, "succeeded", at(h), at(h + 1), {
      summary: withCount(summary(id, [{ ecl, ead: 1000 }]), 10),
    });
  const change = async () =>
    family(await samples(metrics), "ifrs9_last_run_allowance_change_ratio");
  metrics.observeJob(ok("r1", 1, 800));
  // One run only: no change to report yet, so no series (not a 0 that
  // reads as "no change").
  assert.deepEqual(await change(), []);
  metrics.observeJob(ok("r2", 3, 200));
  // (200 - 800) / 800.
  assert.deepEqual(await change(), [
    'ifrs9_last_run_allowance_change_ratio{book="data/book"} -0.75',
  ]);
  // From an ECL of 0: no ratio (not +Inf), so no alert on nothing.
  metrics.observeJob(ok("r3", 5, 0));
  assert.deepEqual(await change(), [
    'ifrs9_last_run_allowance_change_ratio{book="data/book"} -1',
  ]);
  metrics.observeJob(ok("r4", 7, 50));
  assert.deepEqual(await change(), []);
  const { body } = await metrics.render();
  // No sample anywhere is infinite or not a number.
  assert.doesNotMatch(body, /^ifrs9_\S+ (?:[+-]?Inf|NaN)$/m);
  // A run whose counts lack the limit leaves the reject gauges alone
  // rather than compare its rate with 0.
  metrics.observeJob(
    run("r5", "failed", at(9), at(10), {
      counts: { rowsRead: 10, rowsValid: 5, rowsRejected: 5 },
    }),
  );
  const lines = await samples(metrics);
  assert.ok(lines.includes("ifrs9_last_run_reject_rate 0"));
  assert.ok(lines.includes("ifrs9_last_run_max_reject_rate 0"));
  assert.ok(lines.includes("ifrs9_rows_rejected_total 5"));
});

Deno.test("observeJob(): the allowance change compares a run with the previous run of its own book, never with another book's", async () => {
  // By hand: the production book data/prod/portfolio runs at Q3 (ECL
  // 1000) and Q4 (ECL 1100); a sample run (ECL 5) finishes between them.
  // The sample has no earlier run of its book: no ratio (before, its
  // (5 - 1000) / 1000 = -99.5% fired the alert). The Q4 run compares with
  // Q3, not with the sample: (1100 - 1000) / 1000 = 0.1 (not 219).
  const book = (id: string, h: number, portfolio: string, ecl: number) =>
    run(
      id,
      "succeeded",
      `2026-01-05T${String(h).padStart(2, "0")}:00:00.000Z`,
      `2026-01-05T${String(h).padStart(2, "0")}:30:00.000Z`,
      {
        request: { portfolio, rules: "/config/r.yaml", runId: id },
        summary: withCount(summary(id, [{ ecl, ead: 10_000 }]), 10),
      },
    );
  const q3 = book("q3", 1, "/srv/prod/portfolio_2025-09-30.parquet", 1000);
  const sample = book(
    "sample",
    2,
    "/srv/sample/portfolio_2025-12-31.parquet",
    5,
  );
  const q4 = book("q4", 3, "/srv/prod/portfolio_2025-12-31.parquet", 1100);
  const change = async (m: ServerMetrics) =>
    family(await samples(m), "ifrs9_last_run_allowance_change_ratio");

  const metrics = createServerMetrics({ defaultMetrics: false });
  metrics.observeJob(q3);
  assert.deepEqual(await change(metrics), []);
  metrics.observeJob(sample);
  assert.deepEqual(await change(metrics), []);
  // The last-run gauges still follow the sample: it finished last.
  assert.deepEqual(
    family(await samples(metrics), "ifrs9_last_run_ecl"),
    ['ifrs9_last_run_ecl{stage="1"} 5'],
  );
  metrics.observeJob(q4);
  assert.deepEqual(await change(metrics), [
    'ifrs9_last_run_allowance_change_ratio{book="/srv/prod/portfolio"} 0.1',
  ]);
  // Another sample run: the sample book against its own previous run,
  // (6 - 5) / 5, one series only.
  metrics.observeJob(
    book("sample2", 4, "/srv/sample/portfolio_2026-03-31.parquet", 6),
  );
  assert.deepEqual(await change(metrics), [
    'ifrs9_last_run_allowance_change_ratio{book="/srv/sample/portfolio"} 0.2',
  ]);

  // Replayed newest first (a restart): the same figure.
  const replayed = createServerMetrics({ defaultMetrics: false });
  feed(replayed, [q4, sample, q3]);
  assert.deepEqual(await change(replayed), [
    'ifrs9_last_run_allowance_change_ratio{book="/srv/prod/portfolio"} 0.1',
  ]);
});

Deno.test("runBook(): the portfolio's folder and its name without dates", () => {
  assert.equal(
    runBook("/srv/prod/portfolio_2025-09-30.parquet"),
    runBook("/srv/prod/portfolio_2025-12-31.parquet"),
  );
  assert.notEqual(
    runBook("/srv/prod/portfolio_2025-12-31.parquet"),
    runBook("/srv/sample/portfolio_2025-12-31.parquet"),
  );
  assert.notEqual(
    runBook("/srv/prod/sme_2025-12-31.parquet"),
    runBook("/srv/prod/retail_2025-12-31.parquet"),
  );
  assert.equal(
    runBook(projectPath("data/sample/portfolio_2025-12-31.parquet")),
    "data/sample/portfolio",
  );
  assert.equal(runBook("/in/retail-20250930-spain.csv"), "/in/retail-spain");
});

Deno.test("each createServerMetrics() has its own registry", async () => {
  const a = createServerMetrics({ defaultMetrics: false });
  const b = createServerMetrics({ defaultMetrics: false });
  a.observeRequest("/healthz", "GET", 200, 0.01);
  assert.equal(family(await samples(a), "ifrs9_http_requests_total").length, 1);
  assert.deepEqual(family(await samples(b), "ifrs9_http_requests_total"), []);
});

Deno.test("render(): the process metrics are collected at most once a second, the ifrs9_ ones every time", async () => {
  let clock = NOW;
  const metrics = createServerMetrics({ now: () => clock });
  const cpu = async () => {
    const { body } = await metrics.render();
    return [
      body.match(/^process_cpu_seconds_total (\S+)$/m)![1],
      body.match(/^ifrs9_http_requests_total\{[^}]*\} (\d+)$/m)?.[1],
    ];
  };
  const burn = () => {
    const end = performance.now() + 30;
    while (performance.now() < end) Math.sqrt(Math.random());
  };
  metrics.observeRequest("/healthz", "GET", 200, 0.001);
  const [cpu0, n0] = await cpu();
  burn();
  metrics.observeRequest("/healthz", "GET", 200, 0.001);
  clock += 999;
  const [cpu1, n1] = await cpu();
  assert.equal(cpu1, cpu0); // reused
  assert.deepEqual([n0, n1], ["1", "2"]); // afresh
  clock += 1;
  const [cpu2] = await cpu();
  // 30 ms of CPU burnt since the first collection.
  assert.ok(Number(cpu2) >= Number(cpu0) + 0.02, `${cpu0} -> ${cpu2}`);
});

Deno.test("render(): the whole scrape, default process metrics included, passes promtool check metrics", async () => {
  const metrics = createServerMetrics({ now: () => NOW });
  metrics.observeRequest("/healthz", "GET", 200, 0.002);
  metrics.observeRequest("/runs", "POST", 202, 0.03);
  feed(metrics, [A, B, C, M, D, E]);
  metrics.setQueueDepth({ queued: 0, running: 1 });
  const { contentType, body } = await metrics.render();
  assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
  assert.match(body, /^process_resident_memory_bytes \d+$/m);
  assert.match(body, /^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
  const { code, output } = await promtoolCheckMetrics(body);
  assert.equal(code, 0, output);
  assert.equal(output.trim(), "");
});

Deno.test("promtoolCheckMetrics() fails a text promtool rejects", async () => {
  // A gauge named like a counter: the lint the default metrics were
  // cleaned of.
  const { code, output } = await promtoolCheckMetrics(
    "# HELP x_total x\n# TYPE x_total gauge\nx_total 1\n",
  );
  assert.notEqual(code, 0);
  assert.match(output, /non-counter metrics should not have "_total" suffix/);
});
