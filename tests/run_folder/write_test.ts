/**
 * Tests of writing run folders (lib/run_folder/write.ts): a run appears
 * under its final name only on commit, stale partial folders are cleaned,
 * a complete run is never overwritten unless replacement is asked for, a
 * failed run is set aside under `<run_id>.failed`, a writer killed in the
 * middle leaves nothing under the final name, and folders derived from
 * runs are replaced whole.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  defaultRunId,
  openRunFolder,
  OutputLocationError,
  readRunFolder,
  RunFolderReadError,
  RunIdError,
  writeOutputFolder,
} from "../../lib/run_folder/mod.ts";
import { inTempDir, names } from "./_temp.ts";

Deno.test("openRunFolder() writes hidden and publishes on commit()", () =>
  inTempDir(async (out) => {
    const f = await openRunFolder(`${out}/runs`, "q4");
    assert.match(
      f.dir,
      new RegExp(
        `/runs/\\.q4\\.partial-${Deno.pid}-h[0-9a-f]{8}-[0-9a-f]{12}$`,
      ),
    );
    await f.writeText("summary", "{}");
    assert.deepEqual(await names(`${out}/runs`), [f.dir.split("/").pop()]);
    assert.equal(await f.commit(), `${out}/runs/q4`);
    assert.deepEqual(await names(`${out}/runs`), ["q4"]);
    assert.deepEqual(await names(`${out}/runs/q4`), ["summary.json"]);
  }));

Deno.test("openRunFolder() refuses an id whose complete folder exists", () =>
  inTempDir(async (out) => {
    await Deno.mkdir(`${out}/q4`);
    await assert.rejects(
      () => openRunFolder(out, "q4"),
      (e: Error) =>
        e instanceof RunIdError &&
        e.message ===
          `Run folder ${out}/q4 already exists: pass --replace (option replace: true) to recompute it, replacing the old folder once the new run is complete, or choose another --run-id`,
    );
  }));

Deno.test("openRunFolder() removes stale partials of the same id only, and only names it writes", () =>
  inTempDir(async (out) => {
    // A writer pid that cannot be alive: the partial folder of a killed run.
    await Deno.mkdir(`${out}/.q4.partial-999999999-dead01beef02`);
    // Someone's own folders that merely look like staging names.
    await Deno.mkdir(`${out}/.q4.partial-junk`);
    await Deno.mkdir(`${out}/.q4.partial-999999999-dead01`);
    await Deno.mkdir(`${out}/.q3.partial-other`);
    const f = await openRunFolder(out, "q4");
    assert.deepEqual(
      await names(out),
      [
        ".q3.partial-other",
        f.dir.split("/").pop(),
        ".q4.partial-999999999-dead01",
        ".q4.partial-junk",
      ].sort(),
    );
  }));

Deno.test("openRunFolder() refuses an id a live process is writing", () =>
  inTempDir(async (out) => {
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      await Deno.mkdir(`${out}/.q4.partial-${sleeper.pid}-abc123abc123`);
      await assert.rejects(
        () => openRunFolder(out, "q4"),
        new RegExp(
          `being written to .*\\.q4\\.partial-${sleeper.pid}-abc123abc123 by process ${sleeper.pid}`,
        ),
      );
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.status;
    }
  }));

/** A run folder of this code at `dir`, with the status given. */
async function runFolder(dir: string, status: "complete" | "failed") {
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    `${dir}/manifest.json`,
    JSON.stringify({ run_id: "q4", status }),
  );
  await Deno.writeTextFile(`${dir}/summary.json`, "{}");
}

Deno.test("openRunFolder() with replace swaps the old run out on commit", () =>
  inTempDir(async (out) => {
    await runFolder(`${out}/q4`, "complete");
    const f = await openRunFolder(out, "q4", { replace: true });
    await f.writeText("report", "new");
    // Until the commit, the old run is still there, complete.
    assert.deepEqual(await names(`${out}/q4`), [
      "manifest.json",
      "summary.json",
    ]);
    await f.commit();
    assert.deepEqual(await names(out), ["q4"]);
    assert.deepEqual(await names(`${out}/q4`), ["report.html"]);
  }));

Deno.test("openRunFolder() with replace refuses, before staging, what is not a complete run of ours", () =>
  inTempDir(async (out) => {
    const cases: [string, () => Promise<void>, RegExp][] = [
      [
        "a file",
        () => Deno.writeTextFile(`${out}/q4`, "notes"),
        /it is a file, not a run folder/,
      ],
      [
        "a folder of notes",
        async () => {
          await Deno.mkdir(`${out}/q4`);
          await Deno.writeTextFile(`${out}/q4/notes.md`, "mine");
        },
        /it has neither manifest\.json nor summary\.json, so it is not a run folder; it holds notes\.md, which a run does not write/,
      ],
      [
        "a failed run under the final name",
        () => runFolder(`${out}/q4`, "failed"),
        /its manifest\.json says status "failed", not "complete"/,
      ],
      [
        "a run folder holding an input",
        async () => {
          await runFolder(`${out}/q4`, "complete");
          await Deno.writeTextFile(`${out}/q4/book.csv`, "loan_id\n");
        },
        /it holds this run's input .*q4\/book\.csv/,
      ],
    ];
    for (const [what, make, message] of cases) {
      await make();
      await assert.rejects(
        () =>
          openRunFolder(out, "q4", {
            replace: true,
            inputs: [`${out}/q4/book.csv`],
          }),
        (e: Error) =>
          e instanceof RunIdError && e.kind === "usage" &&
          e.message.startsWith(`Cannot replace ${out}/q4 (--replace): `) &&
          message.test(e.message),
        what,
      );
      // Nothing staged.
      assert.deepEqual(await names(out), ["q4"], what);
      await Deno.remove(`${out}/q4`, { recursive: true });
    }
  }));

Deno.test("openRunFolder() refuses a <run_id>.failed that is not a failed run of ours; fail() checks again", () =>
  inTempDir(async (out) => {
    await Deno.mkdir(`${out}/q4.failed`);
    await Deno.writeTextFile(`${out}/q4.failed/notes.md`, "mine");
    await assert.rejects(
      () => openRunFolder(out, "q4"),
      /Cannot run q4: a failing run is set aside as .*q4\.failed, replacing a failed run there, but it has no manifest\.json/,
    );
    await Deno.remove(`${out}/q4.failed`, { recursive: true });
    // A foreign folder that takes the name during the run is not replaced.
    const f = await openRunFolder(out, "q4");
    await Deno.mkdir(`${out}/q4.failed`);
    await Deno.writeTextFile(`${out}/q4.failed/notes.md`, "mine");
    await assert.rejects(() => f.fail(), /it has no manifest\.json/);
    assert.deepEqual(await names(`${out}/q4.failed`), ["notes.md"]);
  }));

Deno.test("fail() moves the run to <run_id>.failed, replacing an older one", () =>
  inTempDir(async (out) => {
    await runFolder(`${out}/q4.failed`, "failed");
    const f = await openRunFolder(out, "q4");
    await f.writeText("dataQuality", "{}");
    await f.writeJson("manifest", { run_id: "q4", status: "failed" } as never);
    assert.equal(await f.fail(), `${out}/q4.failed`);
    assert.deepEqual(await names(out), ["q4.failed"]);
    assert.deepEqual(await names(`${out}/q4.failed`), [
      "data_quality.json",
      "manifest.json",
    ]);
    // The final name stays free: the next attempt of the id can run.
    const again = await openRunFolder(out, "q4");
    await again.commit();
    assert.deepEqual(await names(out), ["q4", "q4.failed"]);
  }));

Deno.test("openRunFolder() refuses malformed run ids", () =>
  inTempDir(async (out) => {
    for (const id of ["", ".hidden", "a/b", "../up", "x.failed", "a b"]) {
      await assert.rejects(() => openRunFolder(out, id), RunIdError, id);
    }
    assert.deepEqual(await names(out), []);
  }));

Deno.test("defaultRunId() is a sortable UTC timestamp", () => {
  assert.equal(
    defaultRunId(new Date("2026-01-02T03:04:05.678Z")),
    "run-20260102T030405678Z",
  );
});

Deno.test("openRunFolder() refuses an id this process is already writing", () =>
  inTempDir(async (out) => {
    const first = await openRunFolder(out, "q4");
    await assert.rejects(
      () => openRunFolder(out, "q4"),
      /already being written/,
    );
    await first.commit();
  }));

/**
 * A writer in another process that opens run `q4` under `out`, writes its
 * summary and part of its loan results, says so on stdout and then waits
 * to be killed.
 */
function halfWriter(out: string): Deno.ChildProcess {
  const mod = new URL("../../lib/run_folder/mod.ts", import.meta.url).href;
  const code = `
    import { openRunFolder } from ${JSON.stringify(mod)};
    const folder = await openRunFolder(${JSON.stringify(out)}, "q4");
    await folder.writeText("summary", "{}");
    await Deno.writeFile(folder.path("loanResults"), new TextEncoder().encode("PAR1"));
    console.log("written");
    await new Promise(() => setInterval(() => {}, 1000));
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

Deno.test("a run killed while writing is never visible under its final name, and the next one starts clean", () =>
  inTempDir(async (out) => {
    const writer = halfWriter(out);
    const reader = writer.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    try {
      assert.equal((await reader.read()).value?.trim(), "written");
      // While it writes, only its hidden staging folder exists.
      const [partial] = await names(out);
      assert.match(partial, new RegExp(`^\\.q4\\.partial-${writer.pid}-`));
      assert.deepEqual(await names(`${out}/${partial}`), [
        "loan_results.parquet",
        "summary.json",
      ]);
    } finally {
      writer.kill("SIGKILL");
      await writer.status;
      await reader.cancel();
    }
    // Killed: the final name is free, and a reader finds nothing there.
    assert.equal((await names(out)).includes("q4"), false);
    await assert.rejects(
      () => readRunFolder(`${out}/q4`),
      (e: Error) =>
        e instanceof RunFolderReadError &&
        e.message ===
          `Cannot read run folder ${out}/q4: summary.json: file is missing: the folder does not exist or is empty`,
    );
    // The next writer of the id removes the dead one's staging folder.
    const again = await openRunFolder(out, "q4");
    await again.writeText("summary", "{}");
    await again.commit();
    assert.deepEqual(await names(out), ["q4"]);
    assert.deepEqual(await names(`${out}/q4`), ["summary.json"]);
  }));

Deno.test("writeOutputFolder() replaces an earlier output whole, and refuses a folder of other files", () =>
  inTempDir(async (root) => {
    const files = ["movement.json", "movement.html"];
    const target = `${root}/movement`;
    await writeOutputFolder(target, files, async (dir) => {
      await Deno.writeTextFile(`${dir}/movement.json`, "old");
      await Deno.writeTextFile(`${dir}/movement.html`, "old");
    });
    // A failing writer leaves the earlier output as it was, and no staging.
    await assert.rejects(
      () =>
        writeOutputFolder(target, files, async (dir) => {
          await Deno.writeTextFile(`${dir}/movement.json`, "new");
          throw new Error("rendering failed");
        }),
      /rendering failed/,
    );
    assert.deepEqual(await names(root), ["movement"]);
    assert.equal(await Deno.readTextFile(`${target}/movement.json`), "old");
    // A successful one replaces every file at once; none of the old remain.
    const { folder } = await writeOutputFolder(
      target,
      files,
      (dir) => Deno.writeTextFile(`${dir}/movement.json`, "new"),
    );
    assert.equal(folder.href, target);
    assert.deepEqual(await names(target), ["movement.json"]);
    assert.deepEqual(await names(root), ["movement"]);

    await Deno.writeTextFile(`${target}/notes.md`, "mine");
    await assert.rejects(
      () => writeOutputFolder(target, files, () => {}),
      (e: Error) =>
        e instanceof OutputLocationError &&
        e.message ===
          `Cannot write ${target}: it holds notes.md, which this output would replace; give a new or empty folder`,
    );
    assert.equal(await Deno.readTextFile(`${target}/notes.md`), "mine");
  }));
