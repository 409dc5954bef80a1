/**
 * The run server's HTTP app: `createApp(deps)` routes, authenticates and
 * validates, and nothing else. Runs and movements go to `deps.queue`, which
 * executes them off the request loop; what the app answers about them
 * comes from `deps.registry`.
 *
 * | route | auth | what |
 * |---|---|---|
 * | `GET /healthz` | none | 200 `{"status":"ok"}` while the process lives; touches no disk |
 * | `GET /readyz` | none | 200 when the default rules file loads and the output folders are writable, else 503 with the reasons; one check at a time, its answer kept {@link READYZ_CACHE_MS} |
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
 * `deps.metrics` under its route pattern (`/runs/:id`, never the raw path;
 * `unmatched` when no route matches) and its method (`OTHER` for any but
 * the seven standard ones), so that no client can invent label values.
 *
 * The authenticated routes have two request budgets per minute: one per
 * client address (`ADDRESS_RATE_LIMIT_FACTOR` times
 * `rateLimitPerMinute`), counted before the token is read, so that
 * requests without a valid token are limited too; then one per token
 * subject (`rateLimitPerMinute`). The address is the connection's, never
 * a forwarded header (behind a proxy, every client shares the proxy's
 * budget). The files routes serve only from folders inside the configured
 * output folders, whatever the registry says.
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
import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isAbsolute, join, sep as SEP } from "node:path";
import { UserError } from "../errors.ts";
import { loadRules } from "../rules.ts";
import { MOVEMENT_FILES, RUN_FILES } from "../run_folder/mod.ts";
import {
  ADDRESS_RATE_LIMIT_FACTOR,
  type AuthVariables,
  bearerAuth,
  clientAddress,
  httpError,
  rateLimit,
} from "./auth.ts";
import { methodLabel, requestLog, routePattern } from "./log.ts";
import { mcpApp } from "./mcp.ts";
import { movementRequestFor, rootFolder, runRequestFor } from "./paths.ts";
import {
  bearer,
  type DocPaths,
  docsPage,
  errors,
  type JobRecordSchema,
  MAX_BODY_BYTES,
  routes,
} from "./routes.ts";
import {
  type JobKind,
  type JobRecord,
  JobRefusedError,
  type ServerDeps,
} from "./types.ts";

// The body limit is the routes' (`routes.ts`); the app's public face keeps it.
export { MAX_BODY_BYTES };

/**
 * Milliseconds a `/readyz` answer is kept: the check loads the rules file
 * and writes a probe file in each output folder, so a probe storm does
 * not turn into disk work.
 */
export const READYZ_CACHE_MS = 5_000;

/** Options of {@link createApp} beyond its parts. */
export interface AppOptions {
  /** The clock, in milliseconds (tests). @default Date.now */
  now?: () => number;
}

/** Seconds a client is told to wait when the queue is full or stopping. */
export const QUEUE_RETRY_AFTER_SECONDS = 30;

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

// ------------------------------------------------------------- middleware

/**
 * Middleware reporting every request to the metrics under its route
 * pattern (`unmatched` for paths no route matches) and its method (one of
 * the standard ones, else `OTHER`): labels a client cannot invent.
 */
function observeRequests(deps: ServerDeps): MiddlewareHandler {
  return async function observeRequests(c, next) {
    const start = performance.now();
    await next();
    deps.metrics.observeRequest(
      routePattern(c),
      methodLabel(c.req.method),
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

/**
 * Why the server is not ready, or nothing: the default rules file must
 * load and the output folders take a new file.
 */
async function readinessProblems(
  config: ServerDeps["config"],
): Promise<string[]> {
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
  return reasons;
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
 * layout (`files`), only from a folder whose real path lies inside the
 * configured `root` (`outDir` for runs, `movementDir` for movements: the
 * registry's `dir` is not trusted on its own), only regular files (not a
 * link planted there), and only the file that was checked: it is opened
 * and its identity (device and inode, from `fstat`) compared with the
 * `lstat` just made, so a file swapped for a link in between is refused.
 */
async function serveJobFile(
  c: Context,
  deps: ServerDeps,
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
  const missing = () =>
    httpError(404, `${what} has no ${name} (status ${record.status})`);
  const root = rootFolder(
    record.kind === "run" ? deps.config.outDir : deps.config.movementDir,
  );
  // A folder or file that is gone, or a path broken since it was written.
  const gone = (e: unknown) =>
    e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.NotADirectory ||
    e instanceof Deno.errors.FilesystemLoop;
  let dir: string | null = null;
  try {
    if (isAbsolute(record.dir)) {
      const real = await Deno.realPath(record.dir);
      if (real.startsWith((await Deno.realPath(root)) + SEP)) dir = real;
    }
  } catch (e) {
    if (gone(e)) throw missing();
    throw e;
  }
  if (dir === null) {
    // The registry names a folder the server does not serve from: a
    // record edited by hand or a bug; the operator is told, the client not
    // where.
    deps.logger.warn("job_folder_outside", {
      kind: record.kind,
      id: record.id,
      dir: record.dir,
      folder: root,
    });
    throw httpError(
      404,
      `${what} has no ${name} (its folder is not in the server's ${record.kind} folder)`,
    );
  }
  const path = join(dir, name);
  let file: Deno.FsFile;
  let size: number;
  try {
    const checked = await Deno.lstat(path);
    if (!checked.isFile) throw new Deno.errors.NotFound();
    file = await Deno.open(path, { read: true });
    const opened = await file.stat().catch((e) => {
      file.close();
      throw e;
    });
    if (!opened.isFile || !sameFile(checked, opened)) {
      file.close();
      throw new Deno.errors.NotFound();
    }
    size = opened.size;
  } catch (e) {
    if (gone(e)) throw missing();
    throw e;
  }
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

/** Whether two stats are of the same file: device and inode (Linux, macOS). */
function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  if (a.ino === null || b.ino === null || a.dev === null || b.dev === null) {
    // Without inodes (Windows), the size and modification time stand in.
    return a.size === b.size && a.mtime?.getTime() === b.mtime?.getTime();
  }
  return a.ino === b.ino && a.dev === b.dev;
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
export function createApp(
  deps: ServerDeps,
  { now = Date.now }: AppOptions = {},
): ServerApp {
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
  // Two budgets on the authenticated routes: one per client address,
  // counted before the token is looked at (so that requests with a bad
  // token or none are limited too; the address the connection comes from,
  // never a forwarded header), and one per verified token subject.
  const byAddress = rateLimit({
    limit: config.rateLimitPerMinute * ADDRESS_RATE_LIMIT_FACTOR,
    key: (c) => `addr:${clientAddress(c)}`,
    what: "requests from one client address",
    now,
  });
  const bySubject = rateLimit({ limit: config.rateLimitPerMinute, now });
  const auth = bearerAuth({ secret: config.jwtSecret, now });
  for (const path of ["/runs/*", "/movements/*"]) {
    app.use(path, byAddress, auth, bySubject);
  }
  // MCP clients POST every call; a tool that starts a job checks
  // runs:write itself (`c.get("auth")` reaches it as `extra.authInfo`).
  // (`/mcp/*` matches `/mcp` itself too: one pattern, so one check.)
  app.use(
    "/mcp/*",
    byAddress,
    bearerAuth({ secret: config.jwtSecret, scopeFor: () => "runs:read", now }),
    bySubject,
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

  // One check at a time, its answer kept for READYZ_CACHE_MS (probes that
  // arrive meanwhile share it).
  let readiness: { at: number; reasons: Promise<string[]> } | undefined;
  app.openapi(routes.readyz, async (c) => {
    const t = now();
    if (readiness === undefined || t - readiness.at >= READYZ_CACHE_MS) {
      readiness = {
        at: t,
        reasons: readinessProblems(config).catch((e) => [
          `the readiness check failed: ${String((e as Error)?.message)}`,
        ]),
      };
    }
    const reasons = await readiness.reasons;
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
    return await serveJobFile(c, deps, record, RUN_FILES.report, [
      RUN_FILES.report,
    ]);
  });

  app.openapi(routes.runFile, async (c) => {
    const { id, name } = c.req.valid("param");
    const record = jobOr404(deps, "run", id);
    return await serveJobFile(c, deps, record, name, Object.values(RUN_FILES));
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
    return await serveJobFile(
      c,
      deps,
      record,
      name,
      Object.values(MOVEMENT_FILES),
    );
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
