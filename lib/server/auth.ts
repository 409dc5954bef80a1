/**
 * Who may call the run server's routes, and how often: bearer tokens (JWT,
 * HS256 with the server's secret) carrying scopes, and a request budget per
 * token subject (or client address).
 *
 * A token's header and signature are verified with Hono's JWT helper,
 * `verify(token, secret, { alg: "HS256" })`: the algorithm is pinned, so a
 * token signed with HS512, with `alg: none` or with any other algorithm is
 * refused before its signature is looked at; the signature check is the
 * library's (Web Crypto's `verify`, never a string comparison). Only a
 * token whose signature holds has its claims read (here, not by the
 * helper, so that each refusal names its true reason):
 *
 * - `exp` is required, a number, in the future and at most
 *   {@link MAX_TOKEN_LIFETIME_SECONDS} (366 days) ahead, so that no token
 *   lives forever;
 * - `nbf` and `iat`, when present, are numbers at most
 *   {@link CLOCK_SKEW_SECONDS} (60 s) ahead of the server's clock (the
 *   minting machine's clock may run a little fast).
 *
 * Its `scope` claim lists scopes separated by spaces: `runs:write` starts
 * runs and movements and implies `runs:read`, which reads them.
 *
 * | request                                           | answer                                               |
 * |---------------------------------------------------|------------------------------------------------------|
 * | no `Authorization: Bearer` header                 | 401, `WWW-Authenticate: Bearer realm="ifrs9"`        |
 * | malformed, expired, badly signed, other algorithm, no `exp`, too long-lived | 401, `WWW-Authenticate: Bearer ... error="invalid_token"` |
 * | a valid token without the scope the route needs   | 403, `WWW-Authenticate: Bearer ... error="insufficient_scope"` |
 * | over the budget of its subject                    | 429 with `Retry-After` (seconds)                     |
 * | over the budget of its client address (any token or none; {@link ADDRESS_RATE_LIMIT_FACTOR} times a subject's, counted before the token is looked at) | 429 with `Retry-After` (seconds) |
 *
 * (RFC 6750 §3: a request without credentials gets no error code.) Neither
 * a token nor the secret is ever put in a message or a log line: the JWT
 * helper's own error messages hold the token, so only their names are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { bearerAuth, mintToken } from "./auth.ts";
 *
 * const secret = "s".repeat(32);
 * const app = new Hono();
 * app.use("/runs/*", bearerAuth({ secret }));
 * app.get("/runs", (c) => c.text("ok"));
 * app.onError((e, c) => c.text(e.message, (e as { status?: 401 }).status ?? 500));
 *
 * assert.equal((await app.request("/runs")).status, 401);
 * const token = await mintToken({ secret, scopes: ["runs:read"], expiresInSeconds: 60 });
 * const res = await app.request("/runs", { headers: { Authorization: `Bearer ${token}` } });
 * assert.equal(res.status, 200);
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { decode, sign, verify } from "hono/jwt";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The scopes a token may carry. `runs:write` implies `runs:read`. */
export const SCOPES = ["runs:read", "runs:write"] as const;

/** One scope of {@link SCOPES}. */
export type Scope = typeof SCOPES[number];

/** The only algorithm accepted (pinned: a token's own `alg` is not trusted). */
export const JWT_ALGORITHM = "HS256";

/**
 * The longest a token may live: its `exp` at most this many seconds after
 * the server's clock (366 days: `deno task token` mints at most 365).
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 366 * 24 * 3600;

/**
 * How far ahead of the server's clock a token's `nbf` and `iat` may be, in
 * seconds: the clocks of the machine that mints and the one that checks
 * differ a little.
 */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * A client address's request budget on the authenticated routes, as a
 * multiple of a token subject's (`rateLimitPerMinute`): counted before the
 * token is verified, so that requests without a valid token are limited
 * too, and high enough for several subjects behind one address.
 */
export const ADDRESS_RATE_LIMIT_FACTOR = 10;

/** The realm named in `WWW-Authenticate`. */
const REALM = "ifrs9";

/**
 * Who made a request, as the auth middleware leaves it in the context
 * (`c.get("auth")`). The shape is the MCP SDK's `AuthInfo`, which
 * `@hono/mcp`'s transport passes to tool handlers as `extra.authInfo`, so a
 * tool can check {@link hasScope} itself.
 */
export interface RequestAuth {
  /**
   * Always empty: the token is not kept past its verification, so that
   * nothing downstream can log it.
   */
  token: string;
  /** The token's `sub` claim; `anonymous` without one or with auth disabled. */
  clientId: string;
  /** The scopes granted (`runs:write` expanded to include `runs:read`). */
  scopes: string[];
  /** The token's `exp`, in seconds since the epoch. */
  expiresAt?: number;
}

/** The context variables the auth middleware sets. */
export interface AuthVariables {
  /** Who made the request, and what they may do. */
  auth: RequestAuth;
  /** The token's subject, for the log line and the rate limit; null without one. */
  subject: string | null;
}

/**
 * An HTTP error with extra response headers (`WWW-Authenticate`,
 * `Retry-After`): the app's error handler writes the JSON body and keeps
 * the headers.
 *
 * @param status The HTTP status.
 * @param message What is wrong, for the response body.
 * @param headers Headers the response must carry.
 */
export function httpError(
  status: ContentfulStatusCode,
  message: string,
  headers: Record<string, string> = {},
): HTTPException {
  return new HTTPException(status, {
    message,
    res: new Response(null, { headers }),
  });
}

/**
 * Whether `scopes` grant `needed`: `runs:write` implies `runs:read`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasScope } from "./auth.ts";
 * assert.equal(hasScope(["runs:write"], "runs:read"), true);
 * assert.equal(hasScope(["runs:read"], "runs:write"), false);
 * ```
 */
export function hasScope(scopes: readonly string[], needed: Scope): boolean {
  return scopes.includes(needed) ||
    (needed === "runs:read" && scopes.includes("runs:write"));
}

/**
 * Why a token was refused, from the JWT helper's error (its name only)
 * and, for a header the helper refuses, the header itself.
 */
function invalidReason(e: unknown, token: string): string {
  switch ((e as Error)?.name) {
    case "JwtAlgorithmMismatch":
      return `the token is not signed with ${JWT_ALGORITHM}`;
    case "JwtHeaderInvalid":
      return headerProblem(token);
    case "JwtTokenSignatureMismatched":
      return "the token's signature does not match";
    default:
      return "the token is malformed";
  }
}

/**
 * What is wrong with a header the JWT helper refused: an algorithm that is
 * not HS256 (`none` included), a `typ` other than JWT, or a `crit` header
 * naming extensions the server does not know (RFC 7515 §4.1.11).
 */
function headerProblem(token: string): string {
  let header: unknown;
  try {
    header = decode(token).header;
  } catch {
    return "the token is malformed";
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return "the token's header is not a JSON object";
  }
  const h = header as Record<string, unknown>;
  if (h.alg !== JWT_ALGORITHM) {
    return `the token is not signed with ${JWT_ALGORITHM}`;
  }
  if ("crit" in h) {
    return "the token's header has crit (critical extensions), which this server does not support";
  }
  if ("typ" in h) return "the token's typ header is not JWT";
  return "the token's header is malformed";
}

/**
 * What is wrong with a verified token's time claims at `now` (seconds), or
 * null: `exp` required, a number, in the future and at most
 * {@link MAX_TOKEN_LIFETIME_SECONDS} ahead; `nbf` and `iat` numbers at
 * most {@link CLOCK_SKEW_SECONDS} ahead.
 */
function timeProblem(
  payload: Record<string, unknown>,
  now: number,
): string | null {
  const number = (v: unknown): v is number =>
    typeof v === "number" && Number.isFinite(v);
  if (payload.exp === undefined) return "the token has no exp (expiry) claim";
  if (!number(payload.exp)) {
    return "the token's exp (expiry) claim is not a number of seconds since the epoch";
  }
  for (const claim of ["nbf", "iat"] as const) {
    if (payload[claim] !== undefined && !number(payload[claim])) {
      return `the token's ${claim} claim is not a number of seconds since the epoch`;
    }
  }
  if (payload.exp <= now) return "the token has expired";
  if (payload.exp > now + MAX_TOKEN_LIFETIME_SECONDS) {
    return `the token expires more than ${
      MAX_TOKEN_LIFETIME_SECONDS / 86400
    } days from now; mint one with a shorter lifetime`;
  }
  if (number(payload.nbf) && payload.nbf > now + CLOCK_SKEW_SECONDS) {
    return "the token is not valid yet (nbf)";
  }
  if (number(payload.iat) && payload.iat > now + CLOCK_SKEW_SECONDS) {
    return "the token is issued in the future (iat)";
  }
  return null;
}

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /**
   * The HS256 secret; `null` turns auth off (every request passes as
   * `anonymous` with every scope), on purpose only (`IFRS9_AUTH=disabled`).
   */
  secret: string | null;
  /**
   * The scope a request needs. @default `runs:read` for GET and HEAD,
   * `runs:write` for anything else
   */
  scopeFor?: (c: Context) => Scope;
  /** The clock, in milliseconds (tests). @default Date.now */
  now?: () => number;
}

/** The default: reading needs `runs:read`, anything else `runs:write`. */
function scopeByMethod(c: Context): Scope {
  return c.req.method === "GET" || c.req.method === "HEAD"
    ? "runs:read"
    : "runs:write";
}

/**
 * Middleware that lets a request through only with a valid bearer token
 * carrying the scope it needs (module doc); sets `auth` and `subject`.
 */
export function bearerAuth(
  { secret, scopeFor = scopeByMethod, now = Date.now }: BearerAuthOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function bearerAuth(c, next) {
    if (secret === null) {
      c.set("auth", {
        token: "",
        clientId: "anonymous",
        scopes: [...SCOPES],
      });
      c.set("subject", null);
      return await next();
    }
    const challenge = (extra = "") =>
      `Bearer realm="${REALM}"${extra ? `, ${extra}` : ""}`;
    const header = c.req.header("Authorization");
    if (header === undefined || header.trim() === "") {
      throw httpError(
        401,
        "authentication required: send Authorization: Bearer <token>",
        {
          "WWW-Authenticate": challenge(),
        },
      );
    }
    const invalid = (reason: string) =>
      httpError(401, `invalid token: ${reason}`, {
        "WWW-Authenticate": challenge(
          `error="invalid_token", error_description="${
            reason.replace(/"/g, "'")
          }"`,
        ),
      });
    const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
    if (!match) {
      throw invalid("the Authorization header is not 'Bearer <token>'");
    }
    let payload: Record<string, unknown>;
    try {
      // The header and the signature only: the helper would read the time
      // claims before the signature, without leeway, and name a string
      // `exp` "expired"; they are checked below once the signature holds.
      payload = await verify(match[1], secret, {
        alg: JWT_ALGORITHM,
        exp: false,
        nbf: false,
        iat: false,
      });
    } catch (e) {
      throw invalid(invalidReason(e, match[1]));
    }
    if (
      typeof payload !== "object" || payload === null || Array.isArray(payload)
    ) {
      throw invalid("the token's payload is not a JSON object");
    }
    const problem = timeProblem(payload, Math.floor(now() / 1000));
    if (problem !== null) throw invalid(problem);
    const scopes = typeof payload.scope === "string"
      ? payload.scope.split(" ").filter((s) => s !== "")
      : [];
    const granted =
      scopes.includes("runs:write") && !scopes.includes("runs:read")
        ? [...scopes, "runs:read"]
        : scopes;
    const needed = scopeFor(c);
    if (!hasScope(granted, needed)) {
      throw httpError(403, `the token's scope does not include ${needed}`, {
        "WWW-Authenticate": challenge(
          `error="insufficient_scope", scope="${needed}"`,
        ),
      });
    }
    const subject = typeof payload.sub === "string" && payload.sub !== ""
      ? payload.sub.slice(0, 200)
      : null;
    c.set("auth", {
      token: "",
      clientId: subject ?? "anonymous",
      scopes: granted,
      expiresAt: payload.exp as number,
    });
    c.set("subject", subject);
    await next();
  };
}

/**
 * The client's address as `Deno.serve` gives it (the handler's second
 * argument is Hono's `env`), or `unknown` (in-memory requests, Unix
 * sockets). Forwarded headers are not trusted: anyone can send them.
 */
export function clientAddress(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const host = info?.remoteAddr?.hostname;
  return typeof host === "string" ? host : "unknown";
}

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Requests allowed per window and key. */
  limit: number;
  /** The window's length in milliseconds. @default 60000 */
  windowMs?: number;
  /**
   * The key a request counts against. @default its token's subject, else
   * the client's address
   */
  key?: (c: Context) => string;
  /** The clock (tests). @default Date.now */
  now?: () => number;
  /**
   * What is counted, as the 429's message says it: `at most <limit>
   * <what> per <window>`. @default "requests"
   */
  what?: string;
}

/** The default rate-limit key: `sub:<subject>`, else `addr:<address>`. */
function subjectOrAddress(c: Context): string {
  const subject = (c as Context<{ Variables: Partial<AuthVariables> }>).get(
    "subject",
  );
  return subject ? `sub:${subject}` : `addr:${clientAddress(c)}`;
}

/**
 * Middleware that allows `limit` requests per key in each fixed window and
 * answers the next ones 429 with `Retry-After` (the seconds until the
 * window ends). Placed after {@link bearerAuth}, so that the key is a
 * verified subject, never one a caller makes up.
 *
 * Hand-written rather than `hono-rate-limiter`: that package is not among
 * the project's locked dependencies, and a fixed window per key is the few
 * lines below. Windows older than one length are swept once per window, so
 * the table holds only the keys seen in the last two windows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { rateLimit } from "./auth.ts";
 *
 * let t = 0;
 * const app = new Hono();
 * app.use(rateLimit({ limit: 2, key: () => "k", now: () => t }));
 * app.get("/", (c) => c.text("ok"));
 * app.onError((e, c) => c.text(e.message, 429));
 * assert.deepEqual([(await app.request("/")).status, (await app.request("/")).status], [200, 200]);
 * const refused = await app.request("/");
 * assert.equal(refused.status, 429);
 * t = 60_000; // the next window
 * assert.equal((await app.request("/")).status, 200);
 * ```
 */
export function rateLimit(
  {
    limit,
    windowMs = 60_000,
    key = subjectOrAddress,
    now = Date.now,
    what = "requests",
  }: RateLimitOptions,
): MiddlewareHandler {
  const windows = new Map<string, { start: number; count: number }>();
  let swept = now();
  return async function rateLimit(c, next) {
    const t = now();
    if (t - swept >= windowMs) {
      for (const [k, w] of windows) {
        if (t - w.start >= windowMs) windows.delete(k);
      }
      swept = t;
    }
    const k = key(c);
    let w = windows.get(k);
    if (w === undefined || t - w.start >= windowMs) {
      w = { start: t, count: 0 };
      windows.set(k, w);
    }
    if (w.count >= limit) {
      const seconds = Math.max(1, Math.ceil((w.start + windowMs - t) / 1000));
      throw httpError(
        429,
        `rate limit: at most ${limit} ${what} per ${
          windowMs / 1000
        } seconds; retry in ${seconds} s`,
        { "Retry-After": String(seconds) },
      );
    }
    w.count++;
    await next();
  };
}

/** What {@link mintToken} signs. */
export interface MintOptions {
  /** The HS256 secret. */
  secret: string;
  /** The scopes granted. */
  scopes: readonly Scope[];
  /** Seconds until the token expires: more than 0, at most {@link MAX_TOKEN_LIFETIME_SECONDS}. */
  expiresInSeconds: number;
  /** The `sub` claim: who the token is for. @default "cli" */
  subject?: string;
  /** The clock, in milliseconds (tests). @default Date.now() */
  now?: number;
}

/**
 * A signed HS256 token with `sub`, `scope`, `iat` and `exp`, as
 * `deno task token` prints it.
 *
 * @throws {RangeError} when `expiresInSeconds` is not above 0 and at most
 *   {@link MAX_TOKEN_LIFETIME_SECONDS}: the server would refuse the token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode } from "hono/jwt";
 * import { mintToken } from "./auth.ts";
 *
 * const token = await mintToken({
 *   secret: "s".repeat(32), scopes: ["runs:write"], expiresInSeconds: 3600,
 *   subject: "scheduler", now: Date.UTC(2026, 0, 1),
 * });
 * assert.deepEqual(decode(token).payload, {
 *   sub: "scheduler", scope: "runs:write", iat: 1767225600, exp: 1767229200,
 * });
 * ```
 */
export function mintToken(
  { secret, scopes, expiresInSeconds, subject = "cli", now = Date.now() }:
    MintOptions,
): Promise<string> {
  if (
    !(expiresInSeconds > 0 && expiresInSeconds <= MAX_TOKEN_LIFETIME_SECONDS)
  ) {
    throw new RangeError(
      `expiresInSeconds must be above 0 and at most ${MAX_TOKEN_LIFETIME_SECONDS} (${
        MAX_TOKEN_LIFETIME_SECONDS / 86400
      } days), got ${expiresInSeconds}`,
    );
  }
  const iat = Math.floor(now / 1000);
  return sign(
    {
      sub: subject,
      scope: scopes.join(" "),
      iat,
      exp: iat + Math.round(expiresInSeconds),
    },
    secret,
    JWT_ALGORITHM,
  );
}
