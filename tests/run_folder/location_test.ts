/**
 * Tests of local locations (lib/run_folder/location.ts): files written
 * whole, names kept inside their folder, publishing that never overwrites
 * a folder it was not asked to replace, and paths and URLs told apart.
 *
 * @module
 */
import { UserError } from "../../lib/mod.ts";
import assert from "node:assert/strict";
import { localFolder, locate } from "../../lib/run_folder/mod.ts";
import { inTempDir, names } from "./_temp.ts";

Deno.test("writeText() creates the folder and replaces a file whole, leaving no temporary file", () =>
  inTempDir(async (root) => {
    const folder = localFolder(`${root}/reports`);
    await folder.writeText("dashboard.html", "old");
    await folder.writeText("dashboard.html", "new");
    assert.deepEqual(await names(`${root}/reports`), ["dashboard.html"]);
    assert.equal(await folder.readText("dashboard.html"), "new");
  }));

Deno.test("readText() of a missing file rejects with NotFound; list() of a missing folder is empty", () =>
  inTempDir(async (root) => {
    const folder = localFolder(`${root}/none`);
    await assert.rejects(() => folder.readText("x.json"), Deno.errors.NotFound);
    assert.deepEqual(await folder.list(), []);
  }));

Deno.test("a location refuses names that leave the folder", () =>
  inTempDir(async (root) => {
    const folder = localFolder(root);
    for (const name of ["", ".", "..", "a/b", "../x"]) {
      assert.throws(() => folder.child(name), UserError);
      await assert.rejects(() => folder.stage(name), UserError);
      await assert.rejects(() => folder.writeText(name, ""), UserError);
    }
    assert.deepEqual(await names(root), []);
  }));

Deno.test("publish() does not overwrite a non-empty folder unless asked to replace it", () =>
  inTempDir(async (root) => {
    const folder = localFolder(root);
    await Deno.mkdir(`${root}/q4`);
    await Deno.writeTextFile(`${root}/q4/summary.json`, "old");
    const staging = await folder.stage("q4");
    await Deno.writeTextFile(`${staging.dir}/summary.json`, "new");
    await assert.rejects(() => staging.publish());
    assert.equal(await Deno.readTextFile(`${root}/q4/summary.json`), "old");
    const q4 = await staging.publish({ replace: true });
    assert.equal(await q4.readText("summary.json"), "new");
    assert.deepEqual(await names(root), ["q4"]);
  }));

Deno.test("locate() opens paths and file: URLs as local folders and refuses other storage", () => {
  assert.equal(locate("data/runs").href, "data/runs");
  assert.equal(locate("/").href, "/");
  assert.equal(locate("file:///tmp/runs/").href, "/tmp/runs");
  const folder = localFolder("x");
  assert.equal(locate(folder), folder);
  // s3:// is a folder in S3 (lib/storage, tests/storage/); others refused.
  assert.equal(locate("s3://bucket/runs/").href, "s3://bucket/runs");
  assert.throws(
    () => locate("gs://bucket/runs"),
    (e: Error) =>
      e instanceof TypeError &&
      e.message ===
        "Cannot open gs://bucket/runs: no storage for gs:// URLs is available; give a local path",
  );
});
