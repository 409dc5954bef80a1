/**
 * Tests of the run-folder life cycle (lib/run/folder.ts): a run appears
 * under its final name only on commit, stale partial folders are cleaned,
 * a complete run is never overwritten unless replacement is asked for, and
 * a failed run is set aside under `<run_id>.failed`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  defaultRunId,
  openRunFolder,
  RunIdError,
} from "../../lib/run/folder.ts";

const names = async (dir: string) => {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
};

Deno.test("openRunFolder() writes hidden and publishes on commit()", async () => {
  const out = await Deno.makeTempDir();
  const f = await openRunFolder(`${out}/runs`, "q4");
  assert.match(
    f.dir,
    new RegExp(`/runs/\\.q4\\.partial-${Deno.pid}-[0-9a-f]{12}$`),
  );
  await Deno.writeTextFile(`${f.dir}/summary.json`, "{}");
  assert.deepEqual(await names(`${out}/runs`), [f.dir.split("/").pop()]);
  assert.equal(await f.commit(), `${out}/runs/q4`);
  assert.deepEqual(await names(`${out}/runs`), ["q4"]);
  assert.deepEqual(await names(`${out}/runs/q4`), ["summary.json"]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("openRunFolder() refuses an id whose complete folder exists", async () => {
  const out = await Deno.makeTempDir();
  await Deno.mkdir(`${out}/q4`);
  await assert.rejects(
    () => openRunFolder(out, "q4"),
    (e: Error) =>
      e instanceof RunIdError &&
      e.message ===
        `Run folder ${out}/q4 already exists: choose another --run-id, or remove that folder to recompute it`,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("openRunFolder() removes stale partials of the same id only", async () => {
  const out = await Deno.makeTempDir();
  // A writer pid that cannot be alive: the partial folder of a killed run.
  await Deno.mkdir(`${out}/.q4.partial-999999999-dead01`);
  await Deno.mkdir(`${out}/.q4.partial-junk`);
  await Deno.mkdir(`${out}/.q3.partial-other`);
  const f = await openRunFolder(out, "q4");
  assert.deepEqual(await names(out), [
    ".q3.partial-other",
    f.dir.split("/").pop(),
  ]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("openRunFolder() refuses an id a live process is writing", async () => {
  const out = await Deno.makeTempDir();
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    await Deno.mkdir(`${out}/.q4.partial-${sleeper.pid}-abc123`);
    await assert.rejects(
      () => openRunFolder(out, "q4"),
      new RegExp(
        `being written to .*\\.q4\\.partial-${sleeper.pid}-abc123 by process ${sleeper.pid}`,
      ),
    );
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("openRunFolder() with replace swaps the old run out on commit", async () => {
  const out = await Deno.makeTempDir();
  await Deno.mkdir(`${out}/q4`);
  await Deno.writeTextFile(`${out}/q4/old.txt`, "old");
  const f = await openRunFolder(out, "q4", { replace: true });
  await Deno.writeTextFile(`${f.dir}/new.txt`, "new");
  // Until the commit, the old run is still there, complete.
  assert.deepEqual(await names(`${out}/q4`), ["old.txt"]);
  await f.commit();
  assert.deepEqual(await names(out), ["q4"]);
  assert.deepEqual(await names(`${out}/q4`), ["new.txt"]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("fail() moves the run to <run_id>.failed, replacing an older one", async () => {
  const out = await Deno.makeTempDir();
  await Deno.mkdir(`${out}/q4.failed`);
  await Deno.writeTextFile(`${out}/q4.failed/stale.txt`, "x");
  const f = await openRunFolder(out, "q4");
  await Deno.writeTextFile(`${f.dir}/data_quality.json`, "{}");
  assert.equal(await f.fail(), `${out}/q4.failed`);
  assert.deepEqual(await names(out), ["q4.failed"]);
  assert.deepEqual(await names(`${out}/q4.failed`), ["data_quality.json"]);
  // The final name stays free: the next attempt of the id can run.
  const again = await openRunFolder(out, "q4");
  await again.commit();
  assert.deepEqual(await names(out), ["q4", "q4.failed"]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("openRunFolder() refuses malformed run ids", async () => {
  const out = await Deno.makeTempDir();
  for (const id of ["", ".hidden", "a/b", "../up", "x.failed", "a b"]) {
    await assert.rejects(() => openRunFolder(out, id), RunIdError, id);
  }
  assert.deepEqual(await names(out), []);
  await Deno.remove(out, { recursive: true });
});

Deno.test("defaultRunId() is a sortable UTC timestamp", () => {
  assert.equal(
    defaultRunId(new Date("2026-01-02T03:04:05.678Z")),
    "run-20260102T030405678Z",
  );
});

Deno.test("openRunFolder() refuses an id this process is already writing", async () => {
  const out = await Deno.makeTempDir();
  const first = await openRunFolder(out, "q4");
  await assert.rejects(() => openRunFolder(out, "q4"), /already being written/);
  await first.commit();
  await Deno.remove(out, { recursive: true });
});
