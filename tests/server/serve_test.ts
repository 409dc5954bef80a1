/**
 * `deno task serve` as a process (tasks/serve.ts), on 127.0.0.1 with a port
 * the system chooses: a run started over HTTP with a real token, polled to
 * `succeeded`, its folder checked, `/metrics` linted by `promtool`;
 * SIGTERM during a run (within and past the grace period); SIGKILL during
 * a run and a restart on the same output folder; the environment refused
 * with exit 2. The server's configuration from the environment
 * (lib/server/config.ts) is tested here too.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sign } from "hono/jwt";
import { projectPath, readRunFolder } from "../../lib/mod.ts";
import {
  listenConfigFromEnv,
  serverConfigFromEnv,
} from "../../lib/server/config.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { promtoolCheckMetrics } from "./_promtool.ts";

const SERVE = projectPath("tasks/serve.ts");
const SECRET = "test-secret-".padEnd(48, "x");

/** A token for `scope`, valid for ten minutes. */
function token(scope = "runs:write"): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + 600;
  return sign({ sub: "serve-test", scope, exp }, SECRET, "HS256");
}

/** A running `deno task serve` process and what it logged. */
interface Server {
  child: Deno.ChildProcess;
  port: number;
  base: string;
  /** Every JSON line on stdout so far. */
  logs: Record<string, unknown>[];
  /** Everything on stderr so far. */
  stderr: () => string;
  /** Resolves with the exit status once the process ends. */
  status: Promise<Deno.CommandStatus>;
  /** Resolves once stdout and stderr are read to their end. */
  drained: Promise<void>;
}

/** Environment of a server over the folders of `root`. */
function envFor(root: string, extra: Record<string, string> = {}) {
  return {
    IFRS9_JWT_SECRET: SECRET,
    IFRS9_DATA_ROOTS: join(root, "data"),
    IFRS9_OUT_DIR: join(root, "runs"),
    IFRS9_MOVEMENT_DIR: join(root, "movements"),
    NO_COLOR: "1",
    ...extra,
  };
}

/** Starts the server; resolves once it logs `listening` with its port. */
async function start(
  env: Record<string, string>,
  args: string[] = ["--port", "0", "--host", "127.0.0.1"],
  { ownGroup = false }: { ownGroup?: boolean } = {},
): Promise<Server> {
  // `setsid` makes the server lead a process group of its own, as a shell
  // does for a foreground command, so a test can signal the whole group.
  const command = ["run", "-A", SERVE, ...args];
  const child = new Deno.Command(ownGroup ? "setsid" : Deno.execPath(), {
    args: ownGroup ? [Deno.execPath(), ...command] : command,
    cwd: projectPath("."),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  let err = "";
  const listening = Promise.withResolvers<number>();
  const out = (async () => {
    let buffer = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { event: "not_json", line };
        }
        logs.push(entry);
        if (entry.event === "listening") {
          listening.resolve(
            entry.port as number,
          );
        }
      }
    }
  })();
  const errs = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      err += chunk;
    }
  })();
  const status = child.status;
  const drained = Promise.all([out, errs]).then(() => {});
  status.then(() =>
    listening.reject(new Error(`server exited before listening:\n${err}`))
  );
  const timer = setTimeout(
    () =>
      listening.reject(new Error(`server not listening after 60 s:\n${err}`)),
    60_000,
  );
  try {
    const port = await listening.promise;
    return {
      child,
      port,
      base: `http://127.0.0.1:${port}`,
      logs,
      stderr: () => err,
      status,
      drained,
    };
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
    await drained;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a server (SIGTERM), waits for its exit and its output. */
async function stop(server: Server, signal: Deno.Signal = "SIGTERM") {
  try {
    server.child.kill(signal);
  } catch { /* already gone */ }
  const status = await server.status;
  await server.drained;
  return status;
}

/** A request with a bearer token. */
async function call(
  server: Server,
  path: string,
  init: RequestInit & { scope?: string } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await token(init.scope)}`);
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  return fetch(`${server.base}${path}`, { ...init, headers });
}

/** A job's record over HTTP. */
async function getRun(server: Server, id: string) {
  const res = await call(server, `/runs/${id}`, { scope: "runs:read" });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/** Polls GET /runs/:id until `until(record)` holds; calls `meanwhile` on each poll. */
async function poll(
  server: Server,
  id: string,
  until: (r: { status: string }) => boolean,
  meanwhile: (r: { status: string }) => Promise<void> = async () => {},
  seconds = 180,
) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const r = await getRun(server, id);
    if (until(r)) return r;
    await meanwhile(r);
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`run ${id} did not get there in ${seconds} s`);
}

const isFinal = (r: { status: string }) =>
  ["succeeded", "failed", "interrupted"].includes(r.status);

/** A temp root with a data folder holding a portfolio of `n` loans. */
async function fixture(n: number) {
  const root = await Deno.makeTempDir({ prefix: "serve-test-" });
  await Deno.mkdir(join(root, "data"));
  const portfolio = writePortfolio(join(root, "data", "book.parquet"), n);
  return { root, portfolio };
}

Deno.test("serve: a run over HTTP on loopback is accepted (202), polled to succeeded, its folder complete; /healthz answers while it computes; /metrics passes promtool", async () => {
  const { root, portfolio } = await fixture(200_000);
  const server = await start(envFor(root));
  try {
    // No token, no run.
    const anonymous = await fetch(`${server.base}/runs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ portfolio }),
    });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    const res = await call(server, "/runs", {
      method: "POST",
      body: JSON.stringify({ portfolio, run_id: "q4" }),
    });
    const accepted = await res.json();
    assert.equal(res.status, 202, JSON.stringify(accepted));
    assert.deepEqual(accepted, { run_id: "q4", status_url: "/runs/q4" });

    // The probe answers while the run computes in its child process.
    const healthMs: number[] = [];
    const done = await poll(server, "q4", isFinal, async (r) => {
      if (r.status !== "running") return;
      const t0 = performance.now();
      const h = await fetch(`${server.base}/healthz`);
      await h.body?.cancel();
      assert.equal(h.status, 200);
      healthMs.push(performance.now() - t0);
    });
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    assert.ok(healthMs.length > 0, "the run was never seen running");
    assert.ok(
      Math.max(...healthMs) < 1000,
      `healthz took ${Math.max(...healthMs)} ms`,
    );
    console.log(
      `healthz during the run: ${healthMs.length} probes, slowest ${
        Math.max(...healthMs).toFixed(1)
      } ms`,
    );

    // The run folder is complete, and the record tells its figures.
    const dir = join(root, "runs", "q4");
    assert.equal(done.dir, dir);
    const run = await readRunFolder(dir, { trusted: true });
    assert.equal(run.manifest?.status, "complete");
    assert.equal(run.summary.totals.count, 200_000);
    assert.equal(done.summary.totals.ecl, run.summary.totals.ecl);
    assert.deepEqual(done.counts, {
      rowsRead: 200_000,
      rowsValid: 200_000,
      rowsRejected: 0,
      maxRejectRate: 0.05,
    });
    const report = await call(server, "/runs/q4/report", {
      scope: "runs:read",
    });
    assert.equal(report.status, 200);
    assert.match(await report.text(), /<html/i);
    // A used id is refused.
    const again = await call(server, "/runs", {
      method: "POST",
      body: JSON.stringify({ portfolio, run_id: "q4" }),
    });
    assert.equal(again.status, 409);
    await again.body?.cancel();

    // The scrape is valid Prometheus text and counts the run.
    const metrics = await fetch(`${server.base}/metrics`);
    const text = await metrics.text();
    assert.equal(metrics.status, 200);
    const lint = await promtoolCheckMetrics(text);
    assert.equal(lint.code, 0, lint.output);
    assert.match(
      text,
      /^ifrs9_jobs_total\{kind="run",status="succeeded"\} 1$/m,
    );
    assert.match(text, /^ifrs9_loans_processed_total 200000$/m);
  } finally {
    const status = await stop(server);
    await Deno.remove(root, { recursive: true });
    assert.equal(status.code, 0, server.stderr());
  }
  // One JSON line per request and per job event; never the secret.
  const events = server.logs.map((l) => l.event);
  for (
    const e of [
      "listening",
      "request",
      "job_queued",
      "job_running",
      "job_succeeded",
      "shutdown",
      "stopped",
    ]
  ) {
    assert.ok(events.includes(e), `no ${e} line in ${events.join(" ")}`);
  }
  assert.ok(!events.includes("not_json"), JSON.stringify(server.logs));
  assert.ok(!JSON.stringify(server.logs).includes(SECRET));
  assert.ok(!JSON.stringify(server.logs).includes("Bearer"));
});

Deno.test("serve: SIGTERM during a run: exit 0; the run finishes within the grace period, or is interrupted past it", async () => {
  for (
    const [grace, expected] of [["120", "succeeded"], ["0", "interrupted"]]
  ) {
    const { root, portfolio } = await fixture(200_000);
    try {
      const server = await start(
        envFor(root, { IFRS9_SHUTDOWN_GRACE_S: grace }),
      );
      let status: Deno.CommandStatus;
      try {
        const res = await call(server, "/runs", {
          method: "POST",
          body: JSON.stringify({ portfolio, run_id: "q4" }),
        });
        assert.equal(res.status, 202);
        await res.body?.cancel();
        await poll(server, "q4", (r) => r.status === "running" || isFinal(r));
      } finally {
        status = await stop(server, "SIGTERM");
      }
      assert.equal(status.code, 0, server.stderr());
      const finished = server.logs.find((l) =>
        l.id === "q4" && l.event === `job_${expected}`
      );
      assert.ok(
        finished,
        `grace ${grace}: ${
          JSON.stringify(server.logs.filter((l) => l.id === "q4"))
        }`,
      );
      // What the registry says after a restart.
      const again = await start(envFor(root));
      try {
        const record = await getRun(again, "q4");
        assert.equal(record.status, expected, `grace ${grace}`);
        const complete = await Deno.stat(join(root, "runs", "q4")).then(
          () => true,
          () => false,
        );
        assert.equal(complete, expected === "succeeded");
      } finally {
        assert.equal((await stop(again)).code, 0);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("serve: SIGINT to the whole process group (Ctrl-C in a terminal) reaches the server only: the run finishes within the grace period", async () => {
  const { root, portfolio } = await fixture(200_000);
  try {
    const server = await start(
      envFor(root, { IFRS9_SHUTDOWN_GRACE_S: "120" }),
      undefined,
      { ownGroup: true },
    );
    let status: Deno.CommandStatus;
    try {
      const res = await call(server, "/runs", {
        method: "POST",
        body: JSON.stringify({ portfolio, run_id: "q4" }),
      });
      assert.equal(res.status, 202);
      await res.body?.cancel();
      await poll(server, "q4", (r) => r.status === "running" || isFinal(r));
    } finally {
      // The group's id is its leader's pid.
      Deno.kill(-server.child.pid, "SIGINT");
      status = await server.status;
      await server.drained;
    }
    assert.equal(status.code, 0, server.stderr());
    const q4 = server.logs.filter((l) => l.id === "q4").map((l) => l.event);
    assert.equal(q4.at(-1), "job_succeeded", q4.join(" "));
    await readRunFolder(join(root, "runs", "q4"), { trusted: true });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serve: killed with SIGKILL during a run, restarted on the same folder: the run shows interrupted and its process is gone", async () => {
  const { root, portfolio } = await fixture(200_000);
  try {
    const server = await start(envFor(root));
    let childPid: number | undefined;
    try {
      const res = await call(server, "/runs", {
        method: "POST",
        body: JSON.stringify({ portfolio, run_id: "q4" }),
      });
      assert.equal(res.status, 202);
      await res.body?.cancel();
      await poll(server, "q4", (r) => r.status === "running");
      childPid = server.logs.find((l) => l.event === "job_process")
        ?.pid as number;
      assert.ok(childPid > 0);
    } finally {
      await stop(server, "SIGKILL");
    }
    // The run's process notices and ends too (its stdin closed).
    const end = Date.now() + 10_000;
    while (Date.now() < end && await alive(childPid!)) {
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.equal(
      await alive(childPid!),
      false,
      `run process ${childPid} still alive`,
    );

    const again = await start(envFor(root));
    try {
      const record = await getRun(again, "q4");
      assert.equal(record.status, "interrupted");
      assert.notEqual(record.finishedAt, null);
      const list = await call(again, "/runs", { scope: "runs:read" });
      const { runs } = await list.json();
      assert.deepEqual(runs.map((r: { id: string }) => r.id), ["q4"]);
      await assert.rejects(() => Deno.stat(join(root, "runs", "q4")));
      // The id stays taken: a new run needs a new id.
      const retry = await call(again, "/runs", {
        method: "POST",
        body: JSON.stringify({ portfolio, run_id: "q4" }),
      });
      assert.equal(retry.status, 409);
      await retry.body?.cancel();
    } finally {
      assert.equal((await stop(again)).code, 0);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Whether process `pid` exists (and is not a zombie). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

Deno.test("serve: a bad environment or flag exits 2 naming each variable, never the secret", async () => {
  const root = await Deno.makeTempDir({ prefix: "serve-test-" });
  try {
    const cases: [Record<string, string>, string[], RegExp[]][] = [
      [
        { IFRS9_JWT_SECRET: "short-secret", IFRS9_MAX_QUEUED_RUNS: "many" },
        [],
        [
          /IFRS9_JWT_SECRET must be at least 32 bytes/,
          /IFRS9_MAX_QUEUED_RUNS must be a whole number/,
        ],
      ],
      [{ IFRS9_JWT_SECRET: "" }, [], [
        /IFRS9_JWT_SECRET is required/,
        /IFRS9_AUTH=disabled/,
      ]],
      [{ PORT: "http" }, [], [
        /PORT must be a whole number from 0 to 65535, got "http"/,
      ]],
      [{}, ["--port", "99999"], [
        /--port must be a whole number from 0 to 65535, got 99999/,
      ]],
      [{}, ["--bogus"], [/unknown flag --bogus/]],
    ];
    for (const [extra, args, messages] of cases) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SERVE, ...args],
        cwd: projectPath("."),
        env: { ...envFor(root), ...extra },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 2, `${JSON.stringify(extra)} ${args}: ${stderr}`);
      for (const m of messages) assert.match(stderr, m);
      assert.doesNotMatch(stderr, /short-secret|\n\s+at /);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serve: with IFRS9_AUTH=disabled it says so on start, and serves without a token", async () => {
  const root = await Deno.makeTempDir({ prefix: "serve-test-" });
  try {
    const env: Record<string, string> = {
      ...envFor(root),
      IFRS9_AUTH: "disabled",
    };
    delete env.IFRS9_JWT_SECRET;
    const server = await start(env);
    try {
      const warning = server.logs.find((l) => l.event === "auth_disabled");
      assert.equal(warning?.level, "warn");
      assert.match(String(warning?.message), /AUTHENTICATION IS DISABLED/);
      assert.equal(
        server.logs.find((l) => l.event === "listening")?.auth,
        "disabled",
      );
      const res = await fetch(`${server.base}/runs`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      assert.equal((await stop(server, "SIGINT")).code, 0);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serve: with IFRS9_AUTH=disabled and no host given it listens on 127.0.0.1 only, and says so", async () => {
  const root = await Deno.makeTempDir({ prefix: "serve-test-" });
  try {
    const env: Record<string, string> = {
      ...envFor(root),
      IFRS9_AUTH: "disabled",
    };
    delete env.IFRS9_JWT_SECRET;
    const server = await start(env, ["--port", "0"]);
    try {
      assert.equal(
        server.logs.find((l) => l.event === "listening")?.hostname,
        "127.0.0.1",
      );
      const warning = server.logs.find((l) => l.event === "auth_disabled");
      assert.equal(warning?.hostname, "127.0.0.1");
      assert.match(
        String(warning?.listen),
        /^Listening on 127\.0\.0\.1 \(this machine\) only, as authentication is disabled; give --host or IFRS9_HOST/,
      );
      const res = await fetch(`${server.base}/healthz`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      assert.equal((await stop(server)).code, 0);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serverConfigFromEnv: defaults from the project, each variable read and checked", () => {
  const secret = "s".repeat(32);
  const d = serverConfigFromEnv({ IFRS9_JWT_SECRET: secret });
  assert.deepEqual(d, {
    dataRoots: [projectPath("data")],
    rulesRoots: [projectPath("config")],
    outDir: projectPath("data/runs"),
    movementDir: projectPath("data/movements"),
    defaultRules: projectPath("config/ifrs9_rules.yaml"),
    jwtSecret: secret,
    maxConcurrentRuns: 1,
    maxQueuedRuns: 10,
    shutdownGraceSeconds: 30,
    rateLimitPerMinute: 120,
  });
  const c = serverConfigFromEnv({
    IFRS9_JWT_SECRET: secret,
    IFRS9_DATA_ROOTS: "data/a:/srv/b: :s3://bucket/books",
    IFRS9_OUT_DIR: "/srv/runs",
    IFRS9_MOVEMENT_DIR: "out/movements",
    IFRS9_RULES: "/etc/rules.yaml",
    IFRS9_MAX_CONCURRENT_RUNS: "4",
    IFRS9_MAX_QUEUED_RUNS: "0",
    IFRS9_SHUTDOWN_GRACE_S: "2.5",
    IFRS9_RATE_LIMIT_PER_MINUTE: "600",
  });
  assert.deepEqual(c.dataRoots, [
    projectPath("data/a"),
    "/srv/b",
    "s3://bucket/books",
  ]);
  assert.equal(c.outDir, "/srv/runs");
  assert.equal(c.movementDir, projectPath("out/movements"));
  assert.equal(c.defaultRules, "/etc/rules.yaml");
  assert.equal(c.maxConcurrentRuns, 4);
  assert.equal(c.maxQueuedRuns, 0);
  assert.equal(c.shutdownGraceSeconds, 2.5);
  assert.equal(c.rateLimitPerMinute, 600);
  // Authentication off on purpose: no secret needed, none kept.
  assert.equal(
    serverConfigFromEnv({ IFRS9_AUTH: "disabled", IFRS9_JWT_SECRET: secret })
      .jwtSecret,
    null,
  );
  // 32 bytes, not 32 characters.
  assert.equal(
    serverConfigFromEnv({ IFRS9_JWT_SECRET: "é".repeat(16) }).jwtSecret,
    "é".repeat(16),
  );
  assert.deepEqual(
    listenConfigFromEnv({ PORT: "0", IFRS9_HOST: "127.0.0.1" }),
    {
      port: 0,
      hostname: "127.0.0.1",
      hostDefaulted: false,
    },
  );
});

Deno.test("listenConfigFromEnv: every interface by default; the loopback only when authentication is disabled and no host is given", () => {
  assert.deepEqual(listenConfigFromEnv({}), {
    port: 8080,
    hostname: "0.0.0.0",
    hostDefaulted: true,
  });
  assert.deepEqual(
    listenConfigFromEnv({ IFRS9_AUTH: "enabled" }).hostname,
    "0.0.0.0",
  );
  assert.deepEqual(listenConfigFromEnv({ IFRS9_AUTH: "disabled" }), {
    port: 8080,
    hostname: "127.0.0.1",
    hostDefaulted: true,
  });
  assert.deepEqual(
    listenConfigFromEnv({ IFRS9_AUTH: " disabled ", IFRS9_HOST: "" }).hostname,
    "127.0.0.1",
  );
  // A host given on purpose is kept, with or without authentication.
  assert.deepEqual(
    listenConfigFromEnv({ IFRS9_AUTH: "disabled", IFRS9_HOST: "0.0.0.0" }),
    { port: 8080, hostname: "0.0.0.0", hostDefaulted: false },
  );
  assert.equal(
    listenConfigFromEnv({ IFRS9_HOST: "10.0.0.5" }).hostname,
    "10.0.0.5",
  );
});

Deno.test("serverConfigFromEnv: every bad value is a usage error naming its variable, all at once", () => {
  const secret = "s".repeat(32);
  const bad: [Record<string, string>, RegExp][] = [
    [
      { IFRS9_JWT_SECRET: "x".repeat(31) },
      /IFRS9_JWT_SECRET must be at least 32 bytes for HS256, got 31/,
    ],
    [{ IFRS9_JWT_SECRET: "" }, /IFRS9_JWT_SECRET is required/],
    [
      { IFRS9_AUTH: "off" },
      /IFRS9_AUTH must be "enabled" or "disabled", got "off"/,
    ],
    [
      { IFRS9_MAX_CONCURRENT_RUNS: "0" },
      /IFRS9_MAX_CONCURRENT_RUNS must be from 1 to 64, got "0"/,
    ],
    [
      { IFRS9_MAX_CONCURRENT_RUNS: "1.5" },
      /IFRS9_MAX_CONCURRENT_RUNS must be a whole number from 1 to 64/,
    ],
    [
      { IFRS9_MAX_QUEUED_RUNS: "-1" },
      /IFRS9_MAX_QUEUED_RUNS must be a whole number from 0 to 10000, got "-1"/,
    ],
    [
      { IFRS9_SHUTDOWN_GRACE_S: "forever" },
      /IFRS9_SHUTDOWN_GRACE_S must be a number from 0 to 3600/,
    ],
    [
      { IFRS9_RATE_LIMIT_PER_MINUTE: "1e9" },
      /IFRS9_RATE_LIMIT_PER_MINUTE must be a whole number/,
    ],
    [
      { IFRS9_OUT_DIR: "s3://bucket/runs" },
      /IFRS9_OUT_DIR must be a local folder/,
    ],
    [
      { IFRS9_DATA_ROOTS: "::" },
      /IFRS9_DATA_ROOTS must be one or more folders/,
    ],
  ];
  for (const [env, message] of bad) {
    assert.throws(
      () => serverConfigFromEnv({ IFRS9_JWT_SECRET: secret, ...env }),
      (e: Error & { kind?: string }) => {
        assert.equal(e.name, "UserError");
        assert.equal(e.kind, "usage");
        assert.match(e.message, message);
        const given = env.IFRS9_JWT_SECRET ?? secret;
        if (given !== "") assert.ok(!e.message.includes(given));
        return true;
      },
      JSON.stringify(env),
    );
  }
  // Several problems: one message naming each.
  assert.throws(
    () =>
      serverConfigFromEnv({
        IFRS9_MAX_CONCURRENT_RUNS: "x",
        IFRS9_MAX_QUEUED_RUNS: "y",
      }),
    /IFRS9_JWT_SECRET is required.*; IFRS9_MAX_CONCURRENT_RUNS.*; IFRS9_MAX_QUEUED_RUNS/,
  );
});

/** The Dockerfile's instructions, continuation lines joined, comments out. */
async function dockerfile(): Promise<{ op: string; args: string }[]> {
  const text = await Deno.readTextFile(projectPath("Dockerfile"));
  return text.replace(/\\\n/g, " ").split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

Deno.test("Dockerfile: the image's command is the server in exec form, as a user who is not root, health-checked", async () => {
  const steps = await dockerfile();
  const last = (op: string) => steps.findLast((s) => s.op === op);
  // The default command is `deno task serve`, in exec form (a JSON array:
  // no shell, so the signals reach Deno), with no npx in front.
  const cmd = last("CMD");
  assert.ok(cmd, "no CMD");
  assert.deepEqual(JSON.parse(cmd.args), ["deno", "task", "serve"]);
  assert.equal(last("ENTRYPOINT"), undefined);
  // A user who is not root, set before the command and after the last
  // step that needs root.
  const user = last("USER");
  assert.ok(user, "no USER: the image runs as root");
  assert.ok(!/^(root|0)(:|$)/.test(user.args), user.args);
  assert.ok(steps.indexOf(user) < steps.indexOf(cmd));
  const created = steps.find((s) =>
    s.op === "RUN" && s.args.includes(`useradd`) &&
    new RegExp(`\\b${user.args.split(":")[0]}\\b`).test(s.args)
  );
  assert.ok(created, `the user ${user.args} is never created`);
  // After USER, files are the user's and nothing installs system packages.
  for (const s of steps.slice(steps.indexOf(user))) {
    if (s.op === "COPY") assert.match(s.args, /--chown=ifrs9:ifrs9/, s.args);
    if (s.op === "RUN") {
      assert.doesNotMatch(s.args, /apt-get|npm install -g/, s.args);
    }
  }
  // Deno is installed once, on the PATH; no step or command uses npx.
  assert.ok(
    steps.some((s) => s.op === "RUN" && /npm install -g deno@/.test(s.args)),
  );
  assert.ok(!steps.some((s) => /\bnpx\b/.test(s.args)));
  // The health check asks /healthz of the server the command starts.
  const health = last("HEALTHCHECK");
  assert.ok(health, "no HEALTHCHECK");
  assert.match(health.args, /\/healthz/);
  assert.match(health.args, /process\.env\.PORT \|\| 8080/);
  assert.ok(steps.some((s) => s.op === "EXPOSE" && s.args === "8080"));
});
