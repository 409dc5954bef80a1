/**
 * The run server's HTTP app: `createApp(deps)` routes, authenticates and
 * validates, and nothing else. Runs and movements go to `deps.queue`, which
 * executes them off the request loop; what the app answers about them
 * comes from `deps.registry`.
 *
 * | route | auth | what |
 * |---|---|---|
 * | `GET /healthz` | none | 200 `{"status":"ok"}` while the process lives; touches no disk |
 * | `GET /readyz` | none | 200 when the default rules file loads and the output folders are writable, else 503 with the reasons |
 * | `GET /metrics` | none | Prometheus text (`deps.metrics`) |
 * | `GET /openapi.json`, `GET /docs` | none | this table, generated from the routes' own schemas |
 * | `POST /runs` | `runs:write` | starts a run: 202 `{ run_id, status_url }` |
 * | `GET /runs`, `GET /runs/:id` | `runs:read` | the runs (newest first, without summaries), one run |
 * | `GET /runs/:id/report`, `GET /runs/:id/files/:name` | `runs:read` | the run folder's page, one of its files |
 * | `POST /movements` | `runs:write` | a movement between two runs: 202 `{ movement_id, status_url }` |
 * | `GET /movements`, `GET /movements/:id`, `GET /movements/:id/files/:name` | `runs:read` | the same for movements |
 * | `/mcp` | `runs:read` (tools that start jobs check `runs:write`) | the Model Context Protocol door (`mcp.ts`) |
 *
 * A request body is a JSON object of at most 64 KiB (413 beyond, by its
 * `Content-Length` and by the bytes actually sent), checked against a
 * strict schema (an unknown field is a 400 naming it); the paths it names
 * are checked by `paths.ts` before anything is queued. Every error is one
 * JSON shape, `{ "error": { "status", "message" } }`, from one handler: a
 * message names the field or the id at fault; an unexpected error is a
 * 500 naming only the request id, its stack going to the log.
 *
 * Every request gets an `X-Request-Id` (the client's, when it is a safe
 * token, else a new UUID), one JSON log line and one observation in
 * `deps.metrics` under its route pattern (`/runs/:id`, never the raw path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 * import type { ServerDeps } from "./types.ts";
 *
 * // Only the health probe is used here: the other parts are not needed.
 * const app = createApp({
 *   config: { jwtSecret: "s".repeat(32), rateLimitPerMinute: 60 },
 *   logger: { info() {}, warn() {}, error() {} },
 *   metrics: { observeRequest() {} },
 * } as unknown as ServerDeps);
 * const res = await app.request("/healthz");
 * assert.equal(res.status, 200);
 * assert.deepEqual(await res.json(), { status: "ok" });
 * assert.match(res.headers.get("X-Request-Id") ?? "", /^[0-9a-f-]{36}$/);
 * ```
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { page, section, table } from "../page.ts";
import { loadRules } from "../rules.ts";
import {
  FAILED_SUFFIX,
  MOVEMENT_FILES,
  RUN_FILES,
  RUN_ID,
} from "../run_folder/mod.ts";
import {
  type AuthVariables,
  bearerAuth,
  httpError,
  rateLimit,
  type Scope,
} from "./auth.ts";
import { requestLog, routePattern } from "./log.ts";
import { JOB_RECORD_FIELDS } from "./job_schema.ts";
import { mcpApp } from "./mcp.ts";
import { movementRequestFor, rootFolder, runRequestFor } from "./paths.ts";
import {
  type JobKind,
  type JobRecord,
  JobRefusedError,
  type ServerDeps,
} from "./types.ts";

/** The largest request body accepted, in bytes (64 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Seconds a client is told to wait when the queue is full or stopping. */
export const QUEUE_RETRY_AFTER_SECONDS = 30;

/** The longest run id or movement id accepted (a folder name, with room for suffixes). */
export const MAX_ID_LENGTH = 128;

/**
 * The app's Hono environment: the context variables its middleware set
 * (`auth` and `subject` by the auth middleware, `requestId`).
 */
type AppEnv = { Variables: AuthVariables & { requestId: string } };

/**
 * The run server's app as a door uses it (a Hono app: `createApp` builds
 * an `OpenAPIHono`, whose other methods a caller does not need).
 */
export interface ServerApp {
  /** Answers one request: what `Deno.serve(app.fetch)` calls. */
  fetch(
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ): Response | Promise<Response>;
  /** Answers a request in memory, without a socket (tests). */
  request(
    input: string | Request | URL,
    init?: RequestInit,
  ): Response | Promise<Response>;
  /** Every route and middleware pattern served, by method and path. */
  readonly routes: readonly { method: string; path: string }[];
}

// ---------------------------------------------------------------- schemas

/** The one error shape of every route. */
const ErrorSchema = z.object({
  error: z.object({
    status: z.number().int().openapi({ example: 400 }),
    message: z.string().openapi({
      example: "portfolio: data/x.csv: no such file",
    }),
  }),
}).openapi("Error");

/** What each error status means, for the document. */
const ERROR_MEANING: Record<number, string> = {
  400:
    "the request is malformed: a body, a field or a path is wrong (the message names it)",
  401:
    "no token, or a token that is malformed, expired, badly signed, of another algorithm or without exp",
  403: "the token lacks the scope the route needs",
  404: "no such job, file or route",
  409: "the id is in use (a job or a folder)",
  413: `the body is larger than ${MAX_BODY_BYTES} bytes`,
  415: "the body is not sent as application/json",
  429: "too many requests (rate limit) or a full queue; see Retry-After",
  500:
    "an unexpected error; the message names the request id to look for in the log",
  503: "not ready, or shutting down",
};

/** Error responses of a route, each with the shared schema. */
function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, {
    description: ERROR_MEANING[s],
    content: { "application/json": { schema: ErrorSchema } },
  }]));
}

/** A path a request names (module doc of `paths.ts`). */
const PathField = (description: string, example: string) =>
  z.string().min(1).max(4096).openapi({ description, example });

/** A run id or movement id: a folder name (`RUN_ID` of lib/run_folder/write.ts). */
const IdField = (what: string) =>
  z.string().max(MAX_ID_LENGTH).regex(
    RUN_ID,
    `a ${what} uses letters, digits, '.', '_' and '-', not starting with '.'`,
  ).refine((id) => !id.endsWith(FAILED_SUFFIX), {
    message: `a ${what} cannot end in ${FAILED_SUFFIX} (it marks failed runs)`,
  }).openapi({ example: "portfolio_2025-12-31" });

const RunBody = z.strictObject({
  portfolio: PathField(
    "The portfolio file (CSV, Parquet, Arrow IPC), under a data root; relative to the project or absolute",
    "data/sample/portfolio_2025-12-31.parquet",
  ),
  rules: PathField(
    "The rules file, under a data root or a rules root; the server's default when absent",
    "config/sample_rules.yaml",
  ).optional(),
  fx: PathField(
    "The FX table, under a data root or a rules root; found beside the portfolio or in config/ when absent",
    "config/fx_rates.yaml",
  ).optional(),
  run_id: IdField("run id").optional().openapi({
    description:
      "The run's id, its folder's name; a clock id (run-YYYYMMDDTHHMMSSmmmZ) when absent",
  }),
}).openapi("RunRequest");

const MovementBody = z.strictObject({
  from: z.string().min(1).max(4096).openapi({
    description:
      "The earlier run: a run id of the server's runs, or a run folder's path under a data root",
    example: "portfolio_2025-09-30",
  }),
  to: z.string().min(1).max(4096).openapi({
    description: "The later run, the same way",
    example: "portfolio_2025-12-31",
  }),
  movement_id: IdField("movement id").optional().openapi({
    description:
      "The movement's id, its folder's name; a clock id (movement-YYYYMMDDTHHMMSSmmmZ) when absent",
  }),
}).openapi("MovementRequest");

const RunAccepted = z.object({
  run_id: z.string(),
  status_url: z.string().openapi({ example: "/runs/portfolio_2025-12-31" }),
}).openapi("RunAccepted");

const MovementAccepted = z.object({
  movement_id: z.string(),
  status_url: z.string().openapi({ example: "/movements/movement-q4" }),
}).openapi("MovementAccepted");

const JobRecordSchema = z.object({
  ...JOB_RECORD_FIELDS,
  summary: z.record(z.string(), z.unknown()).nullable().optional().openapi({
    description: "The run's summary.json once succeeded; left out of lists",
  }),
}).openapi("JobRecord");

const IdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" } }),
});

const FileParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" } }),
  name: z.string().openapi({ param: { name: "name", in: "path" } }),
});

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({
    param: { name: "limit", in: "query" },
    description: "At most this many jobs, newest first (default 100)",
  }),
});

/** The security requirement of a route needing `scope`. */
const bearer = (scope: Scope) => [{ bearer: [scope] }];

/**
 * A route that starts a job: a JSON body of at most
 * {@link MAX_BODY_BYTES}, `runs:write`, 202 with the status URL.
 */
function startRoute<
  P extends "/runs" | "/movements",
  B extends z.ZodType,
  A extends z.ZodType,
>(path: P, summary: string, body: B, accepted: A) {
  return createRoute({
    method: "post",
    path,
    summary,
    security: bearer("runs:write"),
    middleware: [jsonBody(MAX_BODY_BYTES)] as const,
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: body } },
      },
    },
    responses: {
      202: {
        ...json(accepted, "queued; follow status_url"),
        headers: z.object({
          Location: z.string().openapi({ description: "the status URL" }),
        }),
      },
      ...errors(400, 401, 403, 409, 413, 415, 429, 500, 503),
    },
  });
}

// ----------------------------------------------------------------- routes

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const routes = {
  healthz: createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness: 200 while the process lives",
    responses: {
      200: json(z.object({ status: z.literal("ok") }), "alive"),
      ...errors(500),
    },
  }),
  readyz: createRoute({
    method: "get",
    path: "/readyz",
    summary:
      "Readiness: the default rules file loads and the output folders are writable",
    responses: {
      200: json(
        z.object({ status: z.literal("ready"), reasons: z.array(z.string()) }),
        "ready",
      ),
      503: json(
        z.object({
          status: z.literal("not ready"),
          reasons: z.array(z.string()),
        }),
        "not ready, with every reason",
      ),
      ...errors(500),
    },
  }),
  metrics: createRoute({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text exposition format)",
    responses: {
      200: {
        description: "the metrics",
        content: { "text/plain": { schema: z.string() } },
      },
      ...errors(500),
    },
  }),
  openapi: createRoute({
    method: "get",
    path: "/openapi.json",
    summary: "This document (OpenAPI 3.1)",
    responses: {
      200: json(z.record(z.string(), z.unknown()), "the document"),
      ...errors(500),
    },
  }),
  docs: createRoute({
    method: "get",
    path: "/docs",
    summary: "The routes of this document as a page",
    responses: {
      200: {
        description: "an HTML page",
        content: { "text/html": { schema: z.string() } },
      },
      ...errors(500),
    },
  }),
  startRun: startRoute(
    "/runs",
    "Start a run: validate, stage, compute and write a run folder",
    RunBody,
    RunAccepted,
  ),
  listRuns: createRoute({
    method: "get",
    path: "/runs",
    summary: "The runs, newest first, without their summaries",
    security: bearer("runs:read"),
    request: { query: ListQuery },
    responses: {
      200: json(z.object({ runs: z.array(JobRecordSchema) }), "the runs"),
      ...errors(400, 401, 403, 429, 500),
    },
  }),
  getRun: createRoute({
    method: "get",
    path: "/runs/{id}",
    summary:
      "One run: status, step timings, progress, counts, the summary when done, the error when failed",
    security: bearer("runs:read"),
    request: { params: IdParam },
    responses: {
      200: json(JobRecordSchema, "the run"),
      ...errors(401, 403, 404, 429, 500),
    },
  }),
  runReport: createRoute({
    method: "get",
    path: "/runs/{id}/report",
    summary: "The run's report page (report.html)",
    security: bearer("runs:read"),
    request: { params: IdParam },
    responses: {
      200: {
        description: "the page",
        content: { "text/html": { schema: z.string() } },
      },
      ...errors(401, 403, 404, 429, 500),
    },
  }),
  runFile: createRoute({
    method: "get",
    path: "/runs/{id}/files/{name}",
    summary: `A file of the run folder: ${Object.values(RUN_FILES).join(", ")}`,
    security: bearer("runs:read"),
    request: { params: FileParam },
    responses: {
      200: {
        description: "the file, streamed",
        content: {
          "application/vnd.apache.parquet": { schema: z.string() },
          "application/json": { schema: z.record(z.string(), z.unknown()) },
          "text/html": { schema: z.string() },
        },
      },
      ...errors(401, 403, 404, 429, 500),
    },
  }),
  startMovement: startRoute(
    "/movements",
    "Compute the movement between two finished runs (IFRS 7 §35H-§35I)",
    MovementBody,
    MovementAccepted,
  ),
  listMovements: createRoute({
    method: "get",
    path: "/movements",
    summary: "The movements, newest first",
    security: bearer("runs:read"),
    request: { query: ListQuery },
    responses: {
      200: json(
        z.object({ movements: z.array(JobRecordSchema) }),
        "the movements",
      ),
      ...errors(400, 401, 403, 429, 500),
    },
  }),
  getMovement: createRoute({
    method: "get",
    path: "/movements/{id}",
    summary: "One movement: status, timings, the error when failed",
    security: bearer("runs:read"),
    request: { params: IdParam },
    responses: {
      200: json(JobRecordSchema, "the movement"),
      ...errors(401, 403, 404, 429, 500),
    },
  }),
  movementFile: createRoute({
    method: "get",
    path: "/movements/{id}/files/{name}",
    summary: `A file of the movement folder: ${
      Object.values(MOVEMENT_FILES).join(", ")
    }`,
    security: bearer("runs:read"),
    request: { params: FileParam },
    responses: {
      200: {
        description: "the file, streamed",
        content: {
          "application/vnd.apache.parquet": { schema: z.string() },
          "application/json": { schema: z.record(z.string(), z.unknown()) },
          "text/html": { schema: z.string() },
        },
      },
      ...errors(401, 403, 404, 429, 500),
    },
  }),
};

// ------------------------------------------------------------- middleware

/**
 * Middleware admitting a JSON body of at most `maxBytes`: 413 when the
 * declared `Content-Length` is larger (before reading anything) or when
 * the bytes sent are (counted while reading, so a missing or false length
 * does not help); 415 when it is not `application/json`; 400 when it is
 * empty or not JSON. Hono's `bodyLimit` trusts a `Content-Length` it is
 * given, which only the HTTP server's framing makes true, so the bytes are
 * counted here whatever the header says.
 */
function jsonBody(maxBytes: number): MiddlewareHandler {
  return async function jsonBody(c, next) {
    const tooLarge = () =>
      httpError(
        413,
        `request body: larger than ${maxBytes} bytes (${
          maxBytes / 1024
        } KiB); send the paths of the files, not their content`,
      );
    const declared = c.req.header("Content-Length");
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
    const type = c.req.header("Content-Type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw httpError(
        415,
        `request body: send it as Content-Type: application/json${
          type ? `, not ${type.slice(0, 100)}` : ""
        }`,
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (c.req.raw.body !== null) {
      const reader = c.req.raw.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > maxBytes) {
          await reader.cancel();
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    const text = new TextDecoder().decode(bytes);
    if (text.trim() === "") {
      throw httpError(400, "request body: empty; send a JSON object");
    }
    try {
      JSON.parse(text);
    } catch (e) {
      throw httpError(
        400,
        `request body: not valid JSON (${(e as Error).message.slice(0, 200)})`,
      );
    }
    // The validator reads the body again, from the bytes already counted.
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}

/** Middleware reporting every request to the metrics under its route pattern. */
function observeRequests(deps: ServerDeps): MiddlewareHandler {
  return async function observeRequests(c, next) {
    const start = performance.now();
    await next();
    deps.metrics.observeRequest(
      routePattern(c),
      c.req.method,
      c.res.status,
      (performance.now() - start) / 1000,
    );
  };
}

/** Middleware marking every response when auth is off on purpose. */
function authDisabledHeader(): MiddlewareHandler {
  return async function authDisabledHeader(c, next) {
    // Set before the handler: Hono carries it onto whatever response the
    // request ends with, an error's included.
    c.header("X-IFRS9-Auth", "disabled");
    await next();
  };
}

// ---------------------------------------------------------------- helpers

/** `body.portfolio: expected string, received number; body: unknown field foo`. */
function issuesMessage(
  target: string,
  issues: readonly z.core.$ZodIssue[],
): string {
  const where = (path: readonly PropertyKey[]) =>
    [target === "json" ? "body" : target, ...path.map(String)].join(".");
  const text = issues.map((i) =>
    i.code === "unrecognized_keys"
      ? `${where(i.path)}: unknown field${i.keys.length > 1 ? "s" : ""} ${
        i.keys.map((k) => JSON.stringify(k)).join(", ")
      }`
      : `${where(i.path)}: ${i.message}`
  ).join("; ");
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}

/** Whether `dir` can take a new file: creates and removes a probe file. */
async function writableProblem(
  what: string,
  dir: string,
): Promise<string | null> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = await Deno.makeTempFile({ dir, prefix: ".readyz-" });
    await Deno.remove(probe);
    return null;
  } catch (e) {
    return `${what} ${dir} is not writable: ${(e as Error).message}`;
  }
}

/** The content type of a file of a run or movement folder. */
function contentType(name: string): string {
  if (name.endsWith(".parquet")) return "application/vnd.apache.parquet";
  if (name.endsWith(".json")) return "application/json; charset=utf-8";
  if (name.endsWith(".html")) return "text/html; charset=utf-8";
  return "application/octet-stream";
}

/** A job list without summaries, newest first, at most `limit`. */
function listJobs(deps: ServerDeps, kind: JobKind, limit = 100): JobRecord[] {
  return deps.registry.list().filter((r) => r.kind === kind).slice(0, limit)
    .map(({ summary: _summary, ...rest }) => rest as JobRecord);
}

/** A job record as its response schema types it (its summary is JSON). */
function asJson(record: JobRecord): z.infer<typeof JobRecordSchema> {
  return record as unknown as z.infer<typeof JobRecordSchema>;
}

/** The job `id` of `kind`, or a 404 naming it. */
function jobOr404(deps: ServerDeps, kind: JobKind, id: string): JobRecord {
  const record = deps.registry.get(id);
  if (record === undefined || record.kind !== kind) {
    throw httpError(404, `no ${kind} ${JSON.stringify(id.slice(0, 200))}`);
  }
  return record;
}

/**
 * Streams the file `name` of a job's folder: only names of the folder's
 * layout (`files`), only regular files (not a link planted there).
 */
async function serveJobFile(
  c: Context,
  record: JobRecord,
  name: string,
  files: readonly string[],
): Promise<Response> {
  const what = `${record.kind} ${record.id}`;
  if (!files.includes(name)) {
    throw httpError(
      404,
      `${what} has no file ${
        JSON.stringify(name.slice(0, 200))
      }; its files are ${files.join(", ")}`,
    );
  }
  if (record.dir === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(record.dir)) {
    throw httpError(
      404,
      `${what} has no ${name} (status ${record.status}${
        record.dir === null ? ", no folder yet" : ", not a local folder"
      })`,
    );
  }
  const path = join(record.dir, name);
  let file: Deno.FsFile;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile) throw new Deno.errors.NotFound();
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw httpError(404, `${what} has no ${name} (status ${record.status})`);
  }
  const { size } = await file.stat();
  const headers = {
    "Content-Type": contentType(name),
    "Content-Length": String(size),
    ...(name.endsWith(".parquet")
      ? { "Content-Disposition": `attachment; filename="${name}"` }
      : {}),
  };
  if (c.req.method === "HEAD") {
    // Hono drops a HEAD answer's body unread: the file would stay open.
    file.close();
    return c.body(null, 200, headers);
  }
  return c.body(file.readable, 200, headers);
}

// -------------------------------------------------------------------- app

/**
 * The run server's HTTP app (module doc): routes, auth, validation, logs
 * and metrics over `deps`. Serve it with `Deno.serve(app.fetch)`; test it
 * with `app.request()`.
 *
 * @param deps The configuration, and the registry, queue, metrics and
 *   logger the app works with.
 */
export function createApp(deps: ServerDeps): ServerApp {
  const { config, logger } = deps;
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw httpError(400, issuesMessage(result.target, result.error.issues));
      }
    },
  });
  const docConfig = {
    openapi: "3.1.0",
    info: {
      title: "IFRS 9 run server",
      version: "1",
      description:
        "Start IFRS 9 expected-credit-loss runs and movements and follow them. Routes under /runs, /movements and /mcp need a bearer JWT (HS256) whose scope claim holds runs:read (to read) or runs:write (to start, implies runs:read).",
    },
  };
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "HS256 JWT with exp and a space-separated scope claim (runs:read, runs:write); mint one with deno task token",
  });

  app.use(requestId());
  app.use(requestLog({ logger }));
  app.use(observeRequests(deps));
  app.use(secureHeaders());
  if (config.jwtSecret === null) app.use(authDisabledHeader());
  const limiter = rateLimit({ limit: config.rateLimitPerMinute });
  for (const path of ["/runs/*", "/movements/*"]) {
    app.use(path, bearerAuth({ secret: config.jwtSecret }), limiter);
  }
  // MCP clients POST every call; a tool that starts a job checks
  // runs:write itself (`c.get("auth")` reaches it as `extra.authInfo`).
  // (`/mcp/*` matches `/mcp` itself too: one pattern, so one check.)
  app.use(
    "/mcp/*",
    bearerAuth({ secret: config.jwtSecret, scopeFor: () => "runs:read" }),
    limiter,
  );

  app.onError((err, c) => {
    let status: ContentfulStatusCode = 500;
    let message = "";
    const headers: Record<string, string> = {};
    if (err instanceof JobRefusedError) {
      status = err.status;
      message = err.message;
      if (status === 429 || status === 503) {
        headers["Retry-After"] = String(QUEUE_RETRY_AFTER_SECONDS);
      }
    } else if (err instanceof HTTPException && err.status < 500) {
      status = err.status as ContentfulStatusCode;
      message = err.message || "request refused";
      err.res?.headers.forEach((value, key) => {
        if (!/^content-(type|length)$/i.test(key)) headers[key] = value;
      });
    } else if (
      err instanceof UserError &&
      (err.kind === "usage" || err.kind === "input" || err.kind === "busy")
    ) {
      status = err.kind === "busy" ? 409 : 400;
      message = err.message;
    }
    if (message === "") {
      const id = c.get("requestId");
      logger.error("unhandled_error", {
        request_id: id,
        method: c.req.method,
        route: routePattern(c),
        error: err,
      });
      message =
        `internal error; the server log has the details under request id ${id}`;
    }
    return c.json({ error: { status, message } }, status, headers);
  });
  app.notFound((c) =>
    c.json(
      {
        error: {
          status: 404,
          message: `no route ${c.req.method} ${
            c.req.path.slice(0, 200)
          }; GET /docs lists the routes`,
        },
      },
      404,
    )
  );

  // Probes and metrics: no auth (schedulers and Prometheus call them).
  app.openapi(routes.healthz, (c) => c.json({ status: "ok" as const }, 200));

  app.openapi(routes.readyz, async (c) => {
    const reasons: string[] = [];
    try {
      await loadRules(rootFolder(config.defaultRules));
    } catch (e) {
      reasons.push(
        `default rules file ${config.defaultRules} does not load: ${
          (e as Error).message.slice(0, 500)
        }`,
      );
    }
    for (
      const [what, dir] of [
        ["output folder", config.outDir],
        ["movement folder", config.movementDir],
      ] as const
    ) {
      const problem = await writableProblem(what, rootFolder(dir));
      if (problem) reasons.push(problem);
    }
    return reasons.length === 0
      ? c.json({ status: "ready" as const, reasons }, 200)
      : c.json({ status: "not ready" as const, reasons }, 503);
  });

  app.openapi(routes.metrics, async (c) => {
    deps.metrics.setQueueDepth(deps.queue.depth());
    const { contentType, body } = await deps.metrics.render();
    return c.text(body, 200, { "Content-Type": contentType });
  });

  app.openapi(routes.openapi, (c) => c.json(document(), 200));

  app.openapi(
    routes.docs,
    (c) => c.html(docsPage(document() as unknown as DocPaths), 200),
  );

  // Runs.
  app.openapi(routes.startRun, async (c) => {
    const request = await runRequestFor(config, c.req.valid("json"));
    await deps.queue.submit("run", request);
    const runId = request.runId;
    const statusUrl = `/runs/${encodeURIComponent(runId)}`;
    return c.json({ run_id: runId, status_url: statusUrl }, 202, {
      Location: statusUrl,
    });
  });

  app.openapi(routes.listRuns, (c) =>
    c.json(
      { runs: listJobs(deps, "run", c.req.valid("query").limit).map(asJson) },
      200,
    ));

  app.openapi(
    routes.getRun,
    (c) => c.json(asJson(jobOr404(deps, "run", c.req.valid("param").id)), 200),
  );

  app.openapi(routes.runReport, async (c) => {
    const record = jobOr404(deps, "run", c.req.valid("param").id);
    return await serveJobFile(c, record, RUN_FILES.report, [RUN_FILES.report]);
  });

  app.openapi(routes.runFile, async (c) => {
    const { id, name } = c.req.valid("param");
    const record = jobOr404(deps, "run", id);
    return await serveJobFile(c, record, name, Object.values(RUN_FILES));
  });

  // Movements.
  app.openapi(routes.startMovement, async (c) => {
    const request = await movementRequestFor(config, c.req.valid("json"));
    await deps.queue.submit("movement", request);
    const movementId = request.movementId;
    const statusUrl = `/movements/${encodeURIComponent(movementId)}`;
    return c.json({ movement_id: movementId, status_url: statusUrl }, 202, {
      Location: statusUrl,
    });
  });

  app.openapi(routes.listMovements, (c) =>
    c.json(
      {
        movements: listJobs(deps, "movement", c.req.valid("query").limit)
          .map(asJson),
      },
      200,
    ));

  app.openapi(
    routes.getMovement,
    (c) =>
      c.json(asJson(jobOr404(deps, "movement", c.req.valid("param").id)), 200),
  );

  app.openapi(routes.movementFile, async (c) => {
    const { id, name } = c.req.valid("param");
    const record = jobOr404(deps, "movement", id);
    return await serveJobFile(c, record, name, Object.values(MOVEMENT_FILES));
  });

  // The Model Context Protocol door, behind the same auth (above). It is a
  // plain Hono sub-app (`mcp.ts`), so its routes are documented here: POST
  // carries every JSON-RPC message; the door is stateless, so GET (a
  // session's event stream) and DELETE (ending a session) are 405.
  const mcpSummary =
    "Model Context Protocol (streamable HTTP): tools to start and follow runs and movements and read their figures with their workings";
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/mcp",
    summary: mcpSummary,
    security: bearer("runs:read"),
    responses: {
      200: { description: "the JSON-RPC answer, as an event stream" },
      202: { description: "a notification or response accepted" },
      ...errors(400, 401, 403, 413, 429, 500),
    },
  });
  for (const method of ["get", "delete"] as const) {
    app.openAPIRegistry.registerPath({
      method,
      path: "/mcp",
      summary: `${mcpSummary}: not used (stateless), 405`,
      security: bearer("runs:read"),
      responses: {
        405: { description: "this endpoint is stateless: POST only" },
        ...errors(401, 403, 429, 500),
      },
    });
  }
  app.route("/mcp", mcpApp(deps));

  let cached: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  /** The document, built once (the routes do not change after start). */
  function document() {
    cached ??= app.getOpenAPI31Document(docConfig);
    return cached;
  }
  return app;
}

/** The part of an OpenAPI document the docs page reads. */
type DocPaths = { paths?: Record<string, Record<string, unknown>> };

/** The routes of the document as a page: method, path, scope, summary. */
function docsPage(doc: DocPaths): string {
  const rows: {
    method: string;
    path: string;
    scope: string;
    summary: string;
  }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      const operation = op as {
        summary?: string;
        security?: Record<string, string[]>[];
      };
      rows.push({
        method: method.toUpperCase(),
        path,
        scope: operation.security?.flatMap((s) => Object.values(s).flat())
          .join(" ") || "none",
        summary: operation.summary ?? "",
      });
    }
  }
  return page(
    {
      title: "IFRS 9 run server",
      subtitle:
        "Routes; the full description is /openapi.json. Tokens: deno task token --scope runs:read",
    },
    section(
      "routes",
      "Routes",
      table([
        { label: "Method", value: (r) => r.method },
        { label: "Path", value: (r) => r.path },
        { label: "Scope", value: (r) => r.scope },
        { label: "What", value: (r) => r.summary, wrap: true },
      ], rows),
    ),
  );
}
