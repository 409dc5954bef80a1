/**
 * The job queue (lib/server/queue.ts) with real child processes on small
 * portfolios: the concurrency limit, the bounded queue (429), used ids
 * (409), failures with their message, a child killed from outside, a
 * movement, and shutdown (queued and unfinished jobs `interrupted`, then
 * 503). Status changes are observed through a recording metrics object,
 * independently of the records the queue keeps.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createJobQueue } from "../../lib/server/queue.ts";
import { createJobRegistry } from "../../lib/server/registry.ts";
import {
  type JobRecord,
  JobRefusedError,
  type JobRegistry,
  type JobStatus,
  type ServerConfig,
  type ServerMetrics,
} from "../../lib/server/types.ts";
import { projectPath, readRunFolder } from "../../lib/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";

const RULES = projectPath("config/ifrs9_rules.yaml");
const FINAL = new Set<JobStatus>(["succeeded", "failed", "interrupted"]);

/** Every status change as metrics saw it, in order. */
interface Observed {
  id: string;
  status: JobStatus;
  at: number;
}

/** A queue over a fresh temp folder, with recording metrics and logger. */
async function setup(
  limits: { maxConcurrentRuns?: number; maxQueuedRuns?: number } = {},
) {
  const root = await Deno.makeTempDir({ prefix: "queue-test-" });
  const config: ServerConfig = {
    dataRoots: [join(root, "data")],
    rulesRoots: [projectPath("config")],
    outDir: join(root, "runs"),
    movementDir: join(root, "movements"),
    defaultRules: RULES,
    jwtSecret: null,
    maxConcurrentRuns: limits.maxConcurrentRuns ?? 1,
    maxQueuedRuns: limits.maxQueuedRuns ?? 10,
    shutdownGraceSeconds: 0,
    rateLimitPerMinute: 1000,
  };
  await Deno.mkdir(join(root, "data"));
  const observed: Observed[] = [];
  const depths: { queued: number; running: number }[] = [];
  const metrics: ServerMetrics = {
    observeRequest() {},
    observeJob: (r) =>
      observed.push({ id: r.id, status: r.status, at: performance.now() }),
    setQueueDepth: (d) => depths.push({ ...d }),
    render: () => Promise.resolve({ contentType: "text/plain", body: "" }),
  };
  const logs: {
    level: string;
    event: string;
    fields: Record<string, unknown>;
  }[] = [];
  const onLog = new Set<
    (event: string, fields: Record<string, unknown>) => void
  >();
  const log = (level: string) => (event: string, fields = {}) => {
    logs.push({ level, event, fields });
    for (const f of onLog) f(event, fields);
  };
  const logger = { info: log("info"), warn: log("warn"), error: log("error") };
  const registry = await createJobRegistry(config.outDir, { logger });
  const queue = createJobQueue({ config, registry, metrics, logger });
  const portfolio = (name: string, n = 60, bad = 0) =>
    writePortfolio(join(root, "data", name), n, bad);
  return {
    root,
    config,
    registry,
    queue,
    observed,
    depths,
    logs,
    onLog,
    portfolio,
    async cleanup() {
      await queue.shutdown(0);
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Polls the registry until the job is final (or fails the test). */
async function settled(
  registry: JobRegistry,
  id: string,
  seconds = 180,
): Promise<JobRecord> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const r = registry.get(id);
    if (r && FINAL.has(r.status)) return r;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(
    `job ${id} not final after ${seconds} s: ${
      JSON.stringify(registry.get(id))
    }`,
  );
}

/** The refusal `fn` throws: its HTTP status. */
async function refusal(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof JobRefusedError) return e.status;
    throw e;
  }
  throw new Error("not refused");
}

Deno.test("queue: with maxConcurrentRuns 1, three runs execute one at a time, in order, and all succeed", async () => {
  const t = await setup({ maxConcurrentRuns: 1 });
  try {
    const file = t.portfolio("book.parquet");
    const ids = ["r1", "r2", "r3"];
    for (const id of ids) {
      const r = await t.queue.submit("run", {
        portfolio: file,
        rules: RULES,
        runId: id,
      });
      assert.equal(r.status, "queued");
    }
    assert.deepEqual(t.queue.depth(), { queued: 2, running: 1 });
    const records = [];
    for (const id of ids) records.push(await settled(t.registry, id));
    // What metrics saw: never two running at once.
    let runningNow = 0, most = 0;
    for (const o of t.observed) {
      if (o.status === "running") runningNow++;
      if (FINAL.has(o.status)) runningNow--;
      most = Math.max(most, runningNow);
    }
    assert.equal(most, 1, JSON.stringify(t.observed));
    assert.ok(t.depths.every((d) => d.running <= 1));
    // First in, first out; each started after the previous ended.
    assert.deepEqual(
      t.observed.filter((o) => o.status === "running").map((o) => o.id),
      ids,
    );
    for (let i = 1; i < records.length; i++) {
      assert.ok(records[i].startedAt! >= records[i - 1].finishedAt!);
    }
    for (const r of records) {
      assert.equal(r.status, "succeeded", JSON.stringify(r.error));
      assert.equal(r.dir, join(t.config.outDir, r.id));
      const run = await readRunFolder(r.dir!, { trusted: true });
      assert.equal(run.summary.run_id, r.id);
      // The record's figures are the run folder's.
      assert.equal(r.summary?.totals.ecl, run.summary.totals.ecl);
      assert.deepEqual(r.counts, {
        rowsRead: 60,
        rowsValid: 60,
        rowsRejected: 0,
        maxRejectRate: run.dataQuality!.max_reject_rate,
      });
      assert.deepEqual(r.progress, { loansDone: 60, loansTotal: 60 });
      assert.ok(r.steps.some((s) => s.step === "compute_ecl"));
      assert.ok(r.steps.every((s) => s.ms >= 0));
    }
    assert.deepEqual(t.queue.depth(), { queued: 0, running: 0 });
    // Each status change went to the log as a job_<status> line.
    assert.deepEqual(
      t.logs.filter((l) =>
        l.event.startsWith("job_") && l.fields.id === "r2" &&
        ["job_queued", "job_running", "job_succeeded"].includes(l.event)
      )
        .map((l) => l.event),
      ["job_queued", "job_running", "job_succeeded"],
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("queue: a full queue refuses with 429; shutdown interrupts what waits and runs, then refuses with 503", async () => {
  const t = await setup({ maxConcurrentRuns: 1, maxQueuedRuns: 1 });
  try {
    const file = t.portfolio("book.parquet", 20_000);
    await t.queue.submit("run", { portfolio: file, rules: RULES, runId: "a" });
    await t.queue.submit("run", { portfolio: file, rules: RULES, runId: "b" });
    assert.equal(
      await refusal(() =>
        t.queue.submit("run", { portfolio: file, rules: RULES, runId: "c" })
      ),
      429,
    );
    assert.equal(t.registry.get("c"), undefined);
    await t.queue.shutdown(0);
    assert.equal(t.registry.get("a")?.status, "interrupted");
    assert.equal(t.registry.get("b")?.status, "interrupted");
    assert.equal(t.registry.get("b")?.startedAt, null);
    assert.deepEqual(t.queue.depth(), { queued: 0, running: 0 });
    assert.equal(
      await refusal(() =>
        t.queue.submit("run", { portfolio: file, rules: RULES, runId: "d" })
      ),
      503,
    );
    // Persisted so: a new registry over the folder reads the same.
    const again = await createJobRegistry(t.config.outDir);
    assert.deepEqual(again.list().map((r) => [r.id, r.status]), [
      ["b", "interrupted"],
      ["a", "interrupted"],
    ]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("queue: an id in the registry or naming an existing folder is refused with 409", async () => {
  const t = await setup();
  try {
    const missing = join(t.root, "data", "missing.parquet");
    await t.queue.submit("run", {
      portfolio: missing,
      rules: RULES,
      runId: "x",
    });
    assert.equal(
      await refusal(() =>
        t.queue.submit("run", { portfolio: missing, rules: RULES, runId: "x" })
      ),
      409,
    );
    // Runs and movements share the ids.
    assert.equal(
      await refusal(() =>
        t.queue.submit("movement", { from: "a", to: "b", movementId: "x" })
      ),
      409,
    );
    await Deno.mkdir(join(t.config.outDir, "y"), { recursive: true });
    assert.equal(
      await refusal(() =>
        t.queue.submit("run", { portfolio: missing, rules: RULES, runId: "y" })
      ),
      409,
    );
    await Deno.mkdir(join(t.config.movementDir, "m"), { recursive: true });
    assert.equal(
      await refusal(() =>
        t.queue.submit("movement", { from: "a", to: "b", movementId: "m" })
      ),
      409,
    );
    assert.equal(t.registry.get("y"), undefined);
    assert.equal((await settled(t.registry, "x")).status, "failed");
  } finally {
    await t.cleanup();
  }
});

Deno.test("queue: failing runs end failed with the message naming the file, the kind, and the .failed folder", async () => {
  const t = await setup({ maxConcurrentRuns: 2 });
  try {
    const missing = join(t.root, "data", "missing.parquet");
    await t.queue.submit("run", {
      portfolio: missing,
      rules: RULES,
      runId: "gone",
    });
    // Half the rows rejected: above the rules' 5% limit (a failed check).
    const bad = t.portfolio("bad.parquet", 40, 20);
    await t.queue.submit("run", {
      portfolio: bad,
      rules: RULES,
      runId: "rejects",
    });

    const gone = await settled(t.registry, "gone");
    assert.equal(gone.status, "failed");
    assert.equal(gone.error?.kind, "input");
    assert.ok(gone.error?.message.includes(missing), gone.error?.message);
    assert.doesNotMatch(gone.error!.message, /\n|\s+at /);
    assert.equal(gone.dir, null);

    const rejects = await settled(t.registry, "rejects");
    assert.equal(rejects.status, "failed");
    assert.equal(rejects.error?.kind, "check");
    assert.match(rejects.error!.message, /reject/i);
    assert.equal(rejects.dir, join(t.config.outDir, "rejects.failed"));
    assert.deepEqual(rejects.counts, {
      rowsRead: 40,
      rowsValid: 20,
      rowsRejected: 20,
      maxRejectRate: 0.05,
    });
    assert.equal(
      (await Deno.stat(join(rejects.dir!, "data_quality.json"))).isFile,
      true,
    );
    assert.ok(rejects.steps.some((s) => s.step === "validate"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("queue: a child killed from outside makes its job failed, naming the signal; the next job runs", async () => {
  const t = await setup();
  try {
    const file = t.portfolio("book.parquet", 60);
    const pids = new Map<string, number>();
    t.onLog.add((event, fields) => {
      if (event === "job_process") {
        pids.set(fields.id as string, fields.pid as number);
        if (fields.id === "victim") Deno.kill(fields.pid as number, "SIGKILL");
      }
    });
    await t.queue.submit("run", {
      portfolio: file,
      rules: RULES,
      runId: "victim",
    });
    await t.queue.submit("run", {
      portfolio: file,
      rules: RULES,
      runId: "after",
    });
    const victim = await settled(t.registry, "victim");
    assert.equal(victim.status, "failed");
    assert.equal(victim.error?.kind, "internal");
    assert.match(victim.error!.message, /killed by SIGKILL/);
    assert.ok(victim.error!.message.includes(`pid ${pids.get("victim")}`));
    const after = await settled(t.registry, "after");
    assert.equal(after.status, "succeeded", JSON.stringify(after.error));
  } finally {
    await t.cleanup();
  }
});

Deno.test("queue: a movement between two runs executes in a child and writes <movementDir>/<id>", async () => {
  const t = await setup({ maxConcurrentRuns: 2 });
  try {
    const q3 = projectPath("data/sample/portfolio_2025-09-30.parquet");
    const q4 = projectPath("data/sample/portfolio_2025-12-31.parquet");
    await t.queue.submit("run", { portfolio: q3, rules: RULES, runId: "q3" });
    await t.queue.submit("run", { portfolio: q4, rules: RULES, runId: "q4" });
    const [a, b] = [
      await settled(t.registry, "q3"),
      await settled(t.registry, "q4"),
    ];
    assert.equal(a.status, "succeeded", JSON.stringify(a.error));
    assert.equal(b.status, "succeeded", JSON.stringify(b.error));
    await t.queue.submit("movement", {
      from: a.dir!,
      to: b.dir!,
      movementId: "q3-q4",
    });
    const m = await settled(t.registry, "q3-q4");
    assert.equal(m.status, "succeeded", JSON.stringify(m.error));
    assert.equal(m.dir, join(t.config.movementDir, "q3-q4"));
    assert.equal(m.summary, null);
    const movement = JSON.parse(
      await Deno.readTextFile(join(m.dir!, "movement.json")),
    );
    assert.equal(movement.from.run_id, "q3");
    assert.equal(movement.to.run_id, "q4");
    assert.deepEqual(m.steps.map((s) => s.step).slice(0, 1), ["read_runs"]);
    // A movement the other way round fails, naming both folders.
    await t.queue.submit("movement", {
      from: b.dir!,
      to: a.dir!,
      movementId: "backwards",
    });
    const back = await settled(t.registry, "backwards");
    assert.equal(back.status, "failed");
    assert.ok(back.error!.message.includes(b.dir!), back.error!.message);
  } finally {
    await t.cleanup();
  }
});

Deno.test("queue: the child gets the server's environment without the JWT secret", async () => {
  const before = Deno.env.get("IFRS9_JWT_SECRET");
  Deno.env.set("IFRS9_JWT_SECRET", "s".repeat(40));
  Deno.env.set("QUEUE_TEST_MARKER", "1");
  const t = await setup();
  try {
    let environ = "";
    t.onLog.add((event, fields) => {
      if (event === "job_process") {
        environ = Deno.readTextFileSync(`/proc/${fields.pid}/environ`);
      }
    });
    const file = t.portfolio("book.parquet", 10);
    await t.queue.submit("run", {
      portfolio: file,
      rules: RULES,
      runId: "env",
    });
    assert.equal((await settled(t.registry, "env")).status, "succeeded");
    const names = environ.split("\0").map((kv) => kv.split("=")[0]);
    assert.ok(names.includes("QUEUE_TEST_MARKER"), names.join(" "));
    assert.ok(!names.includes("IFRS9_JWT_SECRET"));
  } finally {
    await t.cleanup();
    if (before === undefined) Deno.env.delete("IFRS9_JWT_SECRET");
    else Deno.env.set("IFRS9_JWT_SECRET", before);
    Deno.env.delete("QUEUE_TEST_MARKER");
  }
});
