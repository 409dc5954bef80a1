/**
 * A close killed in the middle (SIGKILL, no chance to clean up) and rerun:
 * only the steps that had not finished run again; those finished are
 * skipped, their run folders untouched.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { projectPath } from "../../lib/mod.ts";
import { mtimes, SAMPLE, statuses, writeCloseFile } from "./_close.ts";

Deno.test("close: killed after its first run step, the rerun runs only the missing steps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "close_kill_" });
  try {
    // Three entities over the sample book: long enough to kill in between.
    const config = await writeCloseFile(dir, {
      a: SAMPLE,
      b: SAMPLE,
      c: SAMPLE,
    });
    const out = join(dir, "out");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", projectPath("tasks/close.ts"), "--config", config],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let killedAt: Record<string, string> | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const now = await statuses(out).catch(() => undefined);
      if (now?.["run:a-2025-09-30"] === "succeeded") {
        child.kill("SIGKILL");
        // What close.json says after the kill: written atomically, so whole.
        await child.status;
        killedAt = await statuses(out);
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(killedAt, "the first run step never completed");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    const finished = Object.keys(killedAt).filter((id) =>
      killedAt![id] === "succeeded"
    );
    const missing = Object.keys(killedAt).filter((id) =>
      killedAt![id] !== "succeeded"
    );
    assert.ok(finished.includes("run:a-2025-09-30"));
    assert.ok(missing.length > 0, "the close ended before it was killed");
    const runBefore = await mtimes(join(out, "runs/a-2025-09-30"));

    const rerun = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", projectPath("tasks/close.ts"), "--config", config],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(rerun.code, 0);
    const after = await statuses(out);
    assert.deepEqual(
      Object.keys(after).filter((id) => after[id] === "skipped").sort(),
      finished.sort(),
    );
    assert.deepEqual(
      Object.keys(after).filter((id) => after[id] === "succeeded").sort(),
      missing.sort(),
    );
    assert.deepEqual(await mtimes(join(out, "runs/a-2025-09-30")), runBefore);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
