/**
 * The run server's structured logs: one JSON object per line on standard
 * output, one line per request (from {@link requestLog}) and per run event
 * (from the queue), each with its time, level and event name. A request's
 * line carries the request id (`X-Request-Id`, echoed to the client), the
 * method, the route pattern, the status, the milliseconds it took and the
 * token's subject, never the token: fields whose name says token, secret,
 * password, cookie or authorization are written as `[redacted]` whatever
 * part of the server logs them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createJsonLogger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const log = createJsonLogger((line) => lines.push(line));
 * log.info("run_started", { run_id: "q4", token: "eyJ..." });
 * const line = JSON.parse(lines[0]);
 * assert.equal(line.level, "info");
 * assert.equal(line.event, "run_started");
 * assert.equal(line.run_id, "q4");
 * assert.equal(line.token, "[redacted]");
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { LogFields, Logger } from "./types.ts";

/** Field names whose values are never written. */
const SENSITIVE = /token|secret|password|passwd|cookie|authorization/i;

/** Keys every line has, which a field cannot replace. */
const RESERVED = new Set(["time", "level", "event"]);

/** Makes values JSON can hold: errors as name, message and stack; bigints as text. */
function replacer(key: string, value: unknown): unknown {
  if (key !== "" && SENSITIVE.test(key)) return "[redacted]";
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

/**
 * A {@link Logger} writing one JSON object per line:
 * `{"time":"…","level":"info","event":"…",…fields}`.
 *
 * @param write Where a line goes. @default a line on standard output
 */
export function createJsonLogger(
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  const emit = (level: string, event: string, fields: LogFields = {}) => {
    const record: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      event,
    };
    for (const [k, v] of Object.entries(fields)) {
      if (!RESERVED.has(k)) record[k] = v;
    }
    let line: string;
    try {
      line = JSON.stringify(record, replacer);
    } catch (e) {
      // A field JSON cannot hold (a cycle): the line still says what happened.
      line = JSON.stringify({
        time: record.time,
        level,
        event,
        log_error: `fields not serializable: ${(e as Error).message}`,
      });
    }
    write(line);
  };
  return {
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
  };
}

/**
 * The route pattern a request matched (`/runs/:id`, not the raw path), for
 * logs and metrics: the first matched route that is not a middleware
 * pattern (those end in `*`), even when a middleware answered first (a
 * 401); `unmatched` when none did, so that arbitrary paths cannot make
 * new label values.
 */
export function routePattern(c: Context): string {
  const route = matchedRoutes(c).find((r) => !r.path.endsWith("*"));
  return route?.path ?? "unmatched";
}

/** The HTTP methods that are labels of their own (RFC 9110 §9.3, RFC 5789). */
const METHOD_LABELS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/**
 * A request's method as a metric label: one of GET, HEAD, POST, PUT,
 * PATCH, DELETE, OPTIONS, else `OTHER`, so that a client inventing methods
 * (methods are case-sensitive tokens of any length) cannot make new label
 * values, as {@link routePattern} does for paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodLabel } from "./log.ts";
 * assert.equal(methodLabel("POST"), "POST");
 * assert.equal(methodLabel("BREW"), "OTHER");
 * assert.equal(methodLabel("patch"), "OTHER");
 * ```
 */
export function methodLabel(method: string): string {
  return METHOD_LABELS.has(method) ? method : "OTHER";
}

/** Options of {@link requestLog}. */
export interface RequestLogOptions {
  /** Where the lines go. */
  logger: Logger;
  /** The clock, in milliseconds. @default performance.now */
  now?: () => number;
}

/**
 * Middleware writing one `request` line per request once its response is
 * ready: `request_id` (set by Hono's request-id middleware, placed before
 * this one), `method`, `route` ({@link routePattern}), `status`, `ms` and
 * `subject` (the token's `sub`, or null).
 */
export function requestLog(
  { logger, now = () => performance.now() }: RequestLogOptions,
): MiddlewareHandler {
  return async function requestLog(c, next) {
    const start = now();
    await next();
    const vars = c as Context<
      { Variables: { requestId?: string; subject?: string | null } }
    >;
    const status = c.res.status;
    const fields = {
      request_id: vars.get("requestId") ?? null,
      // A method is a token of any length: bounded, as every field.
      method: c.req.method.slice(0, 32),
      route: routePattern(c),
      status,
      ms: Math.round((now() - start) * 10) / 10,
      subject: vars.get("subject") ?? null,
    };
    if (status >= 500) logger.error("request", fields);
    else logger.info("request", fields);
  };
}
