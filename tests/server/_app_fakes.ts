/**
 * Fakes of the run server's parts for the app's in-memory tests
 * (`app_test.ts`, `auth_test.ts`), written against the contract
 * (lib/server/types.ts): a registry in memory, a queue that records what it
 * is given (or refuses it), metrics that record what they are told, a
 * logger that keeps its lines; and a temporary data root with a portfolio.
 *
 * @module
 */
import { join } from "node:path";
import { decode, sign } from "hono/jwt";
import { type AppOptions, createApp } from "../../lib/server/app.ts";
import { mintToken, type Scope } from "../../lib/server/auth.ts";
import { createJsonLogger } from "../../lib/server/log.ts";
import { projectPath } from "../../lib/project.ts";
import {
  type JobQueue,
  type JobRecord,
  JobRefusedError,
  type JobRegistry,
  type MovementRequest,
  type RunRequest,
  type ServerConfig,
  type ServerDeps,
  type ServerMetrics,
} from "../../lib/server/types.ts";

/** The secret the fake server signs with (32 bytes, RFC 7518 §3.2). */
export const SECRET = "test-secret-0123456789abcdef0123";

/** A job record as the queue would make it. */
export function jobRecord(
  id: string,
  kind: "run" | "movement",
  request: RunRequest | MovementRequest,
  patch: Partial<JobRecord> = {},
): JobRecord {
  return {
    id,
    kind,
    status: "queued",
    request,
    submittedAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    step: null,
    steps: [],
    progress: null,
    counts: null,
    summary: null,
    dir: null,
    error: null,
    ...patch,
  };
}

/** A registry in memory, newest first. */
export class FakeRegistry implements JobRegistry {
  records: JobRecord[] = [];
  list(): JobRecord[] {
    return [...this.records];
  }
  get(id: string): JobRecord | undefined {
    return this.records.find((r) => r.id === id);
  }
  put(record: JobRecord): Promise<void> {
    this.records = [record, ...this.records.filter((r) => r.id !== record.id)];
    return Promise.resolve();
  }
}

/**
 * A queue that records each submit, or throws `refuse` when set; as the
 * real queue, it refuses an id the registry already holds (409).
 */
export class FakeQueue implements JobQueue {
  submitted: { kind: string; request: RunRequest | MovementRequest }[] = [];
  refuse: Error | null = null;
  constructor(readonly registry: FakeRegistry) {}
  submit(kind: "run", request: RunRequest): Promise<JobRecord>;
  submit(kind: "movement", request: MovementRequest): Promise<JobRecord>;
  async submit(
    kind: "run" | "movement",
    request: RunRequest | MovementRequest,
  ): Promise<JobRecord> {
    if (this.refuse) throw this.refuse;
    const id = "runId" in request ? request.runId : request.movementId;
    // Checked and taken in one synchronous step, as the real queue does.
    if (this.registry.get(id) !== undefined) {
      throw new JobRefusedError(
        409,
        `${kind} id ${id} is in use; choose another ${
          kind === "run" ? "run_id" : "movement_id"
        }`,
      );
    }
    this.submitted.push({ kind, request });
    const record = jobRecord(id, kind, request);
    await this.registry.put(record);
    return record;
  }
  depth() {
    return { queued: 3, running: 1 };
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Metrics that record every call. */
export class FakeMetrics implements ServerMetrics {
  requests: {
    route: string;
    method: string;
    status: number;
    seconds: number;
  }[] = [];
  depths: { queued: number; running: number }[] = [];
  observeRequest(
    route: string,
    method: string,
    status: number,
    seconds: number,
  ) {
    this.requests.push({ route, method, status, seconds });
  }
  observeJob(_record: JobRecord) {}
  setQueueDepth(depth: { queued: number; running: number }) {
    this.depths.push(depth);
  }
  render() {
    return Promise.resolve({
      contentType: "text/plain; version=0.0.4; charset=utf-8",
      body: `ifrs9_jobs_queued ${this.depths.at(-1)?.queued ?? 0}\n`,
    });
  }
}

/** A temporary data root holding `book.csv`, with runs and movements folders. */
export interface Fixture {
  root: string;
  portfolio: string;
  outDir: string;
  movementDir: string;
  config: ServerConfig;
  registry: FakeRegistry;
  queue: FakeQueue;
  metrics: FakeMetrics;
  lines: string[];
  deps: ServerDeps;
  app: ReturnType<typeof createApp>;
  cleanup(): Promise<void>;
}

/**
 * A fresh fixture; `config` overrides the server's configuration,
 * `options` are the app's (a clock).
 */
export async function fixture(
  config: Partial<ServerConfig> = {},
  options: AppOptions = {},
): Promise<Fixture> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "app-" }));
  const portfolio = join(root, "book.csv");
  await Deno.writeTextFile(portfolio, "loan_id\nL1\n");
  const outDir = join(root, "runs");
  const movementDir = join(root, "movements");
  await Deno.mkdir(outDir);
  const full: ServerConfig = {
    dataRoots: [root],
    rulesRoots: [projectPath("config")],
    outDir,
    movementDir,
    defaultRules: projectPath("config/ifrs9_rules.yaml"),
    jwtSecret: SECRET,
    maxConcurrentRuns: 1,
    maxQueuedRuns: 10,
    shutdownGraceSeconds: 1,
    rateLimitPerMinute: 1000,
    ...config,
  };
  const registry = new FakeRegistry();
  const queue = new FakeQueue(registry);
  const metrics = new FakeMetrics();
  const lines: string[] = [];
  const deps: ServerDeps = {
    config: full,
    registry,
    queue,
    metrics,
    logger: createJsonLogger((line) => lines.push(line)),
  };
  return {
    root,
    portfolio,
    outDir,
    movementDir,
    config: full,
    registry,
    queue,
    metrics,
    lines,
    deps,
    app: createApp(deps, options),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** A valid token with `scopes`, an hour long. */
export function token(
  scopes: Scope[] = ["runs:write"],
  subject = "tester",
): Promise<string> {
  return mintToken({
    secret: SECRET,
    scopes,
    expiresInSeconds: 3600,
    subject,
  });
}

/** Headers with a bearer token. */
export function bearer(t: string): Record<string, string> {
  return { Authorization: `Bearer ${t}` };
}

/** A JSON POST's init. */
export function postJson(
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** A token signed with HS512 by the right secret. */
export function hs512Token(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { sub: "x", scope: "runs:write", exp: now + 3600 },
    SECRET,
    "HS512",
  );
}

/** An unsigned token (`alg: none`) with a valid-looking payload. */
export function noneToken(): string {
  const part = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(
      /\//g,
      "_",
    );
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none", typ: "JWT" })}.${
    part({ sub: "x", scope: "runs:write", exp: now + 3600 })
  }.`;
}

/** The claims of a token (tests read them, the server verifies them). */
export function claims(t: string): Record<string, unknown> {
  return decode(t).payload as Record<string, unknown>;
}
