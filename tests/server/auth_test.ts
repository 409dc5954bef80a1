/**
 * Auth of the run server through the whole app, in memory: every way a
 * token can be wrong (401 with `WWW-Authenticate`), scopes (403), auth
 * turned off on purpose, the rate limit (429 with `Retry-After`), the MCP
 * door behind the same auth, no token in any log line; and
 * `deno task token`, whose tokens the app accepts.
 */
import assert from "node:assert/strict";
import { decode, sign } from "hono/jwt";
import {
  ADDRESS_RATE_LIMIT_FACTOR,
  bearerAuth,
  CLOCK_SKEW_SECONDS,
  MAX_TOKEN_LIFETIME_SECONDS,
  mintToken,
  rateLimit,
} from "../../lib/server/auth.ts";
import { main as tokenMain, parseExpiresIn } from "../../tasks/token.ts";
import {
  bearer,
  claims,
  type Fixture,
  fixture,
  hs512Token,
  noneToken,
  postJson,
  SECRET,
  token,
} from "./_app_fakes.ts";
import { Hono } from "hono";

/** Runs `body` with a fresh fixture, removed afterwards. */
async function withFixture(
  body: (f: Fixture) => Promise<void>,
  config: Parameters<typeof fixture>[0] = {},
) {
  const f = await fixture(config);
  try {
    await body(f);
  } finally {
    await f.cleanup();
  }
}

/** Every token a test sent, to look for in the log afterwards. */
const sent: string[] = [];

/** GET /runs with an Authorization header (or none). */
function getRuns(f: Fixture, authorization?: string): Promise<Response> {
  if (authorization?.startsWith("Bearer ")) sent.push(authorization.slice(7));
  return Promise.resolve(
    f.app.request(
      "/runs",
      authorization === undefined
        ? {}
        : { headers: { Authorization: authorization } },
    ),
  );
}

/** Checks a 401 with its challenge; returns the message. */
async function unauthorized(res: Response, error: boolean): Promise<string> {
  const body = await res.json();
  assert.equal(res.status, 401, JSON.stringify(body));
  const challenge = res.headers.get("WWW-Authenticate") ?? "";
  if (error) {
    assert.match(
      challenge,
      /^Bearer realm="ifrs9", error="invalid_token", error_description="[^"]+"$/,
    );
  } else {
    assert.equal(challenge, 'Bearer realm="ifrs9"');
  }
  assert.equal(body.error.status, 401);
  return body.error.message;
}

Deno.test("auth: a request without a token is 401 with a bare Bearer challenge (RFC 6750 §3)", async () => {
  await withFixture(async (f) => {
    assert.match(
      await unauthorized(await getRuns(f), false),
      /^authentication required/,
    );
    assert.match(
      await unauthorized(await getRuns(f, ""), false),
      /^authentication required/,
    );
    // Nothing is queued without a token.
    const res = await f.app.request(
      "/runs",
      postJson({ portfolio: f.portfolio }),
    );
    assert.equal(res.status, 401);
    assert.deepEqual(f.queue.submitted, []);
  });
});

Deno.test("auth: malformed headers and tokens are 401 invalid_token", async () => {
  await withFixture(async (f) => {
    const good = await token(["runs:read"]);
    for (
      const header of [
        `Basic ${btoa("user:pass")}`,
        "Bearer",
        "Bearer ",
        `Bearer ${good} extra`,
        `Token ${good}`,
        "Bearer abc",
        "Bearer a.b.c",
        `Bearer ${good.split(".").slice(0, 2).join(".")}`,
        `Bearer ${good}.x`,
      ]
    ) {
      assert.match(
        await unauthorized(await getRuns(f, header), true),
        /^invalid token: /,
        header,
      );
    }
  });
});

Deno.test("auth: expired, badly signed, HS512, alg none and exp-less tokens are 401 invalid_token, each naming why", async () => {
  await withFixture(async (f) => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(
      { sub: "x", scope: "runs:read", exp: now - 10 },
      SECRET,
      "HS256",
    );
    const otherSecret = await mintToken({
      secret: "another-secret-0123456789abcdefgh",
      scopes: ["runs:read"],
      expiresInSeconds: 60,
    });
    const noExp = await sign({ sub: "x", scope: "runs:read" }, SECRET, "HS256");
    const notYet = await sign(
      { sub: "x", scope: "runs:read", exp: now + 900, nbf: now + 600 },
      SECRET,
      "HS256",
    );
    // A valid token whose payload is swapped keeps a signature that no longer matches.
    const [h, , s] = (await token(["runs:read"])).split(".");
    const [, p] = (await token(["runs:write"], "admin")).split(".");
    const cases: [string, RegExp][] = [
      [expired, /^invalid token: the token has expired$/],
      [otherSecret, /^invalid token: the token's signature does not match$/],
      [
        `${h}.${p}.${s}`,
        /^invalid token: the token's signature does not match$/,
      ],
      [
        await hs512Token(),
        /^invalid token: the token is not signed with HS256$/,
      ],
      [noneToken(), /^invalid token: the token is not signed with HS256$/],
      [noExp, /^invalid token: the token has no exp \(expiry\) claim$/],
      [notYet, /^invalid token: the token is not valid yet \(nbf\)$/],
    ];
    for (const [t, expected] of cases) {
      assert.match(
        await unauthorized(await getRuns(f, `Bearer ${t}`), true),
        expected,
        JSON.stringify(decode(t).header),
      );
    }
    assert.deepEqual(f.queue.submitted, []);
  });
});

/** A JWT with any header and payload, signed HS256 with the server's secret. */
async function signedWith(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  const part = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(
      /\//g,
      "_",
    );
  const input = `${part(header)}.${part(payload)}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)),
  );
  const signature = btoa(String.fromCharCode(...mac)).replace(/=+$/, "")
    .replace(/\+/g, "-").replace(/\//g, "_");
  return `${input}.${signature}`;
}

Deno.test("auth: each refusal names its true reason: typ, crit, a string exp, a lifetime over the cap, a bad signature on an expired token", async () => {
  await withFixture(async (f) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "x", scope: "runs:read", exp: now + 600 };
    const expiredOtherSecret = await sign(
      { ...claims, exp: now - 10 },
      "another-secret-0123456789abcdefgh",
      "HS256",
    );
    const cases: [string, RegExp][] = [
      [
        await signedWith({ alg: "HS256", typ: "at+jwt" }, claims),
        /^invalid token: the token's typ header is not JWT$/,
      ],
      [
        await signedWith({ alg: "HS256", typ: "JWT", crit: ["exp"] }, claims),
        /^invalid token: the token's header has crit \(critical extensions\), which this server does not support$/,
      ],
      [
        await signedWith({ alg: "HS256", typ: "JWT" }, {
          ...claims,
          exp: String(now + 600),
        }),
        /^invalid token: the token's exp \(expiry\) claim is not a number of seconds since the epoch$/,
      ],
      [
        await signedWith({ alg: "HS256", typ: "JWT" }, {
          ...claims,
          exp: "1",
        }),
        /^invalid token: the token's exp \(expiry\) claim is not a number/,
      ],
      [
        await signedWith({ alg: "HS256", typ: "JWT" }, {
          ...claims,
          iat: "yesterday",
        }),
        /^invalid token: the token's iat claim is not a number/,
      ],
      [
        await sign(
          { ...claims, exp: now + MAX_TOKEN_LIFETIME_SECONDS + 3600 },
          SECRET,
          "HS256",
        ),
        /^invalid token: the token expires more than 366 days from now; mint one with a shorter lifetime$/,
      ],
      // The signature is checked before any claim: a forged token learns
      // nothing about its claims.
      [
        expiredOtherSecret,
        /^invalid token: the token's signature does not match$/,
      ],
      [
        await signedWith({ alg: "HS256", typ: "JWT" }, {
          ...claims,
          iat: now + CLOCK_SKEW_SECONDS + 120,
        }),
        /^invalid token: the token is issued in the future \(iat\)$/,
      ],
    ];
    for (const [t, expected] of cases) {
      assert.match(
        await unauthorized(await getRuns(f, `Bearer ${t}`), true),
        expected,
        JSON.stringify(decode(t)),
      );
    }
    // "application/jwt" and "jwt" are JWT (RFC 7519 §5.1).
    for (const typ of ["jwt", "application/jwt"]) {
      const t = await signedWith({ alg: "HS256", typ }, claims);
      assert.equal((await getRuns(f, `Bearer ${t}`)).status, 200, typ);
    }
  });
});

Deno.test("auth: a token minted by a clock up to 60 s fast is accepted (iat, nbf), one living up to 366 days too", async () => {
  await withFixture(async (f) => {
    const now = Math.floor(Date.now() / 1000);
    const ahead = now + CLOCK_SKEW_SECONDS - 5;
    for (
      const claims of [
        { iat: ahead, exp: ahead + 3600 },
        { nbf: ahead, exp: ahead + 3600 },
        { iat: ahead, nbf: ahead, exp: ahead + 3600 },
        { iat: now, exp: now + MAX_TOKEN_LIFETIME_SECONDS - 60 },
      ]
    ) {
      const t = await sign(
        { sub: "x", scope: "runs:read", ...claims },
        SECRET,
        "HS256",
      );
      assert.equal(
        (await getRuns(f, `Bearer ${t}`)).status,
        200,
        JSON.stringify(claims),
      );
    }
    assert.equal(CLOCK_SKEW_SECONDS, 60);
    assert.equal(MAX_TOKEN_LIFETIME_SECONDS, 366 * 86400);
  });
});

Deno.test("mintToken() refuses a lifetime the server would refuse", async () => {
  for (const seconds of [0, -1, NaN, MAX_TOKEN_LIFETIME_SECONDS + 1]) {
    await assert.rejects(
      async () =>
        await mintToken({
          secret: SECRET,
          scopes: [],
          expiresInSeconds: seconds,
        }),
      RangeError,
      String(seconds),
    );
  }
  const t = await mintToken({
    secret: SECRET,
    scopes: ["runs:read"],
    expiresInSeconds: MAX_TOKEN_LIFETIME_SECONDS,
  });
  assert.equal(
    (claims(t).exp as number) - (claims(t).iat as number),
    MAX_TOKEN_LIFETIME_SECONDS,
  );
});

/** A request as `Deno.serve` hands it over, from the client at `hostname`. */
function from(
  f: Fixture,
  hostname: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const info = {
    remoteAddr: { transport: "tcp", hostname, port: 40000 },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  return Promise.resolve(
    f.app.fetch(new Request(`http://localhost${path}`, init), info),
  );
}

Deno.test("rate limit by client address, before auth: 200 requests with bad tokens get 401 up to the address's budget, then 429; forwarded headers do not change the address", async () => {
  await withFixture(async (f) => {
    const budget = 5 * ADDRESS_RATE_LIMIT_FACTOR;
    assert.equal(budget, 50);
    const bad = `Bearer ${noneToken()}`;
    // At once, each claiming another forwarded address.
    const answers = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          from(f, "203.0.113.7", i % 2 ? "/runs" : "/mcp", {
            method: i % 2 ? "GET" : "POST",
            headers: {
              Authorization: bad,
              "X-Forwarded-For": `198.51.100.${i}`,
              "X-Real-IP": `198.51.100.${i}`,
            },
          }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, budget);
    assert.equal(statuses.filter((s) => s === 429).length, 200 - budget);
    const refused = answers.find((r) => r.status === 429)!;
    const retry = Number(refused.headers.get("Retry-After"));
    assert.ok(retry >= 1 && retry <= 60, `${retry}`);
    assert.match(
      (await refused.json()).error.message,
      /^rate limit: at most 50 requests from one client address per 60 seconds; retry in \d+ s$/,
    );
    await Promise.all(
      answers.filter((r) => r !== refused).map((r) => r.body?.cancel()),
    );
    // Even a good token from that address waits (the budget is the
    // address's, counted before any token is read).
    const good = await token(["runs:read"]);
    assert.equal(
      (await from(f, "203.0.113.7", "/runs", { headers: bearer(good) }))
        .status,
      429,
    );
    // Another address is not affected, nor are the probes.
    assert.equal(
      (await from(f, "203.0.113.8", "/runs", {
        headers: { Authorization: bad },
      }))
        .status,
      401,
    );
    assert.equal(
      (await from(f, "203.0.113.8", "/runs", { headers: bearer(good) })).status,
      200,
    );
    assert.equal((await from(f, "203.0.113.7", "/healthz")).status, 200);
  }, { rateLimitPerMinute: 5 });
});

Deno.test("auth: runs:read reads but cannot start (403 insufficient_scope); runs:write does both; other scopes nothing", async () => {
  await withFixture(async (f) => {
    const read = await token(["runs:read"]);
    const write = await token(["runs:write"]);
    const other = await mintToken({
      secret: SECRET,
      scopes: [] as never[],
      expiresInSeconds: 60,
    });
    const forbidden = await f.app.request(
      "/runs",
      postJson({ portfolio: f.portfolio }, bearer(read)),
    );
    assert.equal(forbidden.status, 403);
    assert.equal(
      forbidden.headers.get("WWW-Authenticate"),
      'Bearer realm="ifrs9", error="insufficient_scope", scope="runs:write"',
    );
    assert.deepEqual(await forbidden.json(), {
      error: {
        status: 403,
        message: "the token's scope does not include runs:write",
      },
    });
    assert.equal(
      (await f.app.request(
        "/movements",
        postJson({ from: "a", to: "b" }, bearer(read)),
      )).status,
      403,
    );
    assert.deepEqual(f.queue.submitted, []);
    assert.equal((await getRuns(f, `Bearer ${read}`)).status, 200);
    assert.equal((await getRuns(f, `Bearer ${write}`)).status, 200);
    assert.equal(
      (await f.app.request(
        "/runs",
        postJson({ portfolio: f.portfolio }, bearer(write)),
      )).status,
      202,
    );
    const none = await getRuns(f, `Bearer ${other}`);
    assert.equal(none.status, 403);
    assert.match(
      none.headers.get("WWW-Authenticate") ?? "",
      /scope="runs:read"/,
    );
    // A scope claim that is not a string grants nothing.
    const list = await sign(
      {
        sub: "x",
        scope: ["runs:write"],
        exp: Math.floor(Date.now() / 1000) + 60,
      },
      SECRET,
      "HS256",
    );
    assert.equal((await getRuns(f, `Bearer ${list}`)).status, 403);
  });
});

Deno.test("auth: the probes, metrics and documents need no token", async () => {
  await withFixture(async (f) => {
    for (
      const path of [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
      ]
    ) {
      assert.equal((await f.app.request(path)).status, 200, path);
    }
  });
});

Deno.test("auth disabled on purpose (no secret): every request passes and every response says so", async () => {
  await withFixture(async (f) => {
    const res = await f.app.request(
      "/runs",
      postJson({ portfolio: f.portfolio }),
    );
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("X-IFRS9-Auth"), "disabled");
    for (const path of ["/runs", "/healthz", "/nowhere", "/runs/unknown"]) {
      const r = await f.app.request(path);
      assert.equal(r.headers.get("X-IFRS9-Auth"), "disabled", path);
    }
    // Even a bad token passes: there is nothing to check it with.
    assert.equal((await getRuns(f, "Bearer garbage")).status, 200);
  }, { jwtSecret: null });
  await withFixture(async (f) => {
    assert.equal(
      (await f.app.request("/healthz")).headers.get("X-IFRS9-Auth"),
      null,
    );
  });
});

Deno.test("rate limit: past the budget a subject gets 429 with Retry-After; another subject and the probes do not", async () => {
  await withFixture(async (f) => {
    const a = await token(["runs:write"], "alice");
    const b = await token(["runs:read"], "bob");
    for (let i = 0; i < 3; i++) {
      assert.equal((await getRuns(f, `Bearer ${a}`)).status, 200);
    }
    const refused = await getRuns(f, `Bearer ${a}`);
    assert.equal(refused.status, 429);
    const retry = Number(refused.headers.get("Retry-After"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `${retry}`);
    assert.match(
      (await refused.json()).error.message,
      /^rate limit: at most 3 requests per 60 seconds; retry in \d+ s$/,
    );
    // POST counts against the same budget.
    assert.equal(
      (await f.app.request(
        "/runs",
        postJson({ portfolio: f.portfolio }, bearer(a)),
      )).status,
      429,
    );
    assert.equal((await getRuns(f, `Bearer ${b}`)).status, 200);
    for (let i = 0; i < 5; i++) {
      assert.equal((await f.app.request("/healthz")).status, 200);
    }
  }, { rateLimitPerMinute: 3 });
});

Deno.test("rateLimit() opens a new window once the last one ends, and keys requests without a subject by address", async () => {
  let t = 1_000;
  const app = new Hono();
  app.use(rateLimit({ limit: 2, now: () => t }));
  app.get("/", (c) => c.text("ok"));
  app.onError((e, c) =>
    c.text(e.message, 429, {
      "Retry-After":
        (e as { res?: Response }).res?.headers.get("Retry-After") ?? "",
    })
  );
  const addr = (hostname: string) => ({
    remoteAddr: { transport: "tcp", hostname, port: 1 },
  });
  const get = (host: string) => app.request("/", {}, addr(host));
  assert.equal((await get("10.0.0.1")).status, 200);
  assert.equal((await get("10.0.0.1")).status, 200);
  t += 45_000;
  const refused = await get("10.0.0.1");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("Retry-After"), "15");
  assert.equal((await get("10.0.0.2")).status, 200);
  t += 15_000;
  assert.equal((await get("10.0.0.1")).status, 200);
});

Deno.test("auth: /mcp is behind the same auth; the verified scopes reach the MCP door", async () => {
  await withFixture(async (f) => {
    const init = (headers: Record<string, string> = {}) =>
      postJson({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }, {
        Accept: "application/json, text/event-stream",
        ...headers,
      });
    const missing = await f.app.request("/mcp", init());
    assert.equal(missing.status, 401);
    assert.equal(
      missing.headers.get("WWW-Authenticate"),
      'Bearer realm="ifrs9"',
    );
    const bad = await f.app.request("/mcp", init(bearer(noneToken())));
    assert.equal(bad.status, 401);
    const noScope = await mintToken({
      secret: SECRET,
      scopes: [] as never[],
      expiresInSeconds: 60,
    });
    assert.equal(
      (await f.app.request("/mcp", init(bearer(noScope)))).status,
      403,
    );
    const read = await token(["runs:read"]);
    sent.push(read);
    const ok = await f.app.request("/mcp", init(bearer(read)));
    const text = await ok.text();
    assert.ok(ok.status < 400, `${ok.status}: ${text}`);
    assert.match(text, /"tools"|"jsonrpc"/);
  });
});

Deno.test("no token and no secret appears in any log line", async () => {
  await withFixture(async (f) => {
    const t = await token(["runs:write"]);
    sent.push(t);
    await getRuns(f, `Bearer ${t}`);
    await getRuns(f, `Bearer ${noneToken()}`);
    await getRuns(f, `Bearer ${await hs512Token()}`);
    await f.app.request(
      "/runs",
      postJson({ portfolio: "/etc/passwd" }, bearer(t)),
    );
    f.queue.refuse = new Error(`boom ${t}`.replace(t, "[no token here]"));
    await f.app.request(
      "/runs",
      postJson({ portfolio: f.portfolio }, bearer(t)),
    );
    assert.ok(f.lines.length >= 5);
    for (const line of f.lines) {
      assert.ok(!line.includes(SECRET), line);
      // (Tokens of a few characters, "abc", would match anything.)
      for (const s of sent.filter((s) => s.length > 20)) {
        // Its signature alone is enough to find a token again.
        const signature = s.split(".")[2] ?? "";
        if (signature !== "") assert.ok(!line.includes(signature), line);
        assert.ok(!line.includes(s), line);
      }
      assert.ok(!/eyJ[A-Za-z0-9_-]{10,}/.test(line), line);
    }
    const subjects = f.lines.map((l) => JSON.parse(l)).filter((l) =>
      l.event === "request"
    )
      .map((l) => l.subject);
    assert.ok(subjects.includes("tester"), JSON.stringify(subjects));
  });
});

Deno.test("bearerAuth() puts the verified subject and scopes in the context, never the token", async () => {
  const app = new Hono();
  app.use(bearerAuth({ secret: SECRET }));
  app.get(
    "/",
    (c) =>
      c.json({
        auth: c.get("auth" as never),
        subject: c.get("subject" as never),
      }),
  );
  const t = await mintToken({
    secret: SECRET,
    scopes: ["runs:write"],
    expiresInSeconds: 60,
    subject: "agent-7",
  });
  const body = await (await app.request("/", { headers: bearer(t) })).json();
  assert.deepEqual(body, {
    auth: {
      token: "",
      clientId: "agent-7",
      scopes: ["runs:write", "runs:read"],
      expiresAt: claims(t).exp,
    },
    subject: "agent-7",
  });
});

Deno.test("deno task token prints a token the server accepts, with the scope, subject and lifetime asked for", async () => {
  const env = new Map([["IFRS9_JWT_SECRET", SECRET]]);
  const out: string[] = [];
  const log = console.log;
  console.log = (line: string) => out.push(line);
  let code;
  try {
    code = await tokenMain(
      [
        "--scope",
        "runs:write",
        "--expires-in",
        "15m",
        "--subject",
        "scheduler",
      ],
      env,
    );
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  assert.equal(out.length, 1);
  const t = out[0];
  const c = claims(t);
  assert.equal(c.sub, "scheduler");
  assert.equal(c.scope, "runs:write");
  assert.equal((c.exp as number) - (c.iat as number), 15 * 60);
  assert.ok(Math.abs((c.iat as number) - Date.now() / 1000) < 60);
  await withFixture(async (f) => {
    const res = await f.app.request(
      "/runs",
      postJson({ portfolio: f.portfolio }, bearer(t)),
    );
    assert.equal(res.status, 202);
  });
});

Deno.test("deno task token refuses to run without IFRS9_JWT_SECRET (exit 2 naming it), with a short secret, an unknown scope or a bad duration", async () => {
  const run = async (args: string[], secret?: string) => {
    const env = new Map(
      secret === undefined ? [] : [["IFRS9_JWT_SECRET", secret]],
    );
    const out: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (l: string) => out.push(`out: ${l}`);
    console.error = (l: string) => out.push(`err: ${l}`);
    try {
      return { code: await tokenMain(args, env), out };
    } finally {
      [console.log, console.error] = [log, error];
    }
  };
  const noSecret = await run(["--scope", "runs:read"]);
  assert.equal(noSecret.code, 2);
  assert.match(noSecret.out.join("\n"), /^err: IFRS9_JWT_SECRET is not set/);
  const short = await run(["--scope", "runs:read"], "short-secret");
  assert.equal(short.code, 2);
  assert.match(
    short.out.join("\n"),
    /IFRS9_JWT_SECRET must be at least 32 bytes for HS256, got 12/,
  );
  assert.doesNotMatch(short.out.join("\n"), /short-secret/);
  const scope = await run(["--scope", "runs:admin runs:read"], SECRET);
  assert.equal(scope.code, 2);
  assert.match(
    scope.out.join("\n"),
    /--scope must list runs:read or runs:write, separated by spaces; unknown: runs:admin/,
  );
  assert.equal((await run(["--expires-in", "1h"], SECRET)).code, 2); // --scope is required
  for (const bad of ["0m", "1w", "1.5h", "-1h", "366d", "h"]) {
    const r = await run(["--scope", "runs:read", "--expires-in", bad], SECRET);
    assert.equal(r.code, 2, bad);
    assert.match(r.out.join("\n"), /--expires-in must be a whole number/, bad);
  }
  assert.deepEqual(["90s", "15m", "1h", "1d", "365d"].map(parseExpiresIn), [
    90,
    900,
    3600,
    86_400,
    31_536_000,
  ]);
});
