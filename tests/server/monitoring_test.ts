/**
 * Tests of the monitoring assets (monitoring/): the alert rules pass
 * `promtool check rules` and their unit tests pass `promtool test rules`
 * (and fail when a threshold moves); every metric an alert or the Grafana
 * dashboard uses is one createServerMetrics exposes; the dashboard parses,
 * its queries are valid PromQL, and it picks its data source from a
 * variable; monitoring/README.md documents every metric with its help text.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { createServerMetrics } from "../../lib/server/metrics.ts";
import type { JobRecord } from "../../lib/server/types.ts";

const DIR = fileURLToPath(new URL("../../monitoring/", import.meta.url));

/** Runs promtool in `cwd`; returns its exit code and output. */
async function promtool(
  args: string[],
  cwd = DIR,
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("promtool", { args, cwd }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
  };
}

/**
 * The series names the server exposes, from the `# TYPE` lines of a render
 * (so they do not depend on what was observed): a histogram's `_bucket`,
 * `_sum` and `_count`, every other family by its name.
 */
async function exposedNames(): Promise<Set<string>> {
  const { body } = await createServerMetrics().render();
  const names = new Set<string>();
  for (const [, name, type] of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === "histogram") {
      for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    } else names.add(name);
  }
  return names;
}

/** The metric names of the server a PromQL expression reads. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:ifrs9|process|nodejs)_[a-zA-Z0-9_:]*/g)]
    .map((m) => m[0]);
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

async function alertRules(): Promise<Rule[]> {
  const doc = parse(await Deno.readTextFile(`${DIR}/alerts.yml`)) as {
    groups: { rules: Rule[] }[];
  };
  return doc.groups.flatMap((g) => g.rules);
}

/** Every query of the dashboard: panel targets and variable queries. */
function dashboardQueries(dash: Record<string, unknown>): string[] {
  const out: string[] = [];
  const visit = (panels: Record<string, unknown>[]) => {
    for (const p of panels) {
      for (const t of (p.targets ?? []) as { expr: string }[]) out.push(t.expr);
      visit((p.panels ?? []) as Record<string, unknown>[]);
    }
  };
  visit(dash.panels as Record<string, unknown>[]);
  for (
    const v of (dash.templating as { list: Record<string, unknown>[] }).list
  ) {
    if (v.type === "query") {
      out.push(
        typeof v.query === "string"
          ? v.query
          : (v.query as { query: string }).query,
      );
    }
  }
  return out;
}

async function dashboard(): Promise<Record<string, unknown>> {
  return JSON.parse(
    await Deno.readTextFile(`${DIR}/grafana/ifrs9_server.json`),
  );
}

Deno.test("alerts.yml passes promtool check rules", async () => {
  const { code, output } = await promtool(["check", "rules", "alerts.yml"]);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS: 6 rules found/);
});

Deno.test("alerts_test.yml: every alert fires and stays quiet as its unit tests say (promtool test rules)", async () => {
  const { code, output } = await promtool(["test", "rules", "alerts_test.yml"]);
  assert.equal(code, 0, output);
  // Each alert is tested both ways.
  const tests = await Deno.readTextFile(`${DIR}/alerts_test.yml`);
  for (const rule of await alertRules()) {
    const cases = [
      ...tests.matchAll(
        new RegExp(
          `alertname: ${rule.alert}\\n\\s+exp_alerts:( \\[\\])?`,
          "g",
        ),
      ),
    ];
    assert.ok(
      cases.some((c) => c[1] === " []"),
      `${rule.alert} is never shown quiet`,
    );
    assert.ok(
      cases.some((c) => c[1] === undefined),
      `${rule.alert} is never shown firing`,
    );
  }
});

Deno.test("the rule tests catch a moved threshold (20% allowance change made 30%)", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const rules = await Deno.readTextFile(`${DIR}/alerts.yml`);
    const moved = rules.replace(
      "abs(ifrs9_last_run_allowance_change_ratio) > 0.2",
      "abs(ifrs9_last_run_allowance_change_ratio) > 0.3",
    );
    assert.notEqual(moved, rules);
    await Deno.writeTextFile(`${tmp}/alerts.yml`, moved);
    await Deno.copyFile(`${DIR}/alerts_test.yml`, `${tmp}/alerts_test.yml`);
    const { code, output } = await promtool(
      ["test", "rules", "alerts_test.yml"],
      tmp,
    );
    assert.notEqual(code, 0, output);
    assert.match(output, /IFRS9AllowanceMovedSharply/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the allowance alert names the book, the label the server puts on the change ratio", async () => {
  const rule = (await alertRules()).find((r) =>
    r.alert === "IFRS9AllowanceMovedSharply"
  ) as Rule & { annotations: Record<string, string> };
  assert.match(rule.annotations.summary, /\{\{ \$labels\.book \}\}/);
  assert.match(rule.annotations.description, /\{\{ \$labels\.book \}\}/);
  // Two succeeded runs of one book: the series carries `book`.
  const metrics = createServerMetrics({ defaultMetrics: false });
  for (const [id, ecl, h] of [["q3", 100, 1], ["q4", 130, 2]] as const) {
    metrics.observeJob({
      id,
      kind: "run",
      status: "succeeded",
      request: {
        portfolio: `/srv/prod/book_2025-0${h + 6}-30.parquet`,
        rules: "/r.yaml",
        runId: id,
      },
      submittedAt: `2026-01-05T0${h}:00:00.000Z`,
      startedAt: `2026-01-05T0${h}:00:00.000Z`,
      finishedAt: `2026-01-05T0${h}:10:00.000Z`,
      step: null,
      steps: [],
      progress: null,
      counts: null,
      summary: {
        run_id: id,
        reporting_date: "2025-12-31",
        reporting_currency: "EUR",
        totals: { count: 1, ecl },
        by_stage: [],
      } as unknown as JobRecord["summary"],
      dir: null,
      error: null,
    });
  }
  const { body } = await metrics.render();
  assert.match(
    body,
    /^ifrs9_last_run_allowance_change_ratio\{book="\/srv\/prod\/book"\} 0\.3$/m,
  );
});

Deno.test("every metric an alert uses is one the server exposes", async () => {
  const exposed = await exposedNames();
  const used = new Set<string>();
  for (const rule of await alertRules()) {
    for (const name of metricNames(rule.expr)) {
      used.add(name);
      assert.ok(exposed.has(name), `${rule.alert} uses ${name}, not exposed`);
    }
  }
  // The alerts' inputs, so a parse that finds nothing cannot pass.
  for (
    const name of [
      "ifrs9_jobs_total",
      "ifrs9_longest_running_run_seconds",
      "ifrs9_last_run_duration_seconds",
      "ifrs9_last_run_reject_rate",
      "ifrs9_last_run_max_reject_rate",
      "ifrs9_last_run_allowance_change_ratio",
    ]
  ) assert.ok(used.has(name), `no alert uses ${name}`);
  assert.ok(
    (await alertRules()).some((r) =>
      /\bup\{job="ifrs9-server"\} == 0/.test(r.expr)
    ),
    "the server-down alert",
  );
});

Deno.test("metricNames() finds the server's metrics in an expression", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (le) (rate(ifrs9_http_request_duration_seconds_bucket{route="/healthz"}[5m]))) > process_open_fds + up',
    ),
    ["ifrs9_http_request_duration_seconds_bucket", "process_open_fds"],
  );
});

Deno.test("the Grafana dashboard parses, picks its data source from a variable and reads only exposed metrics", async () => {
  const dash = await dashboard();
  assert.equal(dash.schemaVersion, 39);
  const vars = (dash.templating as { list: Record<string, unknown>[] }).list;
  const ds = vars.find((v) => v.type === "datasource");
  assert.ok(ds, "a data-source variable");
  assert.equal(ds.query, "prometheus");
  const panels = (dash.panels as Record<string, unknown>[]).filter((p) =>
    p.type !== "row"
  );
  assert.ok(panels.length >= 10, `${panels.length} panels`);
  const ids = new Set<unknown>();
  for (const p of panels) {
    assert.deepEqual(p.datasource, {
      type: "prometheus",
      uid: `\${${ds.name}}`,
    }, `panel ${p.title}`);
    assert.ok(!ids.has(p.id), `panel id ${p.id} twice`);
    ids.add(p.id);
    assert.ok(
      (p.targets as unknown[]).length > 0,
      `panel ${p.title} has no query`,
    );
  }
  const exposed = await exposedNames();
  const used = new Set<string>();
  for (const q of dashboardQueries(dash)) {
    for (const name of metricNames(q)) {
      used.add(name);
      assert.ok(exposed.has(name), `the dashboard uses ${name}, not exposed`);
    }
  }
  // What the dashboard is for: request rate and latency, jobs by status,
  // run duration, last run ECL/EAD by stage, reject rate vs limit, queue.
  for (
    const name of [
      "ifrs9_http_requests_total",
      "ifrs9_http_request_duration_seconds_bucket",
      "ifrs9_jobs_total",
      "ifrs9_run_duration_seconds_bucket",
      "ifrs9_last_run_ecl",
      "ifrs9_last_run_ead",
      "ifrs9_last_run_reject_rate",
      "ifrs9_last_run_max_reject_rate",
      "ifrs9_jobs_queued",
      "ifrs9_jobs_running",
    ]
  ) assert.ok(used.has(name), `no panel shows ${name}`);
});

Deno.test("every dashboard query is valid PromQL (promtool check rules over them)", async () => {
  const dash = await dashboard();
  // Grafana's variables, replaced by what Grafana would put there.
  const queries = dashboardQueries(dash).map((q) =>
    q.replaceAll("$__rate_interval", "1m")
      .replaceAll("$__range", "1h")
      .replaceAll("$instance", ".*")
      .replace(/^label_values\((\w+), (\w+)\)$/, "count by ($2) ($1)")
  );
  assert.ok(queries.length > 15);
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${tmp}/dashboard_rules.yml`,
      stringify({
        groups: [{
          name: "dashboard",
          rules: queries.map((expr, i) => ({
            record: `dashboard:q${i}`,
            expr,
          })),
        }],
      }),
    );
    const { code, output } = await promtool(
      ["check", "rules", "dashboard_rules.yml"],
      tmp,
    );
    assert.equal(code, 0, output);
    // And a broken query is caught the same way.
    await Deno.writeTextFile(
      `${tmp}/broken.yml`,
      stringify({
        groups: [{
          name: "d",
          rules: [{ record: "d:q", expr: "sum by (le (rate(x[1m]))" }],
        }],
      }),
    );
    assert.notEqual(
      (await promtool(["check", "rules", "broken.yml"], tmp)).code,
      0,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("monitoring/README.md documents every ifrs9_ metric with its help text", async () => {
  const readme = await Deno.readTextFile(`${DIR}/README.md`);
  const { body } = await createServerMetrics({ defaultMetrics: false })
    .render();
  const helps = [...body.matchAll(/^# HELP (ifrs9_\S+) (.*)$/gm)];
  assert.ok(helps.length >= 17, `${helps.length} metrics`);
  for (const [, name, help] of helps) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${name}\``));
    assert.ok(row, `README has no row for ${name}`);
    assert.ok(row.includes(help), `README's help for ${name} differs: ${help}`);
  }
});
