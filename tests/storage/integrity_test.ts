/**
 * What a publish to S3 may touch and what a reader of S3 folders trusts,
 * against a real server (`s3rver` on loopback): foreign data under a run's
 * prefix is refused and never deleted; a second writer of the same name is
 * detected before it touches the folder, and a folder whose files got
 * mixed by two writers is refused by its readers, naming the file; an
 * output folder without a manifest (a movement) carries a completion
 * marker written last, and its readers refuse it without one.
 */
import assert from "node:assert/strict";
import { runPortfolio } from "../../lib/mod.ts";
import {
  locate,
  openRunFolder,
  readRunFolder,
  readRunSummary,
  writeOutputFolder,
} from "../../lib/run_folder/mod.ts";
import { COMPLETE_MARKER, s3Folder } from "../../lib/storage/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { getText, keys, put, sha256Hex, startS3 } from "./_s3.ts";

/** Copies a local run folder's files into a staging folder. */
async function fill(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** A local run of a generated book of `n` facilities, as run id `q4`. */
async function localRun(tmp: string, n: number, name: string) {
  writePortfolio(`${tmp}/${name}_2025-12-31.parquet`, n);
  return await runPortfolio({
    portfolio: `${tmp}/${name}_2025-12-31.parquet`,
    fx: "config/fx_rates.yaml",
    out: `${tmp}/${name}`,
    runId: "q4",
    report: false,
  });
}

Deno.test("a run never deletes foreign data under its prefix: a prefix holding other files is refused, naming a key, with or without --replace", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("bank");
    const foreign = ["data/q4/portfolio.parquet", "data/q4/archive/2024.csv"];
    for (const k of foreign) await put(s3, `s3://bank/${k}`, `mine ${k}`);
    for (const replace of [false, true]) {
      await assert.rejects(
        () => openRunFolder("s3://bank/data", "q4", { replace }),
        (e: Error) => {
          assert.equal(e.name, "RunIdError");
          assert.match(e.message, /s3:\/\/bank\/data\/q4/);
          assert.match(
            e.message,
            /s3:\/\/bank\/data\/q4\/archive, s3:\/\/bank\/data\/q4\/portfolio\.parquet, which a run does not write/,
          );
          return true;
        },
      );
    }
    // The run's own input under the prefix is named as such.
    await assert.rejects(
      () =>
        openRunFolder("s3://bank/data", "q4", {
          inputs: ["s3://bank/data/q4/portfolio.parquet"],
        }),
      /it holds this run's input s3:\/\/bank\/data\/q4\/portfolio\.parquet/,
    );
    assert.deepEqual(await keys(s3, "bank"), [...foreign].sort());

    // Foreign data that appears while a run is computed: the publish
    // refuses it at the last moment and deletes nothing.
    const local = await localRun(tmp, 20, "book");
    const run = await openRunFolder("s3://bank/runs", "q4");
    await fill(local.dir, run.dir);
    await put(s3, "s3://bank/runs/q4/notes.md", "mine");
    await assert.rejects(
      () => run.commit(),
      /s3:\/\/bank\/runs\/q4\/notes\.md, which a run does not write/,
    );
    assert.deepEqual(await keys(s3, "bank", "runs/"), ["runs/q4/notes.md"]);
    assert.equal(await getText(s3, "bank", "runs/q4/notes.md"), "mine");

    // The storage layer refuses on its own too (a publish of other
    // names): the key is named and kept.
    const staging = await s3Folder("s3://bank/runs").stage("q4");
    await Deno.writeTextFile(`${staging.dir}/summary.json`, "{}");
    await assert.rejects(
      () => staging.publish({ replace: true }),
      /Cannot publish s3:\/\/bank\/runs\/q4: it holds s3:\/\/bank\/runs\/q4\/notes\.md, which this folder does not write/,
    );
    await staging.discard();
    assert.deepEqual(await keys(s3, "bank", "runs/"), ["runs/q4/notes.md"]);
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a second writer of the same id: refused before it touches the folder, and a folder mixed by two writers is refused by readers, naming the file", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("runs");
    const small = await localRun(tmp, 20, "small");
    const large = await localRun(tmp, 35, "large");
    assert.notEqual(small.summary.totals.count, large.summary.totals.count);

    // A publishes the id while B (no --replace) is uploading: B's
    // re-check right before its copies finds A's manifest.
    const a = await openRunFolder("s3://runs/p", "q4");
    await fill(small.dir, a.dir);
    let fired = false;
    const racing = s3Folder("s3://runs/p", {
      beforeStep: async (step) => {
        if (step === "upload" && !fired) {
          fired = true;
          await a.commit();
        }
      },
    });
    const b = await openRunFolder(racing, "q4");
    await fill(large.dir, b.dir);
    await assert.rejects(
      () => b.commit(),
      /Cannot publish s3:\/\/runs\/p\/q4: another writer published a folder there while this one was being uploaded \(its manifest\.json appeared\)/,
    );
    await Deno.remove(b.dir, { recursive: true }).catch(() => {});
    // A is intact and trusted.
    assert.equal(
      (await readRunSummary("s3://runs/p/q4", { trusted: true })).totals.count,
      small.summary.totals.count,
    );
    // The manifest lists every file with its size and SHA-256.
    const manifest = JSON.parse(
      await getText(s3, "runs", "p/q4/manifest.json"),
    );
    const summaryBytes = await Deno.readFile(`${small.dir}/summary.json`);
    assert.deepEqual(manifest.published_files["summary.json"], {
      bytes: summaryBytes.length,
      sha256: await sha256Hex(summaryBytes),
    });

    // B replaces while C replaces too, C wholly in the middle of B's
    // copies (after B's re-check): a server that ignores conditional
    // writes (s3rver) lets B's manifest land over files C copied.
    const c = await openRunFolder("s3://runs/p", "q4", { replace: true });
    await fill(small.dir, c.dir);
    let copies = 0;
    const mixing = s3Folder("s3://runs/p", {
      beforeStep: async (step) => {
        if (step === "copy" && ++copies === 4) await c.commit();
      },
    });
    const d = await openRunFolder(mixing, "q4", { replace: true });
    await fill(large.dir, d.dir);
    await d.commit();
    // Files copied by C after B's first three: not the ones B's manifest
    // lists. Every reader refuses the folder, naming such a file.
    for (
      const read of [
        () => readRunSummary("s3://runs/p/q4", { trusted: true }),
        () => readRunFolder("s3://runs/p/q4", { trusted: true }),
      ]
    ) {
      await assert.rejects(read, (e: Error) => {
        assert.match(
          e.message,
          /^Cannot read s3:\/\/runs\/p\/q4\/\S+: it is not the file the folder's manifest\.json lists/,
        );
        assert.equal(e.message.split("\n").length, 1);
        return true;
      });
    }
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an output folder in S3 (a movement) is complete only with its _complete.json, written last; a folder without it or with a changed file is refused", async () => {
  const s3 = await startS3();
  try {
    await s3.bucket("runs");
    const files = ["movement.json", "movement.parquet"];
    const write = (json: string) =>
      writeOutputFolder("s3://runs/mv", files, async (_dir, out) => {
        await out.text("movement.json", json);
        await out.text("movement.parquet", `parquet of ${json}`);
      });
    await write('{"v":1}');
    assert.deepEqual(await keys(s3, "runs"), [
      `mv/${COMPLETE_MARKER}`,
      "mv/movement.json",
      "mv/movement.parquet",
    ]);
    const marker = JSON.parse(
      await getText(s3, "runs", `mv/${COMPLETE_MARKER}`),
    );
    const bytes = new TextEncoder().encode('{"v":1}');
    assert.deepEqual(marker.files["movement.json"], {
      bytes: bytes.length,
      sha256: await sha256Hex(bytes),
    });
    assert.equal(
      await locate("s3://runs/mv").readText("movement.json"),
      '{"v":1}',
    );

    // A file changed behind the marker's back (another writer): refused.
    await put(s3, "s3://runs/mv/movement.json", '{"v":2}');
    await assert.rejects(
      () => locate("s3://runs/mv").readText("movement.json"),
      /Cannot read s3:\/\/runs\/mv\/movement\.json: it is not the file the folder's _complete\.json lists/,
    );

    // A replace cut short after its first copy: the marker went first,
    // so the half-replaced folder is refused by every reader.
    const failing = s3Folder("s3://runs", {
      beforeStep: (step, key) => {
        if (step === "copy" && key.endsWith("movement.parquet")) {
          throw new Error("injected: connection reset");
        }
      },
    });
    const staging = await failing.stage("mv");
    await Deno.writeTextFile(`${staging.dir}/movement.json`, '{"v":3}');
    await Deno.writeTextFile(`${staging.dir}/movement.parquet`, "p3");
    await assert.rejects(
      () => staging.publish({ replace: true, names: files }),
      /injected/,
    );
    await staging.discard();
    assert.ok(!(await keys(s3, "runs")).includes(`mv/${COMPLETE_MARKER}`));
    await assert.rejects(
      () => locate("s3://runs/mv").readText("movement.json"),
      /Cannot read s3:\/\/runs\/mv\/movement\.json: s3:\/\/runs\/mv has neither _complete\.json nor manifest\.json, so it was not published whole/,
    );
    // A folder with nothing in it: the file is simply missing.
    await assert.rejects(
      () => locate("s3://runs/none").readText("movement.json"),
      Deno.errors.NotFound,
    );
    // Written again, it is whole.
    await write('{"v":4}');
    assert.equal(
      await locate("s3://runs/mv").readText("movement.json"),
      '{"v":4}',
    );
  } finally {
    await s3.close();
  }
});
