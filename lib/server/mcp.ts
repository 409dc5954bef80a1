/**
 * The Model Context Protocol door of the run server (issue 11): the same
 * operations as `/runs` and `/movements`, as tools an AI agent calls over
 * streamable HTTP, each figure returned with its workings
 * (`workings.ts`: the run and input hashes it came from, the methodology
 * section or IFRS paragraph that defines it, and for one facility the
 * month-by-month intermediate values).
 *
 * | tool               | scope        | what it does                                                      |
 * |--------------------|--------------|-------------------------------------------------------------------|
 * | `start_run`        | `runs:write` | queues a run, paths checked like `POST /runs`                     |
 * | `start_movement`   | `runs:write` | queues a movement between two runs, like `POST /movements`        |
 * | `get_run`          | `runs:read`  | a job's status, step, progress, counts and error                  |
 * | `list_runs`        | `runs:read`  | the jobs the server knows, newest first                           |
 * | `run_summary`      | `runs:read`  | totals, by stage, by scenario, overlays: each figure with workings |
 * | `data_quality`     | `runs:read`  | rows read / valid / rejected, failing rules with examples         |
 * | `explain_facility` | `runs:read`  | one facility from inputs to ECL, checked against the run's `ecl`  |
 *
 * Built with `@modelcontextprotocol/sdk`'s `McpServer` and `@hono/mcp`'s
 * `StreamableHTTPTransport`, stateless: each POST gets a server and a
 * transport of its own (no `mcp-session-id`), so concurrent clients never
 * share JSON-RPC ids and nothing is kept between requests; GET and DELETE,
 * which only a session has use for, are 405. Answers are
 * `text/event-stream`.
 *
 * Authentication is the app's (`createApp` puts `bearerAuth` in front of
 * `/mcp`, which leaves the verified scopes in `c.get("auth")`; the
 * transport hands them to each tool as `extra.authInfo`). Every tool checks
 * its own scope and refuses with a tool error; a request that reached this
 * door without any auth information gets no tool at all.
 *
 * `explain_facility` is the one heavy tool (it hashes the run's inputs and
 * reads the facility back from the portfolio): it computes in a worker
 * thread, off the request loop, one call at a time server-wide; a call
 * while another computes is refused at once with the tool error
 * `explain_facility: busy: one facility explanation at a time, retry in a
 * few seconds`; input hashes are remembered between calls while the files
 * are unchanged (`explainer.ts`). The other read tools read small JSON
 * files of the run folder.
 *
 * Errors are MCP tool errors (`isError: true`) with one line naming the
 * argument at fault, never a stack: a bad argument (the SDK's zod
 * validation), a path refused, a run not found or not finished, a full
 * queue. Anything unexpected is logged and answered as an internal error
 * in one line.
 *
 * @module
 */
import { join } from "node:path";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { StreamableHTTPTransport } from "@hono/mcp";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type {
  CallToolResult,
  JSONRPCMessage,
  RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { UserError } from "../errors.ts";
import { PLAUSIBILITY_LIMITS } from "../validation/mod.ts";
import { FAILED_SUFFIX, RUN_FILES } from "../run_folder/mod.ts";
import { hasScope, type RequestAuth, type Scope } from "./auth.ts";
import {
  createFacilityExplainer,
  type FacilityExplainer,
} from "./explainer.ts";
import { idField, pathField } from "./fields.ts";
import {
  movementRequestFor,
  resolveRunFolder,
  runRequestFor,
} from "./paths.ts";
import { type JobRecord, JobRefusedError, type ServerDeps } from "./types.ts";
import { dataQualityWorkings, summaryWorkings } from "./workings.ts";

/** The largest JSON-RPC request body accepted, as for `POST /runs`. */
export const MCP_BODY_LIMIT = 64 * 1024;

/** The server's name and version in the MCP `initialize` answer. */
export const MCP_SERVER_INFO = { name: "ifrs9-ecl", version: "1.0.0" };

/** A run or movement id: a folder name, as `POST /runs` checks it (fields.ts). */
const id = (what: string) => idField(`${what} id`);
/** A path a tool names, as `POST /runs` checks it (fields.ts). */
const path = pathField;

/** The tools' input schemas (zod; listed as JSON Schema by `tools/list`). */
export const TOOL_INPUTS = {
  start_run: z.strictObject({
    portfolio: path(
      "The portfolio file (CSV, Parquet or Arrow IPC): a path relative to the project (data/...) or absolute, under the server's data roots.",
    ),
    rules: path(
      "The rules file (YAML), under the rules roots (config/...) or the data roots. Default: the server's rules file.",
    ).optional(),
    fx: path(
      "The FX table (YAML). Default: fx_rates_<reporting date>.yaml beside the portfolio, else in config/, else config/fx_rates.yaml.",
    ).optional(),
    run_id: id("run").describe(
      "The run's id, the name of its folder. Default: chosen by the server and returned.",
    ).optional(),
  }),
  start_movement: z.strictObject({
    from: path(
      "The earlier run: a run id of the server's runs, or a run folder's path under the data roots.",
    ),
    to: path("The later run, like `from`."),
    movement_id: id("movement").describe(
      "The movement's id, the name of its folder. Default: chosen by the server and returned.",
    ).optional(),
  }),
  get_run: z.strictObject({
    run_id: id("run").describe("The id of a run or movement."),
  }),
  list_runs: z.strictObject({
    limit: z.number().int().min(1).max(1000).describe(
      "At most this many jobs, newest first. Default 20.",
    ).optional(),
  }),
  run_summary: z.strictObject({
    run_id: id("run").describe("The id of a succeeded run."),
  }),
  data_quality: z.strictObject({
    run_id: id("run").describe(
      "The id of a run (succeeded, or failed after validation).",
    ),
  }),
  explain_facility: z.strictObject({
    run_id: id("run").describe("The id of a succeeded run."),
    loan_id: z.string().min(1).max(PLAUSIBILITY_LIMITS.maxIdChars).describe(
      "The facility's loan_id, as in the run's loan_results.parquet.",
    ),
    max_periods: z.number().int().min(0).max(1200).describe(
      "List at most this many months of the projection (the ECL uses all of them). Default: every month.",
    ).optional(),
  }),
} as const;

/** The tools' descriptions, for an agent choosing one. */
const DESCRIPTIONS: Record<keyof typeof TOOL_INPUTS, string> = {
  start_run:
    "Start an IFRS 9 expected-credit-loss run on a portfolio file (validate, stage, compute ECL, write a run folder). Returns at once with the run_id and status 'queued'; follow it with get_run until 'succeeded', then read run_summary, data_quality and explain_facility. Needs the runs:write scope.",
  start_movement:
    "Start the movement analysis between two finished runs (stage migration, the IFRS 7 §35H loss-allowance reconciliation). Returns at once with the movement's id; follow it with get_run. Needs the runs:write scope.",
  get_run:
    "The status of a run or movement (queued, running, succeeded, failed, interrupted), its current step, step timings, progress, row counts and, when failed, the error.",
  list_runs: "The runs and movements the server knows, newest first.",
  run_summary:
    "A succeeded run's totals and figures by stage and by scenario (gross carrying amount, EAD, ECL, loss allowance, provision, coverage), each with its workings: value, unit, definition (methodology section, IFRS 9 / IFRS 7 paragraph) and source (run, folder, SHA-256 of the portfolio, rules and FX files, methodology version); plus checks that the parts add up.",
  data_quality:
    "A run's data-quality report: rows read, valid and rejected, the reject rate against its limit, and every validation rule that failed rows, with example loan ids; with the same source block.",
  explain_facility:
    "Explain one facility's ECL in a succeeded run: its inputs, stage and triggers, PD, LGD, EAD, the month-by-month projection (EAD, discount factor, survival, marginal PD, LGD per scenario), the per-scenario and probability-weighted ECL recomputed from those months, the overlays, and a check that the result equals the run's ecl to the cent. Uses the run's own rules file; says so when it changed since. One explanation computes at a time on the server: while one does, the call is refused with 'busy'; retry in a few seconds.",
};

/** Which scope each tool needs. */
const TOOL_SCOPES: Record<keyof typeof TOOL_INPUTS, Scope> = {
  start_run: "runs:write",
  start_movement: "runs:write",
  get_run: "runs:read",
  list_runs: "runs:read",
  run_summary: "runs:read",
  data_quality: "runs:read",
  explain_facility: "runs:read",
};

/** What the server tells an agent at `initialize`. */
const INSTRUCTIONS =
  "IFRS 9 expected-credit-loss runs. Start a run with start_run (returns at once), poll get_run until its status is 'succeeded', then read run_summary (totals and stages), data_quality, and explain_facility for one loan. Every figure comes with its workings: quote the value with its unit, its definition (methodology section, IFRS paragraph) and its source (run id and input SHA-256) so the answer can be audited. Amounts of a facility are in its own currency; portfolio totals in the reporting currency.";

/** A successful tool result: the JSON as text, and as structured content. */
function ok(value: object): CallToolResult {
  return {
    content: [{ type: "text", text: JSON.stringify(value) }],
    structuredContent: value as Record<string, unknown>,
  };
}

/** A tool error: one line. */
function toolError(message: string): CallToolResult {
  return {
    content: [{ type: "text", text: oneLine(message) }],
    isError: true,
  };
}

/** Several lines (zod's issues, one per line) as one. */
function oneLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(
    "; ",
  );
}

/** The SDK's message for arguments its zod validation refused. */
const SDK_INVALID =
  /^(?:MCP error -?\d+: )?Input validation error: Invalid arguments for tool [\w-]+: ([\s\S]*)$/;

/**
 * A tool error's text as one line; the SDK's validation message (one
 * issue per line, `<message> at <path>`) rewritten to name the argument
 * first, as the other errors do: `run_id: expected string, received
 * number; unknown argument "colour"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toolErrorText } from "./mcp.ts";
 *
 * assert.equal(
 *   toolErrorText(
 *     "MCP error -32602: Input validation error: Invalid arguments for tool get_run: " +
 *       "Invalid input: expected string, received undefined at run_id\n" +
 *       'Unrecognized key: "colour"',
 *   ),
 *   'run_id: required (expected string); unknown argument "colour"',
 * );
 * ```
 */
export function toolErrorText(text: string): string {
  const invalid = SDK_INVALID.exec(text);
  if (!invalid) return oneLine(text);
  return oneLine(
    invalid[1].split("\n").filter((l) => l.trim() !== "").map((line) => {
      const at = / at ([\w.[\]-]+)$/.exec(line);
      const message = (at ? line.slice(0, at.index) : line).trim()
        .replace(/^Invalid input: /, "")
        .replace(
          /^expected (\w+), received undefined$/,
          "required (expected $1)",
        )
        .replace(
          /^Unrecognized keys?: /,
          (k) =>
            k.includes("keys") ? "unknown arguments " : "unknown argument ",
        )
        .replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
      return at ? `${at[1]}: ${message}` : message;
    }).join("\n"),
  );
}

/**
 * The transport, with tool errors made one line naming the argument
 * ({@link toolErrorText}): the SDK's own validation message holds one
 * line per invalid argument.
 */
class OneLineErrorTransport extends StreamableHTTPTransport {
  override send(
    message: JSONRPCMessage,
    options?: { relatedRequestId?: RequestId },
  ): Promise<void> {
    const result = (message as { result?: CallToolResult }).result;
    if (result?.isError && Array.isArray(result.content)) {
      result.content = result.content.map((
        c: CallToolResult["content"][number],
      ) => c.type === "text" ? { ...c, text: toolErrorText(c.text) } : c);
    }
    return super.send(message, options);
  }
}

/** A job as the tools show it. */
function jobView(r: JobRecord) {
  return {
    run_id: r.id,
    kind: r.kind,
    status: r.status,
    submitted_at: r.submittedAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    step: r.step,
    steps: r.steps,
    progress: r.progress,
    counts: r.counts,
    error: r.error,
    folder: r.dir,
    status_url: `/runs/${encodeURIComponent(r.id)}`,
    next: r.status === "succeeded"
      ? r.kind === "run"
        ? "run_summary, data_quality and explain_facility read this run"
        : "the movement's files are in its folder"
      : r.status === "queued" || r.status === "running"
      ? "call get_run again in a few seconds"
      : r.status === "failed" && r.kind === "run"
      ? "data_quality shows the data-quality report when validation ran"
      : null,
  };
}

/** A job as `get_run`, `start_run` and `start_movement` return it. */
export type JobView = ReturnType<typeof jobView>;

/** What `list_runs` returns. */
export interface RunList {
  /** Jobs the server knows. */
  total: number;
  /** Jobs listed (at most `limit`). */
  shown: number;
  /** The jobs, newest first. */
  runs: {
    run_id: string;
    kind: JobRecord["kind"];
    status: JobRecord["status"];
    submitted_at: string;
    finished_at: string | null;
    step: string | null;
    error: string | null;
  }[];
}

/**
 * The folder of a run a read tool names: a run of the registry (which must
 * have succeeded, or, with `failedToo`, failed with a folder), else a run
 * folder `<outDir>/<run_id>` written outside the server (`deno task run`).
 */
async function runFolderOf(
  deps: ServerDeps,
  runId: string,
  { failedToo = false } = {},
): Promise<string> {
  const r = deps.registry.get(runId);
  if (r !== undefined) {
    if (r.kind !== "run") {
      throw new UserError(
        "input",
        `run_id: ${runId} is a movement, not a run; get_run shows it`,
      );
    }
    switch (r.status) {
      case "queued":
      case "running":
        throw new UserError(
          "input",
          `run_id: run ${runId} is ${r.status}${
            r.step ? ` (step ${r.step})` : ""
          }; its figures can be read once it has succeeded: follow it with get_run`,
        );
      case "interrupted":
        throw new UserError(
          "input",
          `run_id: run ${runId} was interrupted (the server stopped while it ran or waited); start it again with start_run`,
        );
      case "failed":
        if (failedToo && r.dir) return r.dir;
        throw new UserError(
          "input",
          `run_id: run ${runId} failed${r.error ? `: ${r.error.message}` : ""}${
            failedToo
              ? ""
              : "; data_quality shows its data-quality report when validation ran"
          }`,
        );
      case "succeeded":
        if (r.dir) return r.dir;
    }
  }
  const where = { roots: [], outDir: deps.config.outDir };
  const found = async (name: string) => {
    try {
      return await resolveRunFolder("run_id", name, where);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return null;
    }
  };
  const dir = await found(runId);
  if (dir !== null) return dir;
  const failed = await found(runId + FAILED_SUFFIX);
  if (failed !== null) {
    if (failedToo) return failed;
    const why = await failureOf(failed);
    throw new UserError(
      "input",
      `run_id: run ${runId} failed (${failed})${
        why ? `: ${why}` : ""
      }; data_quality shows its data-quality report when validation ran`,
    );
  }
  throw new UserError(
    "input",
    `run_id: no run ${runId} in the server's registry or in ${deps.config.outDir}; list_runs lists the runs`,
  );
}

/** The first line of a failed run's `manifest.json` error, if it can be read. */
async function failureOf(dir: string): Promise<string | null> {
  try {
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, RUN_FILES.manifest)),
    );
    return typeof manifest.error === "string"
      ? manifest.error.split("\n")[0]
      : null;
  } catch {
    return null;
  }
}

/** Options of {@link createMcpServer} and {@link mcpApp}. */
export interface McpOptions {
  /**
   * Where `explain_facility` computes: one at a time, off the request
   * loop (explainer.ts). `mcpApp` makes one for all its requests.
   * @default createFacilityExplainer()
   */
  explainer?: FacilityExplainer;
}

/** The SDK's per-call extra, as far as the tools read it. */
interface ToolExtra {
  authInfo?: Pick<RequestAuth, "scopes" | "clientId">;
}

/**
 * A fresh MCP server with the tools (module doc) over `deps`. One per
 * request: the door is stateless. Give every request's server the same
 * `explainer` (as {@link mcpApp} does): a fresh one each time would lift
 * the one-explanation-at-a-time limit and forget the remembered hashes.
 */
export function createMcpServer(
  deps: ServerDeps,
  { explainer = createFacilityExplainer() }: McpOptions = {},
): McpServer {
  const server = new McpServer(MCP_SERVER_INFO, {
    instructions: INSTRUCTIONS,
    capabilities: { tools: {} },
  });

  /** Registers a tool whose handler runs only with the scope, and fails in one line. */
  const tool = <K extends keyof typeof TOOL_INPUTS>(
    name: K,
    handler: (args: z.infer<typeof TOOL_INPUTS[K]>) => Promise<object>,
  ) => {
    const scope = TOOL_SCOPES[name];
    const readOnly = scope === "runs:read";
    server.registerTool(
      name,
      {
        description: DESCRIPTIONS[name],
        // deno-lint-ignore no-explicit-any
        inputSchema: TOOL_INPUTS[name] as any,
        annotations: {
          readOnlyHint: readOnly,
          destructiveHint: false,
          idempotentHint: readOnly,
          openWorldHint: false,
        },
      },
      async (args: unknown, extra: ToolExtra): Promise<CallToolResult> => {
        const started = performance.now();
        const auth = extra.authInfo;
        const log = (status: string, fields: Record<string, unknown> = {}) =>
          deps.logger.info("mcp_tool", {
            tool: name,
            status,
            client: auth?.clientId ?? null,
            ms: Math.round(performance.now() - started),
            ...fields,
          });
        if (auth === undefined) {
          log("refused");
          return toolError(
            `${name}: refused: the request carries no verified credentials (the /mcp door must sit behind the server's bearer authentication)`,
          );
        }
        if (!hasScope(auth.scopes, scope)) {
          log("refused");
          return toolError(
            `${name}: refused: needs the ${scope} scope; the token grants ${
              auth.scopes.join(" ") || "no scope"
            }`,
          );
        }
        try {
          const result = await handler(
            args as z.infer<typeof TOOL_INPUTS[K]>,
          );
          log("ok");
          return ok(result);
        } catch (e) {
          if (e instanceof UserError || e instanceof JobRefusedError) {
            log("error", { error: oneLine(e.message) });
            return toolError(e.message);
          }
          // The log line carries the stack (the logger writes an error's
          // name, message and stack); the agent gets one line.
          deps.logger.error("mcp_tool_failed", {
            tool: name,
            client: auth.clientId,
            error: e,
          });
          return toolError(
            `${name}: internal error (${
              e instanceof Error ? e.message : String(e)
            }); the server log has the details`,
          );
        }
      },
    );
  };

  tool("start_run", async (args) => {
    const request = await runRequestFor(deps.config, args);
    const record = await submit(
      () => deps.queue.submit("run", request),
      "run_id",
    );
    return jobView(record);
  });

  tool("start_movement", async (args) => {
    const request = await movementRequestFor(deps.config, args);
    const record = await submit(
      () => deps.queue.submit("movement", request),
      "movement_id",
    );
    return jobView(record);
  });

  tool("get_run", (args) => {
    const r = deps.registry.get(args.run_id);
    if (r === undefined) {
      throw new UserError(
        "input",
        `run_id: no run or movement ${args.run_id} in the server's registry; list_runs lists them`,
      );
    }
    return Promise.resolve(jobView(r));
  });

  tool("list_runs", (args) => {
    const all = deps.registry.list();
    const limit = args.limit ?? 20;
    return Promise.resolve<RunList>({
      total: all.length,
      shown: Math.min(limit, all.length),
      runs: all.slice(0, limit).map((r) => ({
        run_id: r.id,
        kind: r.kind,
        status: r.status,
        submitted_at: r.submittedAt,
        finished_at: r.finishedAt,
        step: r.step,
        error: r.error?.message ?? null,
      })),
    });
  });

  tool(
    "run_summary",
    async (args) => summaryWorkings(await runFolderOf(deps, args.run_id)),
  );

  tool("data_quality", async (args) =>
    dataQualityWorkings(
      await runFolderOf(deps, args.run_id, { failedToo: true }),
    ));

  tool("explain_facility", async (args) =>
    explainer.explain(
      await runFolderOf(deps, args.run_id),
      args.loan_id,
      args.max_periods === undefined ? {} : { maxPeriods: args.max_periods },
    ));

  return server;
}

/** A submit whose refusal (409, 429) is a tool error naming the field. */
async function submit(
  fn: () => Promise<JobRecord>,
  field: string,
): Promise<JobRecord> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof JobRefusedError) {
      throw new JobRefusedError(
        e.status,
        e.status === 409 ? `${field}: ${e.message}` : e.message,
      );
    }
    throw e;
  }
}

/** A JSON-RPC error response of the door itself (no request id known). */
function rpcError(status: 405 | 413, message: string, headers = {}): Response {
  return Response.json(
    { jsonrpc: "2.0", error: { code: -32000, message }, id: null },
    { status, headers },
  );
}

/**
 * The MCP door as a Hono sub-app: `POST /` takes JSON-RPC messages
 * (at most {@link MCP_BODY_LIMIT} bytes) and answers as `text/event-stream`;
 * GET and DELETE are 405 (stateless: no session to stream or end).
 * `createApp` mounts it at `/mcp` behind `bearerAuth`, which must let a
 * `runs:read` token through (the tools check their own scopes).
 *
 * @param deps The server's parts: the registry and queue the tools use,
 *   the config (roots, output folder), the logger.
 * @param options.explainer Where `explain_facility` computes (default: a
 *   new one, in worker threads, one at a time, for all this app's requests).
 */
export function mcpApp(deps: ServerDeps, options: McpOptions = {}): Hono {
  // One explainer for every request: its limit and its remembered hashes
  // are the server's, not one request's.
  const explainer = options.explainer ?? createFacilityExplainer();
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({
      maxSize: MCP_BODY_LIMIT,
      onError: () =>
        rpcError(
          413,
          `Request too large: an MCP request body is at most ${MCP_BODY_LIMIT} bytes`,
        ),
    }),
    async (c) => {
      const server = createMcpServer(deps, { explainer });
      const transport = new OneLineErrorTransport();
      await server.connect(transport);
      try {
        const res = await transport.handleRequest(c);
        return res ?? c.body(null, 202);
      } catch (e) {
        // The transport's protocol errors (bad JSON, wrong Accept or
        // Content-Type) carry their JSON-RPC answer: keep it.
        if (e instanceof HTTPException && e.res) {
          await server.close();
          return e.getResponse();
        }
        throw e;
      }
    },
  );
  app.on(
    ["GET", "DELETE"],
    "/",
    () =>
      rpcError(
        405,
        "Method not allowed: this MCP endpoint is stateless; POST JSON-RPC messages to it",
        { Allow: "POST" },
      ),
  );
  return app;
}
