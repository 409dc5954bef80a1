/**
 * The job registry (lib/server/registry.ts): persisted in
 * `<outDir>/.server/jobs.json`, reloaded by a new process (queued and
 * running jobs then `interrupted`), written whole by rename, an unusable
 * file moved aside with a warning, summaries read back from run folders.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createJobRegistry } from "../../lib/server/registry.ts";
import type { JobRecord, JobStatus, Logger } from "../../lib/server/types.ts";
import { projectPath, runPortfolio } from "../../lib/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";

/** A record of `id` with `status`, submitted at second `second` of a day. */
function record(id: string, status: JobStatus, second: number): JobRecord {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
  const done = ["succeeded", "failed", "interrupted"].includes(status);
  return {
    id,
    kind: "run",
    status,
    request: {
      portfolio: `/data/${id}.parquet`,
      rules: "/config/r.yaml",
      runId: id,
    },
    submittedAt: at,
    startedAt: status === "queued" ? null : at,
    finishedAt: done ? at : null,
    step: status === "queued" ? null : "compute_ecl",
    steps: status === "queued" ? [] : [{ step: "validate", ms: 12.5 }],
    progress: status === "queued" ? null : { loansDone: 5, loansTotal: 10 },
    counts: status === "queued" ? null : {
      rowsRead: 10,
      rowsValid: 9,
      rowsRejected: 1,
      maxRejectRate: 0.05,
    },
    summary: null,
    dir: null,
    error: status === "failed" ? { kind: "input", message: "bad row 3" } : null,
  };
}

/** A logger keeping its lines. */
function recordingLogger() {
  const lines: {
    level: string;
    event: string;
    fields: Record<string, unknown>;
  }[] = [];
  const at = (level: string) => (event: string, fields = {}) =>
    lines.push({ level, event, fields });
  const logger: Logger = {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

const fileOf = (out: string) => join(out, ".server", "jobs.json");

Deno.test("registry: jobs persist, a new registry lists them newest first, and queued/running ones come back interrupted", async () => {
  const out = await Deno.makeTempDir({ prefix: "registry-" });
  try {
    const registry = await createJobRegistry(out);
    assert.deepEqual(registry.list(), []);
    const jobs = [
      record("old-failed", "failed", 1),
      record("done", "succeeded", 2),
      record("running", "running", 3),
      record("waiting", "queued", 4),
    ];
    for (const j of jobs) await registry.put(j);
    assert.deepEqual(registry.list().map((r) => r.id), [
      "waiting",
      "running",
      "done",
      "old-failed",
    ]);
    // A copy is kept: changing the caller's object changes nothing.
    jobs[0].status = "running";
    assert.equal(registry.get("old-failed")?.status, "failed");

    const before = Date.now();
    const reloaded = await createJobRegistry(out);
    assert.deepEqual(reloaded.list().map((r) => [r.id, r.status]), [
      ["waiting", "interrupted"],
      ["running", "interrupted"],
      ["done", "succeeded"],
      ["old-failed", "failed"],
    ]);
    // Everything else as it was put.
    assert.deepEqual(reloaded.get("done"), record("done", "succeeded", 2));
    assert.deepEqual(
      reloaded.get("old-failed"),
      record("old-failed", "failed", 1),
    );
    const running = reloaded.get("running")!;
    assert.deepEqual(
      { ...running, status: "running", finishedAt: null },
      record("running", "running", 3),
    );
    assert.ok(Date.parse(running.finishedAt!) >= before - 1000);
    // ...and written back so, before anything else is put.
    const disk = JSON.parse(await Deno.readTextFile(fileOf(out)));
    assert.deepEqual(
      disk.jobs.map((j: JobRecord) => j.status).sort(),
      ["failed", "interrupted", "interrupted", "succeeded"],
    );
    // A record replaced keeps one entry.
    await reloaded.put({ ...record("done", "succeeded", 2), dir: "/x" });
    assert.equal(reloaded.list().length, 4);
    const { logger } = recordingLogger();
    assert.equal(
      (await createJobRegistry(out, { logger })).get("done")?.dir,
      "/x",
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("registry: writes are whole (temporary file renamed): a reader never sees a part, no temporary file is left", async () => {
  const out = await Deno.makeTempDir({ prefix: "registry-" });
  try {
    const registry = await createJobRegistry(out);
    await registry.put(record("first", "succeeded", 0));
    // Held open, the first file keeps its inode (no reuse) and its bytes.
    const first = await Deno.open(fileOf(out), { read: true });
    const inode = (await first.stat()).ino;
    // A large registry, written many times while another reader reads it.
    let reading = true, reads = 0;
    const reader = (async () => {
      while (reading) {
        const text = await Deno.readTextFile(fileOf(out));
        JSON.parse(text); // throws on a partial file
        reads++;
      }
    })();
    const puts = [];
    for (let i = 0; i < 400; i++) {
      puts.push(registry.put({
        ...record(`job-${i}`, "failed", i % 60),
        error: { kind: "input", message: "x".repeat(2000) },
      }));
      if (i % 50 === 0) await puts.at(-1);
    }
    await Promise.all(puts);
    reading = false;
    await reader;
    assert.ok(reads > 0);
    // Replaced by rename, not rewritten in place: the name holds another
    // file, and the first one still holds the first write alone.
    assert.notEqual((await Deno.stat(fileOf(out))).ino, inode);
    const firstText = new TextDecoder().decode(
      await new Response(first.readable).arrayBuffer(),
    );
    assert.equal(JSON.parse(firstText).jobs.length, 1);
    const names = [...Deno.readDirSync(join(out, ".server"))].map((e) =>
      e.name
    );
    assert.deepEqual(names, ["jobs.json"]);
    // The last write holds every put.
    assert.equal((await createJobRegistry(out)).list().length, 401);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("registry: an unusable jobs.json is moved aside with a warning naming both files; with no run folders the registry starts empty", async () => {
  for (
    const [what, text] of [
      ["not JSON", '{"version":1,"jobs":[{"id":'],
      ["wrong shape", '{"version":1,"jobs":[{"id":"a","status":"nonsense"}]}'],
      ["unknown version", '{"version":99,"jobs":[]}'],
    ]
  ) {
    const out = await Deno.makeTempDir({ prefix: "registry-" });
    try {
      await Deno.mkdir(join(out, ".server"));
      await Deno.writeTextFile(fileOf(out), text);
      const { logger, lines } = recordingLogger();
      const registry = await createJobRegistry(out, { logger });
      assert.deepEqual(registry.list(), [], what);
      assert.equal(lines.length, 1, what);
      const { level, event, fields } = lines[0];
      assert.equal(level, "warn");
      assert.equal(event, "registry_corrupt");
      assert.equal(fields.file, fileOf(out));
      const aside = fields.movedTo as string;
      assert.match(aside, /jobs\.json\.corrupt-\d{8}T\d{9}Z$/);
      assert.ok((fields.message as string).includes(aside), what);
      // Kept, byte for byte, for whoever looks into it.
      assert.equal(await Deno.readTextFile(aside), text);
      await assert.rejects(() => Deno.stat(fileOf(out)), Deno.errors.NotFound);
      // The registry works on.
      await registry.put(record("new", "queued", 0));
      assert.equal(
        (await createJobRegistry(out)).get("new")?.status,
        "interrupted",
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }
});

Deno.test("registry: a succeeded run's summary is read back from its run folder, not kept in jobs.json", async () => {
  const out = await Deno.makeTempDir({ prefix: "registry-" });
  try {
    const portfolio = writePortfolio(join(out, "book.parquet"), 30);
    const run = await runPortfolio({
      portfolio,
      rules: projectPath("config/ifrs9_rules.yaml"),
      out,
      runId: "q4",
      report: false,
    });
    const registry = await createJobRegistry(out);
    await registry.put({
      ...record("q4", "succeeded", 0),
      dir: run.dir,
      summary: run.summary,
    });
    assert.equal(
      registry.get("q4")?.summary?.totals.ecl,
      run.summary.totals.ecl,
    );
    const disk = JSON.parse(await Deno.readTextFile(fileOf(out)));
    assert.equal(disk.jobs[0].summary, null);
    const { logger, lines } = recordingLogger();
    const reloaded = await createJobRegistry(out, { logger });
    assert.deepEqual(reloaded.get("q4")?.summary, run.summary);
    assert.equal(lines.length, 0);
    // A folder removed since: the job is still listed, without a summary.
    await Deno.remove(run.dir, { recursive: true });
    const again = await createJobRegistry(out, { logger });
    assert.equal(again.get("q4")?.status, "succeeded");
    assert.equal(again.get("q4")?.summary, null);
    assert.equal(lines[0]?.event, "registry_summary_unreadable");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("registry: with jobs.json corrupt, the runs are listed again from their folders' manifests (a complete one and a failed one)", async () => {
  const out = await Deno.makeTempDir();
  try {
    const good = writePortfolio(join(out, "good.parquet"), 20);
    await runPortfolio({ portfolio: good, out, runId: "q3", report: false });
    // 10 of 40 rows with a negative balance: above the 5% limit.
    const bad = writePortfolio(join(out, "bad.parquet"), 40, 10);
    await runPortfolio({ portfolio: bad, out, runId: "q4", report: false })
      .catch(() => {});
    await Deno.mkdir(join(out, ".server"));
    await Deno.writeTextFile(join(out, ".server/jobs.json"), "{broken");
    const warnings: string[] = [];
    const logger: Logger = {
      info: () => {},
      warn: (event) => void warnings.push(event),
      error: () => {},
    };
    const registry = await createJobRegistry(out, { logger });
    assert.deepEqual(warnings, ["registry_corrupt"]);
    const byId = Object.fromEntries(
      registry.list().map((r) => [r.id, r]),
    );
    assert.deepEqual(Object.keys(byId).sort(), ["q3", "q4"]);
    assert.equal(byId.q3.status, "succeeded");
    assert.equal(byId.q3.dir, join(out, "q3"));
    assert.equal(byId.q3.summary?.totals.count, 20);
    assert.deepEqual(byId.q3.counts, {
      rowsRead: 20,
      rowsValid: 20,
      rowsRejected: 0,
    });
    assert.equal(byId.q4.status, "failed");
    assert.equal(byId.q4.dir, join(out, "q4.failed"));
    assert.match(byId.q4.error!.message, /25\.00% of rows rejected/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
