/**
 * A retried part on a shared volume (issue 17 review, R1): the staging
 * folder a killed writer left is owned by its process id AND its machine
 * (`HOST_ID`). A leftover carrying this process's own id and this
 * machine's id, which this process did not create (a restarted container:
 * same host name, same pid), is stale at once; a leftover of another
 * machine is busy until FOREIGN_STAGING_STALE_MINUTES after its last
 * change, then stale.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  FOREIGN_STAGING_STALE_MINUTES,
  HOST_ID,
  openRunFolder,
} from "../../lib/run_folder/mod.ts";

Deno.test("a leftover staging folder with our own pid: stale when it names this machine, busy then stale when it names another", async () => {
  const out = await Deno.makeTempDir({ prefix: "staging_test_" });
  try {
    assert.match(HOST_ID, /^h[0-9a-f]{8}$/);
    // Our pid, our machine, not ours: a previous container's.
    const mine =
      `${out}/.q.part-0-of-2.partial-${Deno.pid}-${HOST_ID}-0123456789ab`;
    await Deno.mkdir(mine);
    await Deno.writeTextFile(`${mine}/loan_results.parquet`, "x");
    const a = await openRunFolder(out, "q.part-0-of-2", { replace: true });
    assert.equal(await Deno.stat(mine).catch(() => null), null, "removed");
    await a.commit().catch(() => {});

    // Our pid, another machine: busy while fresh.
    const other = HOST_ID === "h00000000" ? "h00000001" : "h00000000";
    const theirs =
      `${out}/.q.part-1-of-2.partial-${Deno.pid}-${other}-0123456789ab`;
    await Deno.mkdir(theirs);
    await assert.rejects(
      () => openRunFolder(out, "q.part-1-of-2", { replace: true }),
      (e: unknown) =>
        (e as { kind?: string }).kind === "busy" &&
        /already being written|being written by process/.test(
          (e as Error).message,
        ),
    );
    // Older than the limit: a killed writer's, removed.
    const old = new Date(
      Date.now() - (FOREIGN_STAGING_STALE_MINUTES + 1) * 60_000,
    );
    await Deno.utime(theirs, old, old);
    const b = await openRunFolder(out, "q.part-1-of-2", { replace: true });
    assert.equal(await Deno.stat(theirs).catch(() => null), null, "removed");
    await b.commit().catch(() => {});
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
