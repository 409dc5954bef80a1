/**
 * Load benchmark of the run server (`deno task bench --server`): starts the
 * real server (`tasks/serve.ts`) in a child process on a loopback port with
 * a temporary output folder and a generated secret, then measures it
 * beside two runs of a portfolio submitted over HTTP:
 *
 * 1. the liveness probe: `GET /healthz` one request at a time, 10 ms
 *    apart, for as long as the first run computes (what a container
 *    orchestrator sees; the issue's goal is a p99 under 100 ms at 1M
 *    loans);
 * 2. the load: a fixed number of requests at a fixed concurrency spread
 *    over `/healthz`, `/metrics` and `GET /runs` while the second run
 *    computes: requests per second, p50/p99 latency per route.
 *
 * An error is a refused connection or any status but 200.
 *
 * The load comes from this process over keep-alive connections, so client,
 * server and run share the machine's cores: the figures are what a
 * co-located scraper or scheduler sees, not the server alone. How much of
 * the load fell while the run was still computing is measured too
 * (`overlap`): figures with a small overlap say little about a busy server.
 *
 * The server's rate limit is lifted for the benchmark
 * (`IFRS9_RATE_LIMIT_PER_MINUTE`): it measures responsiveness, not the
 * limiter (tests/server cover 429s).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mintToken, UserError } from "../lib/mod.ts";

/** The routes the load is spread over, in turn. */
export const LOAD_ROUTES = ["/healthz", "/metrics", "/runs"] as const;

/** Options of {@link benchServer}. */
export interface ServerBenchOptions {
  /** The portfolio the run computes; its folder becomes the server's data root. */
  portfolio: string;
  /** Requests to send. @default 3000 */
  requests?: number;
  /** Requests in flight at once. @default 50 */
  concurrency?: number;
  /** Seconds to wait for the server to listen. @default 60 */
  startTimeoutSeconds?: number;
  /** Seconds to wait for the run to finish after the load. @default 1800 */
  runTimeoutSeconds?: number;
  /** Progress lines (server started, run submitted...). @default none */
  log?: (line: string) => void;
  /** Every line the server prints (its JSON logs), as it prints them. */
  onServerLine?: (line: string) => void;
}

/** Latency figures of one route, milliseconds. */
export interface RouteFigures {
  route: string;
  requests: number;
  /** Requests that failed: no answer, or a status other than 200. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A run submitted by the benchmark, as it ended. */
export interface RunOutcome {
  id: string;
  /** Its final status (`succeeded`), or the last seen if it did not finish in time. */
  status: string;
  /** Loans computed (rows valid), when known. */
  loans: number | null;
  /** From start to end, when it finished. */
  seconds: number | null;
  /** When it finished, milliseconds since the epoch. */
  finishedAt: number | null;
}

/** The liveness probe's figures: `/healthz` one request at a time while a run computes. */
export interface ProbeFigures {
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The run it probed beside. */
  run: RunOutcome;
}

/** The load's figures. */
export interface LoadFigures {
  requests: number;
  concurrency: number;
  /** Requests that failed, over all routes. */
  errors: number;
  /** Up to 5 failures, described (`GET /runs: 429`). */
  errorSamples: string[];
  /** Wall-clock seconds from the first request to the last answer. */
  seconds: number;
  requestsPerSecond: number;
  /** Over all routes. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  byRoute: RouteFigures[];
  /**
   * Share of the load's wall-clock time during which the run was still
   * computing (1: the whole load ran beside the run).
   */
  overlap: number;
  /** The run it loaded beside. */
  run: RunOutcome;
}

/** What {@link benchServer} measured. */
export interface ServerBenchResult {
  portfolio: string;
  probe: ProbeFigures;
  load: LoadFigures;
  /** The server's exit code after SIGTERM (0 expected). */
  serverExitCode: number;
}

/** The value below which a share `p` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/**
 * The port in a line the server prints when it listens: a JSON log line
 * with a numeric `port`, or a `http://host:port` address; null otherwise.
 */
export function listeningPort(line: string): number | null {
  const text = line.trim();
  if (text.startsWith("{")) {
    try {
      const fields = JSON.parse(text) as Record<string, unknown>;
      const event = String(fields.event ?? fields.msg ?? "");
      if (typeof fields.port === "number" && /listen/i.test(event)) {
        return fields.port;
      }
    } catch {
      // not JSON after all
    }
    return null;
  }
  const m = text.match(/\blistening on https?:\/\/[^\s/]+:(\d+)/i);
  return m ? Number(m[1]) : null;
}

/** A child server and what it printed. */
interface Served {
  child: Deno.ChildProcess;
  port: number;
  /** The last lines it printed (both streams), for error messages. */
  tail: string[];
  /** Resolves when both its streams are drained. */
  drained: Promise<void>;
}

const SERVE = fileURLToPath(new URL("../tasks/serve.ts", import.meta.url));

/**
 * Starts `tasks/serve.ts` with `env` on 127.0.0.1, port 0, and resolves
 * with the port it prints. Its output is read to the end (a full pipe would
 * stall the server) and its last lines kept.
 */
async function serve(
  env: Record<string, string>,
  timeoutSeconds: number,
  onLine: (line: string) => void = () => {},
): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVE],
    env: { ...env, PORT: "0", IFRS9_HOST: "127.0.0.1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  let found: (port: number) => void;
  const portSeen = new Promise<number>((resolve) => found = resolve);
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const port = listeningPort(line);
        if (port !== null) found(port);
        onLine(line);
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    }
    if (rest !== "") tail.push(rest);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)])
    .then(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    portSeen,
    child.status.then((s) => `exited with code ${s.code}`),
    new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`printed no port within ${timeoutSeconds} s`),
        timeoutSeconds * 1000,
      );
    }),
  ]);
  clearTimeout(timer);
  if (typeof outcome === "string") {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await drained;
    throw new UserError(
      "check",
      `The server (tasks/serve.ts) did not start: it ${outcome}. Its last output:\n${
        tail.join("\n")
      }`,
    );
  }
  return { child, port: outcome, tail, drained };
}

/** A fetch that always resolves: the response's status and body, or the error. */
async function request(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, init);
    return { status: res.status, body: await res.text() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a server after a failure: SIGTERM (its shutdown stops its runs'
 * children), then SIGKILL if it is still there after 15 s.
 */
async function stop(child: Deno.ChildProcess): Promise<void> {
  const signal = (s: Deno.Signal) => {
    try {
      child.kill(s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), 15_000)),
  ]);
  clearTimeout(timer);
  if (!exited) signal("SIGKILL");
  await child.status;
}

/** A job as GET /runs/:id shows it (the fields read here). */
interface JobView {
  status: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  counts?: { rowsValid?: number } | null;
}

/** Talks to the server under test as the scheduler would. */
class Client {
  constructor(
    readonly base: string,
    readonly auth: Record<string, string>,
  ) {}

  /** Submits a run of `portfolio` as `runId`. @throws {UserError} when refused. */
  async submit(portfolio: string, runId: string): Promise<void> {
    const r = await request(`${this.base}/runs`, {
      method: "POST",
      headers: { ...this.auth, "Content-Type": "application/json" },
      body: JSON.stringify({ portfolio, run_id: runId }),
    });
    if (!("status" in r) || r.status !== 202) {
      throw new UserError(
        "check",
        `POST /runs did not accept the run of ${portfolio}: ${
          "status" in r ? `${r.status} ${r.body}` : r.error
        }`,
      );
    }
  }

  async job(runId: string): Promise<JobView | null> {
    const r = await request(`${this.base}/runs/${runId}`, {
      headers: this.auth,
    });
    return "status" in r && r.status === 200 ? JSON.parse(r.body) : null;
  }

  /** Waits while the run is queued; returns what it shows then. */
  async started(runId: string): Promise<JobView | null> {
    let view = await this.job(runId);
    while (view?.status === "queued") {
      await sleep(20);
      view = await this.job(runId);
    }
    return view;
  }

  /** Waits until the run is no longer queued or running, or the deadline. */
  async finished(runId: string, deadline: number): Promise<RunOutcome> {
    let view = await this.job(runId);
    while (
      (view === null || view.status === "queued" ||
        view.status === "running") && Date.now() < deadline
    ) {
      await sleep(200);
      view = await this.job(runId);
    }
    const started = view?.startedAt ? Date.parse(view.startedAt) : NaN;
    const finished = view?.finishedAt ? Date.parse(view.finishedAt) : NaN;
    return {
      id: runId,
      status: view?.status ?? "unknown",
      loans: view?.counts?.rowsValid ?? null,
      seconds: Number.isFinite(started) && Number.isFinite(finished)
        ? (finished - started) / 1000
        : null,
      finishedAt: Number.isFinite(finished) ? finished : null,
    };
  }
}

/** Latency figures of a list of milliseconds (sorted in place). */
function figures(
  ms: number[],
): { p50Ms: number; p99Ms: number; maxMs: number } {
  ms.sort((a, b) => a - b);
  return {
    p50Ms: percentile(ms, 0.5),
    p99Ms: percentile(ms, 0.99),
    maxMs: ms[ms.length - 1] ?? NaN,
  };
}

/**
 * The liveness probe: `GET /healthz` one at a time, `PROBE_PAUSE_MS` apart,
 * for as long as the run computes (at least once).
 */
async function probe(
  client: Client,
  runId: string,
): Promise<Omit<ProbeFigures, "run">> {
  const ms: number[] = [];
  let errors = 0;
  let checked = performance.now();
  while (true) {
    const t = performance.now();
    const r = await request(`${client.base}/healthz`);
    ms.push(performance.now() - t);
    if (!("status" in r) || r.status !== 200) errors++;
    if (performance.now() - checked >= 200) {
      checked = performance.now();
      if ((await client.job(runId))?.status !== "running") break;
    }
    await sleep(PROBE_PAUSE_MS);
  }
  return { requests: ms.length, errors, ...figures(ms) };
}

/** Milliseconds between two liveness probes. */
export const PROBE_PAUSE_MS = 10;

/**
 * Starts the server and measures it while runs of `portfolio` compute:
 * first the liveness probe alone (one `/healthz` at a time) during a
 * first run, then the load (`requests` at `concurrency` over
 * {@link LOAD_ROUTES}) during a second; waits for each run and stops the
 * server with SIGTERM. Everything written goes to a temporary folder,
 * removed at the end.
 *
 * @throws {UserError} (kind `check`) when the server does not start or
 *   refuses a run.
 */
export async function benchServer(
  opts: ServerBenchOptions,
): Promise<ServerBenchResult> {
  const requests = opts.requests ?? 3000;
  const concurrency = opts.concurrency ?? 50;
  const log = opts.log ?? (() => {});
  const runTimeoutMs = (opts.runTimeoutSeconds ?? 1800) * 1000;
  const tmp = await Deno.makeTempDir({ prefix: "bench-server-" });
  const secret = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  let served: Served | undefined;
  try {
    served = await serve(
      {
        IFRS9_JWT_SECRET: secret,
        IFRS9_DATA_ROOTS: dirname(opts.portfolio),
        IFRS9_OUT_DIR: join(tmp, "runs"),
        IFRS9_MOVEMENT_DIR: join(tmp, "movements"),
        IFRS9_RATE_LIMIT_PER_MINUTE: "1000000",
        // On the way out after a failure, a run still computing is
        // stopped within seconds (after the load, both runs have ended).
        IFRS9_SHUTDOWN_GRACE_S: "5",
      },
      opts.startTimeoutSeconds ?? 60,
      opts.onServerLine,
    );
    const base = `http://127.0.0.1:${served.port}`;
    log(`server listening on ${base}`);
    const token = await mintToken({
      secret,
      scopes: ["runs:write"],
      expiresInSeconds: 3 * 3600,
      subject: "bench",
    });
    const client = new Client(base, { Authorization: `Bearer ${token}` });
    const stamp = Date.now();

    // 1. The liveness probe alone while a first run computes.
    const probeId = `bench-server-${stamp}-probe`;
    await client.submit(opts.portfolio, probeId);
    log(
      `run ${probeId} ${
        (await client.started(probeId))?.status
      }; probing /healthz`,
    );
    const probed = await probe(client, probeId);
    const probeRun = await client.finished(probeId, Date.now() + runTimeoutMs);
    log(`probe done: ${probed.requests} requests; run ${probeRun.status}`);

    // 2. The load while a second run computes.
    const loadId = `bench-server-${stamp}-load`;
    await client.submit(opts.portfolio, loadId);
    log(
      `run ${loadId} ${
        (await client.started(loadId))?.status
      }; loading the server`,
    );
    const latencies = new Map<string, number[]>(
      LOAD_ROUTES.map((r) => [r, []]),
    );
    const errors = new Map<string, number>(LOAD_ROUTES.map((r) => [r, 0]));
    const errorSamples: string[] = [];
    let next = 0;
    const worker = async () => {
      while (true) {
        const i = next++;
        if (i >= requests) return;
        const route = LOAD_ROUTES[i % LOAD_ROUTES.length];
        const t = performance.now();
        const r = await request(`${base}${route}`, {
          headers: route === "/runs" ? client.auth : {},
        });
        latencies.get(route)!.push(performance.now() - t);
        if (!("status" in r) || r.status !== 200) {
          errors.set(route, errors.get(route)! + 1);
          if (errorSamples.length < 5) {
            errorSamples.push(
              `GET ${route}: ${"status" in r ? r.status : r.error}`,
            );
          }
        }
      }
    };
    const loadStart = Date.now();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, requests) }, worker),
    );
    const loadSeconds = (performance.now() - t0) / 1000;
    const loadEnd = Date.now();
    log(`load done in ${loadSeconds.toFixed(2)} s; waiting for the run`);
    const loadRun = await client.finished(loadId, Date.now() + runTimeoutMs);
    const runEnd = loadRun.finishedAt ?? Infinity;
    const overlap = loadEnd > loadStart
      ? Math.max(0, Math.min(loadEnd, runEnd) - loadStart) /
        (loadEnd - loadStart)
      : 0;
    const byRoute = LOAD_ROUTES.map((route): RouteFigures => ({
      route,
      requests: latencies.get(route)!.length,
      errors: errors.get(route)!,
      ...figures(latencies.get(route)!),
    }));

    served.child.kill("SIGTERM");
    const status = await served.child.status;
    await served.drained;
    served = undefined;
    return {
      portfolio: opts.portfolio,
      probe: { ...probed, run: probeRun },
      load: {
        requests,
        concurrency,
        errors: byRoute.reduce((a, r) => a + r.errors, 0),
        errorSamples,
        seconds: loadSeconds,
        requestsPerSecond: requests / loadSeconds,
        ...figures([...latencies.values()].flat()),
        byRoute,
        overlap: Math.min(1, overlap),
        run: loadRun,
      },
      serverExitCode: status.code,
    };
  } finally {
    if (served !== undefined) {
      await stop(served.child);
      await served.drained;
    }
    await Deno.remove(tmp, { recursive: true });
  }
}
