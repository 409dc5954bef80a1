/**
 * The run server's routes as OpenAPI describes them: the request and
 * response schemas (zod, through `@hono/zod-openapi`), each route's
 * method, path, security and error responses, the JSON-body middleware of
 * the routes that start jobs, and the docs page drawn from the document.
 * `app.ts` registers a handler for each of {@link routes}, so the document
 * (`GET /openapi.json`) is generated from the same schemas that validate
 * the requests.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { page, section, table } from "../page.ts";
import { MOVEMENT_FILES, RUN_FILES } from "../run_folder/mod.ts";
import { httpError, type Scope } from "./auth.ts";
import { idField, pathField } from "./fields.ts";
import { JOB_RECORD_FIELDS } from "./job_schema.ts";

/** The largest request body accepted, in bytes (64 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

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
    "no token, or a token that is malformed, expired, badly signed, of another algorithm, without exp or expiring more than 366 days ahead",
  403: "the token lacks the scope the route needs",
  404: "no such job, file or route",
  409: "the id is in use (a job or a folder)",
  413: `the body is larger than ${MAX_BODY_BYTES} bytes`,
  415: "the body is not sent as application/json",
  429:
    "too many requests (per token subject, or per client address before the token is read) or a full queue; see Retry-After",
  500:
    "an unexpected error; the message names the request id to look for in the log",
  503: "not ready, or shutting down",
};

/** Error responses of a route, each with the shared schema. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, {
    description: ERROR_MEANING[s],
    content: { "application/json": { schema: ErrorSchema } },
  }]));
}

/** A path a request names (`fields.ts`), with its example. */
const PathField = (description: string, example: string) =>
  pathField(description).openapi({ description, example });

/** A run id or movement id (`fields.ts`), with its example. */
const IdField = (what: string) =>
  idField(what).openapi({ example: "portfolio_2025-12-31" });

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
      "The run's id, its folder's name; when absent, the server chooses one from the clock and 8 random hex digits (run-YYYYMMDDTHHMMSSmmmZ-xxxxxxxx)",
  }),
}).openapi("RunRequest");

const MovementBody = z.strictObject({
  from: PathField(
    "The earlier run: a run id of the server's runs, or a run folder's path under a data root",
    "portfolio_2025-09-30",
  ),
  to: PathField("The later run, the same way", "portfolio_2025-12-31"),
  movement_id: IdField("movement id").optional().openapi({
    description:
      "The movement's id, its folder's name; when absent, the server chooses one from the clock and 8 random hex digits (movement-YYYYMMDDTHHMMSSmmmZ-xxxxxxxx)",
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

export const JobRecordSchema = z.object({
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
export const bearer = (scope: Scope) => [{ bearer: [scope] }];

/** The answers of a route that serves one file of a run or movement folder. */
function fileResponses() {
  return {
    200: {
      description: "the file, streamed",
      content: {
        "application/vnd.apache.parquet": { schema: z.string() },
        "application/json": { schema: z.record(z.string(), z.unknown()) },
        "text/html": { schema: z.string() },
      },
    },
    ...errors(401, 403, 404, 429, 500),
  };
}

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

/** Every route the app serves besides the MCP door, by handler name. */
export const routes = {
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
    responses: fileResponses(),
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
    responses: fileResponses(),
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

/** The part of an OpenAPI document the docs page reads. */
export type DocPaths = { paths?: Record<string, Record<string, unknown>> };

/** The routes of the document as a page: method, path, scope, summary. */
export function docsPage(doc: DocPaths): string {
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
