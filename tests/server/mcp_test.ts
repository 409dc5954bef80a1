/**
 * The MCP door (lib/server/mcp.ts, lib/server/workings.ts) driven by the
 * MCP SDK's own `Client` over real HTTP: `createApp` served on a loopback
 * port with the real registry, queue (child processes), metrics and auth.
 *
 * The figures are checked against the run folder read here independently
 * (`manifest.json`, `summary.json`, `loan_results.parquet` with Polars, the
 * rules file's weights parsed from its YAML), not against the tools' own
 * arithmetic: the explained facility's ECL must equal its `ecl` in
 * `loan_results.parquet` to the cent, the per-scenario ECLs weighted by
 * the rules file's weights must make the weighted ECL, and the months of
 * the projection summed here must give each scenario's ECL the run wrote.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { parse as parseYaml } from "yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  type Manifest,
  projectPath,
  runPortfolio,
  type Summary,
} from "../../lib/mod.ts";
import { createApp } from "../../lib/server/app.ts";
import { mintToken } from "../../lib/server/auth.ts";
import { createServerMetrics } from "../../lib/server/metrics.ts";
import { createJobQueue } from "../../lib/server/queue.ts";
import { createJobRegistry } from "../../lib/server/registry.ts";
import type { ServerConfig, ServerDeps } from "../../lib/server/types.ts";
import type { JobView, RunList } from "../../lib/server/mcp.ts";
import {
  createFacilityExplainer,
  EXPLAIN_BUSY_MESSAGE,
  type ExplainOutcome,
  runInWorker,
} from "../../lib/server/explainer.ts";
import {
  createHashCache,
  type DataQualityWorkings,
  explainFacility,
  type FacilityExplanation,
  type Figure,
  type SummaryWorkings,
} from "../../lib/server/workings.ts";
import { writePortfolio } from "../run/_portfolio.ts";

const SECRET = "mcp-test-secret-".padEnd(48, "x");
const RULES = projectPath("config/ifrs9_rules.yaml");
const TOOLS = [
  "data_quality",
  "explain_facility",
  "get_run",
  "list_runs",
  "run_summary",
  "start_movement",
  "start_run",
];

/** Equal to the cent: half a cent either way. */
function assertCent(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= 0.005,
    `${what}: ${actual} is not ${expected} to the cent`,
  );
}

/** A tool result as the tests read it. */
interface Result {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
}

/** A JSON-RPC answer to a tools/call, as the event stream carries it. */
interface RpcAnswer {
  id: number;
  result: Result;
}

/** A row of loan_results.parquet, as the tests read it. */
interface LoanRow {
  stage: number;
  stage_reason: string;
  stage_triggers: string[];
  currency: string;
  remaining_term_months: number;
  ead: number;
  ecl: number;
  overlay_impacts: number[];
  overlay_floor: number;
  [column: string]: unknown;
}

/** A tool as `tools/list` describes it. */
interface ToolInfo {
  name: string;
  description?: string;
  inputSchema: {
    type: string;
    properties?: Record<string, unknown>;
    required?: string[];
    additionalProperties?: boolean;
  };
  annotations?: { readOnlyHint?: boolean };
}

/** The server, its folders and a client factory. */
async function setup() {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "mcp-test-" }),
  );
  const data = join(root, "data");
  await Deno.mkdir(data);
  const config: ServerConfig = {
    dataRoots: [data],
    rulesRoots: [projectPath("config")],
    outDir: join(root, "runs"),
    movementDir: join(root, "movements"),
    defaultRules: RULES,
    jwtSecret: SECRET,
    maxConcurrentRuns: 1,
    maxQueuedRuns: 10,
    shutdownGraceSeconds: 5,
    rateLimitPerMinute: 10_000,
  };
  const lines: string[] = [];
  const log = (level: string) => (event: string, fields = {}) =>
    lines.push(JSON.stringify({ level, event, ...fields }));
  const logger = { info: log("info"), warn: log("warn"), error: log("error") };
  const metrics = createServerMetrics({ defaultMetrics: false });
  const registry = await createJobRegistry(config.outDir, { logger });
  const queue = createJobQueue({ config, registry, metrics, logger });
  const deps: ServerDeps = { config, registry, queue, metrics, logger };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createApp(deps).fetch,
  );
  const url = new URL(`http://127.0.0.1:${server.addr.port}/mcp`);
  const tokens = {
    write: await mintToken({
      secret: SECRET,
      scopes: ["runs:write"],
      expiresInSeconds: 600,
      subject: "agent-writer",
    }),
    read: await mintToken({
      secret: SECRET,
      scopes: ["runs:read"],
      expiresInSeconds: 600,
      subject: "agent-reader",
    }),
  };
  const clients: Client[] = [];
  const connect = async (token: string) => {
    const client = new Client({ name: "mcp-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  };
  const call = async (
    client: Client,
    name: string,
    args: Record<string, unknown>,
  ) => (await client.callTool({ name, arguments: args })) as Result;
  const close = async () => {
    for (const c of clients) await c.close();
    await queue.shutdown(5);
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  };
  return {
    root,
    data,
    config,
    registry,
    url,
    tokens,
    lines,
    connect,
    call,
    close,
  };
}

/** The JSON of a successful tool result (its text and structured content agree). */
function payload<T = Record<string, unknown>>(r: Result): T {
  assert.notEqual(r.isError, true, r.content[0]?.text);
  const parsed = JSON.parse(r.content[0].text);
  assert.deepEqual(parsed, r.structuredContent);
  return parsed as T;
}

/** The one-line message of a tool error. */
function errorText(r: Result): string {
  assert.equal(
    r.isError,
    true,
    `expected a tool error, got ${r.content[0]?.text?.slice(0, 200)}`,
  );
  const text = r.content[0].text;
  assert.ok(!text.includes("\n"), `not one line: ${text}`);
  assert.ok(
    !/\n\s+at /.test(text) && !/\.ts:\d+:\d+/.test(text),
    `a stack: ${text}`,
  );
  return text;
}

/** The run folder's own files, read without the tools. */
async function readFolder(dir: string) {
  const manifest: Manifest = JSON.parse(
    await Deno.readTextFile(join(dir, "manifest.json")),
  );
  const summary: Summary = JSON.parse(
    await Deno.readTextFile(join(dir, "summary.json")),
  );
  const results = pl.readParquet(join(dir, "loan_results.parquet"));
  return { manifest, summary, results };
}

/** Every figure in a tool's answer must carry the run's source block. */
function assertSource(fig: Figure, manifest: Manifest, dir: string) {
  assert.equal(fig.source.run_id, manifest.run_id);
  assert.equal(fig.source.run_folder, dir);
  assert.equal(fig.source.methodology_version, manifest.methodology_version);
  for (const input of ["portfolio", "rules", "fx"] as const) {
    assert.equal(
      fig.source.inputs[input].sha256,
      manifest.inputs[input].sha256,
      `${input} hash`,
    );
    assert.match(fig.source.inputs[input].sha256, /^[0-9a-f]{64}$/);
  }
  assert.match(fig.definition, /methodology §|IFRS/);
}

Deno.test("the MCP door over HTTP: tools, workings checked against the run folder, scopes, bad arguments", async (t) => {
  const s = await setup();
  try {
    // A run made by the library itself in the server's output folder.
    const portfolio = writePortfolio(
      join(s.data, "book_2025-12-31.parquet"),
      40,
    );
    const run = await runPortfolio({
      portfolio,
      rules: RULES,
      out: s.config.outDir,
      report: false,
    });
    const dir = run.dir;
    const folder = await readFolder(dir);
    const writer = await s.connect(s.tokens.write);
    const reader = await s.connect(s.tokens.read);

    await t.step(
      "initialize names the server; tools/list lists every tool with its schema",
      async () => {
        assert.equal(writer.getServerVersion()?.name, "ifrs9-ecl");
        assert.ok(writer.getServerCapabilities()?.tools);
        assert.match(writer.getInstructions() ?? "", /workings/);
        const tools = (await reader.listTools()).tools as ToolInfo[];
        assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
        for (const tool of tools) {
          assert.ok((tool.description ?? "").length > 40, tool.name);
          assert.equal(tool.inputSchema.type, "object");
          assert.equal(
            tool.inputSchema.additionalProperties,
            false,
            `${tool.name} refuses unknown arguments`,
          );
        }
        const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
        assert.deepEqual(byName.start_run.inputSchema.required, ["portfolio"]);
        assert.deepEqual(
          Object.keys(byName.start_run.inputSchema.properties ?? {}).sort(),
          ["fx", "portfolio", "rules", "run_id"],
        );
        assert.deepEqual(
          (byName.explain_facility.inputSchema.required ?? []).sort(),
          ["loan_id", "run_id"],
        );
        assert.deepEqual(byName.start_movement.inputSchema.required, [
          "from",
          "to",
        ]);
        assert.equal(byName.run_summary.annotations?.readOnlyHint, true);
        assert.equal(byName.start_run.annotations?.readOnlyHint, false);
      },
    );

    await t.step(
      "run_summary: every figure with its workings; the totals are the run folder's",
      async () => {
        const out = payload<SummaryWorkings>(
          await s.call(reader, "run_summary", { run_id: run.runId }),
        );
        const totals = out.totals as Record<string, Figure>;
        for (const [key, fig] of Object.entries(totals)) {
          assertSource(fig, folder.manifest, dir);
          assert.equal(
            fig.value,
            (folder.summary.totals as Record<string, unknown>)[key],
            key,
          );
        }
        assert.equal(totals.ecl.unit, "EUR");
        assert.match(totals.ecl.definition, /§8/);
        assert.match(totals.loss_allowance.definition, /IFRS 7 B8E/);
        // The total ECL is the sum of the facilities' ecl_rc, summed here.
        assertCent(
          totals.ecl.value!,
          folder.results.getColumn("ecl_rc").sum() as number,
          "total ECL",
        );
        // By stage: each stage's ECL summed here from the loan results.
        assert.equal(out.by_stage.length, folder.summary.by_stage.length);
        for (const g of out.by_stage) {
          assertSource(g.ecl, folder.manifest, dir);
          const ecl = folder.results.filter(
            pl.col("stage").eq(pl.lit(Number(g.stage))),
          ).getColumn("ecl_rc").sum() as number;
          assertCent(g.ecl.value!, ecl, `stage ${g.stage} ECL`);
          assert.match(g.meaning, /IFRS 7 §35H/);
        }
        assert.deepEqual(out.by_stage.map((g) => g.stage).sort(), [
          "1",
          "2",
          "3",
        ]);
        // Scenarios: the rules file's weights, parsed here.
        const yaml = parseYaml(await Deno.readTextFile(RULES)) as {
          scenarios: { name: string; weight: number }[];
        };
        assert.deepEqual(
          out.scenarios.map((x) => [x.name, x.weight.value]),
          yaml.scenarios.map((x) => [x.name, x.weight]),
        );
        assert.ok(out.checks.every((c) => c.agrees));
      },
    );

    // One facility of each stage, chosen here from the loan results.
    const pick = (stage: number) =>
      folder.results.filter(pl.col("stage").eq(pl.lit(stage))).row(0);
    const weights = Object.fromEntries(
      (parseYaml(await Deno.readTextFile(RULES)) as {
        scenarios: { name: string; weight: number }[];
      }).scenarios.map((x) => [x.name, x.weight]),
    );
    for (const stage of [1, 2, 3]) {
      const loanId = String(pick(stage)[0]);
      await t.step(
        `explain_facility: stage ${stage} facility ${loanId} recomputed to the cent`,
        async () => {
          const out = payload<FacilityExplanation>(
            await s.call(reader, "explain_facility", {
              run_id: run.runId,
              loan_id: loanId,
            }),
          );
          const row = folder.results.filter(
            pl.col("loan_id").eq(pl.lit(loanId)),
          )
            .toRecords()[0] as unknown as LoanRow;
          assert.equal(out.loan_id, loanId);
          assert.deepEqual(out.warnings, []);
          assert.equal(out.stage.value, row.stage);
          assert.equal(out.stage.reason, row.stage_reason);
          assert.deepEqual(out.stage.triggers, row.stage_triggers);
          assert.equal(out.stage.recomputed_stage, row.stage);
          const inputRow = out.inputs.input_row!;
          assert.equal(inputRow.loan_id, loanId);
          // The input row is the portfolio's, read here.
          const input = pl.readParquet(portfolio).filter(
            pl.col("loan_id").eq(pl.lit(loanId)),
          ).toRecords()[0] as Record<string, unknown>;
          for (
            const key of [
              "balance",
              "interest_rate",
              "days_past_due",
              "pd_12m_current",
            ]
          ) {
            assert.equal(inputRow[key], input[key], key);
          }
          // The hashes are the manifest's, and the files still hash so.
          for (
            const f of [out.ecl, out.ead, out.pd_12m, out.lgd, out.ecl_model]
          ) {
            assertSource(f, folder.manifest, dir);
          }
          for (const input of ["portfolio", "rules", "fx"] as const) {
            assert.equal(out.input_files[input].same, true);
            assert.equal(
              out.input_files[input].now,
              folder.manifest.inputs[input].sha256,
            );
          }
          // The ECL equals the run's ecl to the cent.
          assertCent(out.ecl.value!, row.ecl, "facility ECL");
          assert.equal(out.ecl.unit, row.currency);
          assert.equal(out.ecl_check.agrees_to_the_cent, true);
          assert.match(out.ecl_check.message, /to the cent/);
          // The per-scenario ECLs, weighted by the rules file's weights,
          // make the weighted ECL; with the overlays, the run's ecl.
          let weighted = 0;
          for (const sc of out.scenarios) {
            assert.equal(sc.weight.value, weights[sc.name]);
            weighted += weights[sc.name] * sc.ecl.value!;
            assertCent(
              sc.ecl.value!,
              row[`ecl_${sc.name}`] as number,
              `ECL ${sc.name}`,
            );
            assert.match(sc.ecl.definition, /methodology §8/);
          }
          assert.deepEqual(
            out.scenarios.map((x) => x.name).sort(),
            Object.keys(weights).sort(),
          );
          assertCent(weighted, out.ecl_model.value!, "Σ w_s ECL_s");
          const overlays = (row.overlay_impacts as number[]).reduce(
            (a, b) => a + b,
            0,
          );
          assertCent(
            weighted + overlays + row.overlay_floor,
            row.ecl,
            "weighted + overlays",
          );
          // The months of the projection, summed here, give each scenario's
          // ECL as the run wrote it (stage 3: LGD[1] · EAD[1]).
          const periods = out.projection!.periods;
          assert.equal(out.projection!.months, row.remaining_term_months);
          assert.equal(periods.length, row.remaining_term_months);
          assert.ok(Math.abs(periods[0].ead - row.ead) <= 1e-9 * row.ead);
          for (const name of Object.keys(weights)) {
            const contributions = periods.map((p) =>
              p.scenarios[name].marginal_pd * p.scenarios[name].lgd * p.ead *
              p.df
            );
            const ecl = stage === 3
              ? periods[0].scenarios[name].lgd * periods[0].ead
              : contributions.slice(0, stage === 1 ? 12 : undefined)
                .reduce((a, b) => a + b, 0);
            assertCent(ecl, row[`ecl_${name}`] as number, `months of ${name}`);
            // DF[t] = (1 + r)^-t with r the monthly rate of the input row.
            const r = (inputRow.interest_rate as number) / 12;
            assert.ok(Math.abs(periods[2].df - (1 + r) ** -3) < 1e-12);
          }
        },
      );
    }

    await t.step(
      "explain_facility lists fewer months on request, computing with all of them",
      async () => {
        const loanId = String(pick(2)[0]);
        const out = payload<FacilityExplanation>(
          await s.call(reader, "explain_facility", {
            run_id: run.runId,
            loan_id: loanId,
            max_periods: 3,
          }),
        );
        assert.equal(out.projection!.periods.length, 3);
        assert.equal(out.ecl_check.agrees_to_the_cent, true);
      },
    );

    await t.step(
      "explain_facility: two calls at once over HTTP, one explains, the other is refused busy in one line",
      async () => {
        const loanId = String(pick(1)[0]);
        const other = await s.connect(s.tokens.read);
        const [a, b] = await Promise.all([
          s.call(reader, "explain_facility", {
            run_id: run.runId,
            loan_id: loanId,
          }),
          s.call(other, "explain_facility", {
            run_id: run.runId,
            loan_id: loanId,
          }),
        ]);
        const results = [a, b];
        const busy = results.filter((r) => r.isError);
        assert.equal(
          busy.length,
          1,
          JSON.stringify(results.map((r) => r.content[0].text.slice(0, 200))),
        );
        assert.equal(
          errorText(busy[0]),
          "explain_facility: busy: one facility explanation at a time, retry in a few seconds",
        );
        const done = payload<FacilityExplanation>(
          results.find((r) => !r.isError)!,
        );
        assert.equal(done.ecl_check.agrees_to_the_cent, true);
        // Once it is done, the next call goes through.
        const again = payload<FacilityExplanation>(
          await s.call(other, "explain_facility", {
            run_id: run.runId,
            loan_id: loanId,
          }),
        );
        assert.equal(again.ecl.value, done.ecl.value);
      },
    );

    await t.step(
      "data_quality: the report's essentials with the source block",
      async () => {
        const out = payload<DataQualityWorkings>(
          await s.call(reader, "data_quality", { run_id: run.runId }),
        );
        const dq = JSON.parse(
          await Deno.readTextFile(join(dir, "data_quality.json")),
        );
        assert.equal(out.rows_read.value, 40);
        assert.equal(out.rows_valid.value, dq.rows_valid);
        assert.equal(out.rows_rejected.value, 0);
        assertSource(out.rows_read, folder.manifest, dir);
        assert.deepEqual(out.failing_rules, []);
        assert.equal(out.passed, true);
      },
    );

    await t.step(
      "a run with a rejected row: data_quality names the rule; explain_facility says why",
      async () => {
        const bad = writePortfolio(
          join(s.data, "bad_2025-12-31.parquet"),
          40,
          1,
        );
        const r = await runPortfolio({
          portfolio: bad,
          rules: RULES,
          out: s.config.outDir,
          report: false,
        });
        const out = payload<DataQualityWorkings>(
          await s.call(reader, "data_quality", { run_id: r.runId }),
        );
        assert.equal(out.rows_rejected.value, 1);
        const negative = out.failing_rules.find((x) =>
          x.code === "BALANCE_NEGATIVE"
        );
        assert.deepEqual(negative?.examples, ["L0000000"]);
        const text = errorText(
          await s.call(reader, "explain_facility", {
            run_id: r.runId,
            loan_id: "L0000000",
          }),
        );
        assert.match(
          text,
          /^loan_id: L0000000 was rejected by validation .*BALANCE_NEGATIVE/,
        );
      },
    );

    await t.step(
      "a run failed for its reject rate: data_quality still reads its report; run_summary says it failed",
      async () => {
        const bad = writePortfolio(
          join(s.data, "worse_2025-12-31.parquet"),
          40,
          10,
        );
        await assert.rejects(() =>
          runPortfolio({
            portfolio: bad,
            rules: RULES,
            out: s.config.outDir,
            report: false,
          })
        );
        const out = payload<DataQualityWorkings>(
          await s.call(reader, "data_quality", {
            run_id: "worse_2025-12-31",
          }),
        );
        assert.equal(out.rows_rejected.value, 10);
        assert.equal(out.passed, false);
        assert.equal(out.source.status, "failed");
        assert.match(out.source.run_folder, /worse_2025-12-31\.failed$/);
        const text = errorText(
          await s.call(reader, "run_summary", { run_id: "worse_2025-12-31" }),
        );
        assert.match(
          text,
          /^run_id: run worse_2025-12-31 failed \(.*\.failed\): .*reject.*; data_quality shows/i,
        );
      },
    );

    await t.step(
      "a rules file changed since the run: said so, no projection with other rules",
      async () => {
        const rules = join(s.data, "rules.yaml");
        await Deno.copyFile(RULES, rules);
        const book = writePortfolio(
          join(s.data, "other_2025-12-31.parquet"),
          40,
        );
        const r = await runPortfolio({
          portfolio: book,
          rules,
          out: s.config.outDir,
          report: false,
        });
        await Deno.writeTextFile(
          rules,
          (await Deno.readTextFile(rules)).replace(
            "dpd_sicr: 30",
            "dpd_sicr: 60",
          ),
        );
        const loanId = String(
          pl.readParquet(join(r.dir, "loan_results.parquet")).row(1)[0],
        );
        const out = payload<FacilityExplanation>(
          await s.call(reader, "explain_facility", {
            run_id: r.runId,
            loan_id: loanId,
          }),
        );
        assert.equal(out.input_files.rules.same, false);
        assert.equal(out.projection, null);
        assert.ok(
          out.warnings.some((w: string) =>
            w.includes(rules) && w.includes("changed since the run")
          ),
          JSON.stringify(out.warnings),
        );
        // The run's own figures are still reconciled.
        assert.equal(out.ecl_check.agrees_to_the_cent, true);
      },
    );

    await t.step(
      "a receivable on the simplified approach: the provision matrix's rate times EAD",
      async () => {
        const ex12 = await runPortfolio({
          portfolio: projectPath("data/sample/receivables_example12.csv"),
          rules: projectPath("config/example12_rules.yaml"),
          fx: projectPath("config/fx_rates.yaml"),
          out: s.config.outDir,
          report: false,
        });
        const yaml = parseYaml(
          await Deno.readTextFile(projectPath("config/example12_rules.yaml")),
        ) as {
          products: {
            trade_receivable: {
              provision_matrix: {
                buckets: { max_dpd?: number; loss_rate: number }[];
                credit_impaired_loss_rate: number;
              };
            };
          };
        };
        const matrix = yaml.products.trade_receivable.provision_matrix;
        const inputs = pl.readCSV(
          projectPath("data/sample/receivables_example12.csv"),
        );
        const results = pl.readParquet(join(ex12.dir, "loan_results.parquet"));
        for (const i of [0, results.height - 1]) {
          const row = results.row(i);
          const loanId = String(row[0]);
          const r = results.filter(pl.col("loan_id").eq(pl.lit(loanId)))
            .toRecords()[0] as unknown as LoanRow;
          const dpd = Number(
            inputs.filter(pl.col("loan_id").eq(pl.lit(loanId))).getColumn(
              "days_past_due",
            ).get(0),
          );
          const rate = r.stage === 3
            ? matrix.credit_impaired_loss_rate
            : matrix.buckets.find((b) =>
              b.max_dpd === undefined || dpd <= b.max_dpd
            )!.loss_rate;
          const out = payload<FacilityExplanation>(
            await s.call(reader, "explain_facility", {
              run_id: ex12.runId,
              loan_id: loanId,
            }),
          );
          assert.equal(out.projection, null);
          assert.equal(out.simplified?.loss_rate.value, rate);
          assertCent(out.ecl.value!, r.ead * rate, `${loanId} EAD × rate`);
          assertCent(out.ecl.value!, r.ecl, `${loanId} ECL`);
          assert.match(out.stage.meaning, /IFRS 9 §5\.5\.15/);
          assert.equal(out.ecl_check.agrees_to_the_cent, true);
        }
      },
    );

    await t.step(
      "start_run with a read-only token is refused, and nothing is queued",
      async () => {
        const before = s.registry.list().length;
        const text = errorText(
          await s.call(reader, "start_run", {
            portfolio: portfolio,
            run_id: "refused-run",
          }),
        );
        assert.match(text, /start_run: refused: needs the runs:write scope/);
        assert.equal(s.registry.list().length, before);
        assert.equal(s.registry.get("refused-run"), undefined);
        const movement = errorText(
          await s.call(reader, "start_movement", {
            from: run.runId,
            to: run.runId,
          }),
        );
        assert.match(movement, /runs:write/);
      },
    );

    await t.step(
      "bad arguments are tool errors naming the argument",
      async () => {
        const cases: [string, Record<string, unknown>, RegExp][] = [
          [
            "get_run",
            { run_id: 5 },
            /^run_id: expected string, received number$/,
          ],
          ["get_run", {}, /^run_id: required \(expected string\)$/],
          [
            "get_run",
            { run_id: "../etc" },
            /^run_id: a run id uses letters, digits/,
          ],
          [
            "get_run",
            { run_id: "q4.failed" },
            /^run_id: a run id cannot end in \.failed/,
          ],
          ["start_run", {}, /^portfolio: required/],
          [
            "start_run",
            { portfolio: "../../etc/passwd" },
            /^portfolio: has a '\.\.' segment/,
          ],
          [
            "start_run",
            { portfolio: "/etc/passwd" },
            /^portfolio: \/etc\/passwd is outside the allowed folders/,
          ],
          [
            "start_run",
            { portfolio: "s3://bucket/x.parquet" },
            /^portfolio: .*object storage/,
          ],
          [
            "start_run",
            { portfolio: join(s.data, "missing.csv") },
            /^portfolio: .*no such file/,
          ],
          [
            "start_run",
            { portfolio, rules: "/etc/hosts" },
            /^rules: \/etc\/hosts is outside/,
          ],
          [
            "start_run",
            { portfolio, run_id: run.runId },
            /^run_id: .*already exists/,
          ],
          [
            "start_run",
            { portfolio, colour: "red" },
            /^unknown argument "colour"$/,
          ],
          [
            "list_runs",
            { limit: 0 },
            /^limit: too small: expected number to be >=1$/,
          ],
          ["run_summary", { run_id: "nope" }, /^run_id: no run nope/],
          ["explain_facility", { run_id: run.runId }, /^loan_id: required/],
          [
            "explain_facility",
            { run_id: run.runId, loan_id: "L9" },
            /^loan_id: L9 is not a facility of run/,
          ],
          ["explain_facility", {
            run_id: run.runId,
            loan_id: "L1",
            max_periods: 1.5,
          }, /^max_periods: /],
          [
            "start_movement",
            { from: "nope", to: run.runId },
            /^from: no run nope/,
          ],
          [
            "get_run",
            { run_id: 5, extra: true, limit: "x" },
            /^run_id: expected string, received number; unknown arguments "extra", "limit"$/,
          ],
        ];
        for (const [tool, args, expected] of cases) {
          const text = errorText(await s.call(writer, tool, args));
          assert.match(
            text,
            expected,
            `${tool} ${JSON.stringify(args)}: ${text}`,
          );
        }
      },
    );

    await t.step(
      "start_run queues a run that get_run follows to succeeded; its summary is read from the registry",
      async () => {
        const started = payload<JobView>(
          await s.call(writer, "start_run", {
            portfolio: "book_2025-12-31.parquet".replace(/^/, `${s.data}/`),
            run_id: "via-mcp",
          }),
        );
        assert.equal(started.run_id, "via-mcp");
        assert.equal(started.status, "queued");
        assert.equal(started.status_url, "/runs/via-mcp");
        const deadline = Date.now() + 90_000;
        let status = "";
        let last: JobView | undefined;
        while (Date.now() < deadline) {
          last = payload<JobView>(
            await s.call(reader, "get_run", { run_id: "via-mcp" }),
          );
          status = last.status;
          if (!["queued", "running"].includes(status)) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(status, "succeeded", JSON.stringify(last?.error));
        assert.equal(last?.counts?.rowsRead, 40);
        const listed = payload<RunList>(
          await s.call(reader, "list_runs", { limit: 5 }),
        );
        assert.equal(listed.runs[0].run_id, "via-mcp");
        const out = payload<SummaryWorkings>(
          await s.call(reader, "run_summary", { run_id: "via-mcp" }),
        );
        // The same book and rules as the first run: the same figures and hashes.
        assert.equal(out.totals.ecl.value, folder.summary.totals.ecl);
        assert.equal(
          out.totals.ecl.source.inputs.portfolio.sha256,
          folder.manifest.inputs.portfolio.sha256,
        );
        assert.equal(out.source.run_id, "via-mcp");
      },
    );

    await t.step(
      "HTTP: no token is 401; GET is 405; a body over 64 KiB is 413",
      async () => {
        const rpc = JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/list",
        });
        const headers = {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
        };
        const anon = await fetch(s.url, { method: "POST", headers, body: rpc });
        assert.equal(anon.status, 401);
        await anon.body?.cancel();
        const auth = { Authorization: `Bearer ${s.tokens.read}` };
        const get = await fetch(s.url, {
          headers: { ...auth, Accept: "text/event-stream" },
        });
        assert.equal(get.status, 405);
        await get.body?.cancel();
        const big = await fetch(s.url, {
          method: "POST",
          headers: { ...headers, ...auth },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "tools/call",
            params: {
              name: "get_run",
              arguments: { run_id: "x".repeat(70_000) },
            },
          }),
        });
        assert.equal(big.status, 413);
        await big.body?.cancel();
        const notJson = await fetch(s.url, {
          method: "POST",
          headers: { ...headers, ...auth },
          body: "{not json",
        });
        assert.equal(notJson.status, 400);
        assert.equal((await notJson.json()).jsonrpc, "2.0");
      },
    );

    await t.step(
      "the log has one line per tool call, with its client, and no token",
      () => {
        const calls = s.lines.filter((l) => l.includes('"event":"mcp_tool"'));
        assert.ok(calls.length > 20);
        assert.ok(calls.some((l) => l.includes('"client":"agent-reader"')));
        for (const l of s.lines) {
          assert.ok(!l.includes(s.tokens.read) && !l.includes(s.tokens.write));
          assert.ok(!l.includes(SECRET));
        }
      },
    );
  } finally {
    await s.close();
  }
});

/** The JSON-RPC messages of an event-stream answer. */
async function sseMessages(res: Response): Promise<RpcAnswer[]> {
  const text = await res.text();
  return text.split("\n").filter((l) => l.startsWith("data: ")).map((l) =>
    JSON.parse(l.slice(6))
  );
}

Deno.test("in memory: a tools/call without a session answers; without the auth middleware every tool is refused", async () => {
  const { Hono } = await import("hono");
  const { mcpApp } = await import("../../lib/server/mcp.ts");
  const { bearerAuth } = await import("../../lib/server/auth.ts");
  const records = [{
    id: "q4",
    kind: "run",
    status: "running",
    step: "ecl",
  }];
  const lines: string[] = [];
  const deps = {
    config: { outDir: "/nonexistent", dataRoots: [], rulesRoots: [] },
    registry: {
      list: () => records,
      get: (id: string) => records.find((r) => r.id === id),
    },
    queue: {
      submit: () => {
        throw new Error("must not be called");
      },
    },
    logger: {
      info: (e: string, f: unknown) => lines.push(JSON.stringify([e, f])),
      warn() {},
      error: (e: string, f: unknown) => lines.push(JSON.stringify([e, f])),
    },
  } as unknown as ServerDeps;
  const call = (
    app: {
      request: (p: string, i: RequestInit) => Response | Promise<Response>;
    },
    name: string,
    args: unknown,
  ) =>
    app.request("/mcp", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name, arguments: args },
      }),
    });

  // Behind the auth middleware with auth disabled on purpose: every scope.
  const open = new Hono();
  open.use("/mcp/*", bearerAuth({ secret: null, scopeFor: () => "runs:read" }));
  open.route("/mcp", mcpApp(deps));
  const res = await call(open, "get_run", { run_id: "q4" });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("Content-Type") ?? "", /text\/event-stream/);
  assert.equal(res.headers.get("mcp-session-id"), null);
  const [answer] = await sseMessages(res);
  assert.equal(answer.id, 7);
  assert.equal(answer.result.structuredContent?.status, "running");
  assert.equal(answer.result.structuredContent?.step, "ecl");
  // A running run has no figures yet: said so, in one line.
  const [pending] = await sseMessages(
    await call(open, "run_summary", { run_id: "q4" }),
  );
  assert.equal(pending.result.isError, true);
  assert.match(
    pending.result.content[0].text,
    /^run_id: run q4 is running \(step ecl\); .*get_run$/,
  );

  // Mounted without any auth in front: no tool runs.
  const bare = new Hono();
  bare.route("/mcp", mcpApp(deps));
  const [refused] = await sseMessages(
    await call(bare, "start_run", { portfolio: "data/x.csv" }),
  );
  assert.equal(refused.result.isError, true);
  assert.match(
    refused.result.content[0].text,
    /^start_run: refused: .*no verified credentials/,
  );
  assert.ok(lines.some((l) => l.includes('"refused"')));
});

Deno.test("in memory: explain_facility computes one at a time server-wide; a call meanwhile is refused busy, the next goes through", async () => {
  const { Hono } = await import("hono");
  const { mcpApp } = await import("../../lib/server/mcp.ts");
  const { bearerAuth } = await import("../../lib/server/auth.ts");
  const records = [{
    id: "q4",
    kind: "run",
    status: "succeeded",
    dir: "/runs/q4",
  }];
  const deps = {
    config: { outDir: "/nonexistent", dataRoots: [], rulesRoots: [] },
    registry: {
      list: () => records,
      get: (id: string) => records.find((r) => r.id === id),
    },
    queue: {},
    logger: { info() {}, warn() {}, error() {} },
  } as unknown as ServerDeps;
  // Explanations that compute until the test lets them finish.
  const started: string[] = [];
  let gate = Promise.withResolvers<void>();
  const explainer = createFacilityExplainer({
    run: async (job) => {
      started.push(`${job.dir} ${job.loanId}`);
      await gate.promise;
      return {
        explanation: { loan_id: job.loanId },
        hashes: [],
        filesHashed: 0,
      } as unknown as ExplainOutcome;
    },
  });
  const app = new Hono();
  app.use("/mcp/*", bearerAuth({ secret: null, scopeFor: () => "runs:read" }));
  app.route("/mcp", mcpApp(deps, { explainer }));
  let id = 0;
  const explain = async (loanId: string) => {
    const res = await app.request("/mcp", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: ++id,
        method: "tools/call",
        params: {
          name: "explain_facility",
          arguments: { run_id: "q4", loan_id: loanId },
        },
      }),
    });
    return (await sseMessages(res))[0].result;
  };

  const first = explain("L1");
  // Wait until the first computes, then ask twice more meanwhile.
  while (started.length === 0) await new Promise((r) => setTimeout(r, 1));
  const [second, third] = await Promise.all([explain("L2"), explain("L3")]);
  for (const r of [second, third]) {
    assert.equal(r.isError, true);
    assert.equal(r.content[0].text, EXPLAIN_BUSY_MESSAGE);
    assert.equal(
      r.content[0].text,
      "explain_facility: busy: one facility explanation at a time, retry in a few seconds",
    );
  }
  gate.resolve();
  assert.equal((await first).structuredContent?.loan_id, "L1");
  assert.deepEqual(started, ["/runs/q4 L1"]);
  // Done: the next call computes.
  gate = Promise.withResolvers<void>();
  gate.resolve();
  assert.equal((await explain("L4")).structuredContent?.loan_id, "L4");
  assert.deepEqual(started, ["/runs/q4 L1", "/runs/q4 L4"]);
  assert.deepEqual(explainer.stats(), {
    explanations: 2,
    refused: 2,
    filesHashed: 0,
  });
});

Deno.test("an explanation that fails frees the slot for the next one", async () => {
  let calls = 0;
  const explainer = createFacilityExplainer({
    run: () => {
      calls++;
      return Promise.reject(new Error(`failure ${calls}`));
    },
  });
  await assert.rejects(
    explainer.explain("/runs/q4", "L1"),
    /^Error: failure 1$/,
  );
  // Not refused as busy: the slot was given back.
  await assert.rejects(
    explainer.explain("/runs/q4", "L1"),
    /^Error: failure 2$/,
  );
  assert.deepEqual(explainer.stats(), {
    explanations: 2,
    refused: 0,
    filesHashed: 0,
  });
});

Deno.test("createHashCache(): a file is hashed once while unchanged; rewritten, replaced or touched, it is hashed again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hash-cache-" });
  try {
    const reads: string[] = [];
    const cache = createHashCache({
      hash: (path) => {
        reads.push(path);
        return Promise.resolve(`sha-${reads.length}`);
      },
      maxEntries: 2,
    });
    const a = join(dir, "a.csv");
    await Deno.writeTextFile(a, "loan_id\nL1\n");
    assert.equal(await cache.hashFile(a), "sha-1");
    assert.equal(await cache.hashFile(a), "sha-1");
    assert.equal(reads.length, 1);
    // Rewritten with other bytes (another size).
    await Deno.writeTextFile(a, "loan_id\nL1\nL2\n");
    assert.equal(await cache.hashFile(a), "sha-2");
    // Replaced by another file of the same size (another inode).
    const b = join(dir, "b.csv");
    await Deno.writeTextFile(b, "loan_id\nL1\nL3\n");
    await Deno.rename(b, a);
    assert.equal(await cache.hashFile(a), "sha-3");
    // Touched: its times change, its size does not.
    const stat = await Deno.stat(a);
    await Deno.utime(a, stat.atime!, new Date(stat.mtime!.getTime() - 5000));
    assert.equal(await cache.hashFile(a), "sha-4");
    assert.equal(await cache.hashFile(a), "sha-4");
    assert.equal(cache.filesHashed(), 4);
    // At most maxEntries remembered, the least recently used dropped.
    const c = join(dir, "c.csv"), d = join(dir, "d.csv");
    await Deno.writeTextFile(c, "c");
    await Deno.writeTextFile(d, "d");
    await cache.hashFile(c);
    await cache.hashFile(d);
    assert.deepEqual(cache.entries().map((e) => e.path), [c, d]);
    await cache.hashFile(a);
    assert.equal(cache.filesHashed(), 7);
    // A file gone is an error the caller reports (explainFacility: "no
    // longer exists").
    await assert.rejects(
      cache.hashFile(join(dir, "gone.csv")),
      Deno.errors.NotFound,
    );
    // A file that changes while it is hashed is not remembered.
    const slow = createHashCache({
      hash: async (path) => {
        await Deno.writeTextFile(path, "changed while hashed");
        return "sha-slow";
      },
    });
    await slow.hashFile(c);
    assert.deepEqual(slow.entries(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second explanation of a run does not read its input files again: in this thread and through the worker", async () => {
  const root = await Deno.makeTempDir({ prefix: "explain-cache-" });
  try {
    const rules = join(root, "rules.yaml");
    await Deno.copyFile(RULES, rules);
    const run = await runPortfolio({
      portfolio: writePortfolio(join(root, "book_2025-12-31.parquet"), 30),
      rules,
      out: join(root, "runs"),
      report: false,
    });
    const ids = pl.readParquet(join(run.dir, "loan_results.parquet"))
      .getColumn("loan_id").toArray().map(String);

    // In this thread, through an injected hasher that counts its reads.
    const reads: string[] = [];
    const cache = createHashCache({
      hash: async (path) => {
        reads.push(path);
        const { sha256File } = await import("../../lib/run/mod.ts");
        return sha256File(path);
      },
    });
    const first = await explainFacility(run.dir, ids[0], {
      hashFile: cache.hashFile,
    });
    assert.equal(reads.length, 3); // portfolio, rules, FX table
    const manifest: Manifest = JSON.parse(
      await Deno.readTextFile(join(run.dir, "manifest.json")),
    );
    assert.deepEqual(
      reads.sort(),
      [
        manifest.inputs.fx.path,
        manifest.inputs.portfolio.path,
        manifest.inputs.rules.path,
      ].sort(),
    );
    const second = await explainFacility(run.dir, ids[1], {
      hashFile: cache.hashFile,
    });
    assert.equal(reads.length, 3, "read again: " + reads.join(", "));
    for (const out of [first, second]) {
      assert.equal(out.input_files.portfolio.same, true);
      assert.equal(out.ecl_check.agrees_to_the_cent, true);
    }

    // Through the worker: the server remembers what each worker hashed.
    const explainer = createFacilityExplainer({ run: runInWorker });
    const w1 = await explainer.explain(run.dir, ids[0]);
    assert.equal(explainer.stats().filesHashed, 3);
    const w2 = await explainer.explain(run.dir, ids[1], { maxPeriods: 2 });
    assert.equal(explainer.stats().filesHashed, 3);
    assert.equal(w1.ecl.value, first.ecl.value);
    assert.equal(w2.ecl.value, second.ecl.value);
    assert.equal(w2.projection!.periods.length, 2);
    // The rules file changed: hashed again, and found to differ.
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(rules)).replace("dpd_sicr: 30", "dpd_sicr: 60"),
    );
    const w3 = await explainer.explain(run.dir, ids[0]);
    assert.equal(explainer.stats().filesHashed, 4);
    assert.equal(w3.input_files.rules.same, false);
    assert.equal(w3.input_files.portfolio.same, true);
    // A loan the run did not compute: the worker's UserError, one line.
    await assert.rejects(explainer.explain(run.dir, "NOPE"), {
      name: "UserError",
      message: /^loan_id: NOPE is not a facility of run/,
    });
    assert.equal(explainer.stats().explanations, 4);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
