/**
 * The run-export plugin (plugins/export_run.ts): a run folder copied whole
 * to `<to>/<run_id>/`, an earlier export of the same run id replaced whole,
 * a foreign target refused and left untouched, a failed copy leaving
 * nothing behind, `s3://` refused when the options are read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CompletedRunContext,
  loadRules,
  projectPath,
  UserError,
} from "../../lib/mod.ts";
import exportRunPlugin from "../../plugins/export_run.ts";

/** Every file under `dir` with its bytes, as relative path -> text. */
async function tree(dir: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix + e.name;
    if (e.isDirectory) {
      for (const [k, v] of await tree(join(dir, e.name), rel + "/")) {
        out.set(k, v);
      }
    } else out.set(rel, await Deno.readTextFile(join(dir, e.name)));
  }
  return out;
}

async function fixture() {
  const root = await Deno.makeTempDir();
  const runDir = join(root, "runs", "q4");
  await Deno.mkdir(join(runDir, "charts"), { recursive: true });
  await Deno.writeTextFile(join(runDir, "summary.json"), '{"a":1}');
  await Deno.writeTextFile(
    join(runDir, "manifest.json"),
    '{"run_id":"q4","status":"complete"}',
  );
  await Deno.writeTextFile(join(runDir, "charts", "stage.svg"), "<svg/>");
  const context = {
    runId: "q4",
    reportingDate: "2025-12-31",
    rules: await loadRules(projectPath("config/sample_rules.yaml")),
    portfolio: "p.parquet",
    runDir,
    summary: {},
    manifest: {},
  } as unknown as CompletedRunContext;
  return { root, runDir, context };
}

Deno.test("export_run: copies the run folder whole to <to>/<run_id>/", async () => {
  const { root, runDir, context } = await fixture();
  try {
    const to = join(root, "archive", "ifrs9");
    const plugin = exportRunPlugin({ to });
    assert.equal(plugin.name, "export_run");
    await plugin.onRunComplete!(context);
    assert.deepEqual(await tree(join(to, "q4")), await tree(runDir));
    assert.equal((await tree(join(to, "q4"))).size, 3);
    // Nothing else, no temporary folder left.
    assert.deepEqual([...Deno.readDirSync(to)].map((e) => e.name), ["q4"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export_run: a rerun of the same run id (replace: true) replaces its earlier export whole", async () => {
  const { root, runDir, context } = await fixture();
  try {
    const to = join(root, "archive");
    const plugin = exportRunPlugin({ to });
    await plugin.onRunComplete!(context);
    // The rerun: other contents, a file dropped, a file added.
    await Deno.writeTextFile(join(runDir, "summary.json"), '{"a":2}');
    await Deno.remove(join(runDir, "charts"), { recursive: true });
    await Deno.writeTextFile(join(runDir, "report.html"), "<p>rerun</p>");
    await plugin.onRunComplete!(context);
    const exported = await tree(join(to, "q4"));
    assert.deepEqual(
      exported,
      new Map([
        ["summary.json", '{"a":2}'],
        ["manifest.json", '{"run_id":"q4","status":"complete"}'],
        ["report.html", "<p>rerun</p>"],
      ]),
    );
    // Neither the temporary copy nor the old export is left behind.
    assert.deepEqual([...Deno.readDirSync(to)].map((e) => e.name), ["q4"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export_run: a target that is not an export of this run id is refused, named, and left untouched", async () => {
  const { root, context } = await fixture();
  try {
    const to = join(root, "archive");
    const target = join(to, "q4");
    const plugin = exportRunPlugin({ to });
    // A foreign folder; then an export of another run under this name.
    for (
      const manifest of [
        null,
        '{"run_id":"q3","status":"complete"}',
        "not json",
      ]
    ) {
      await Deno.mkdir(target, { recursive: true });
      await Deno.writeTextFile(join(target, "notes.txt"), "keep me");
      if (manifest !== null) {
        await Deno.writeTextFile(join(target, "manifest.json"), manifest);
      }
      const before = await tree(target);
      await assert.rejects(
        async () => await plugin.onRunComplete!(context),
        (e) =>
          e instanceof UserError && e.kind === "usage" &&
          e.message.includes(
            `${target} exists and is not an earlier export of run q4`,
          ),
      );
      assert.deepEqual(await tree(target), before);
      assert.deepEqual([...Deno.readDirSync(to)].map((e) => e.name), ["q4"]);
      await Deno.remove(target, { recursive: true });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export_run: a failed copy leaves nothing under the target or a temporary name", async () => {
  const { root, runDir, context } = await fixture();
  try {
    // A symbolic link (no run folder holds one) fails the copy after the
    // other files were copied.
    await Deno.symlink("/etc/hostname", join(runDir, "zz_link"));
    const to = join(root, "out");
    await assert.rejects(
      async () => await exportRunPlugin({ to }).onRunComplete!(context),
      (e) =>
        e instanceof UserError && e.kind === "output" &&
        /zz_link is neither a file nor a folder/.test(e.message),
    );
    assert.deepEqual([...Deno.readDirSync(to)], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export_run: refuses s3://, URLs and bad options when the options are read", () => {
  assert.throws(
    () => exportRunPlugin({ to: "s3://bank-archive/ifrs9" }),
    /Plugin export_run refuses its options: options\.to: object storage is not configured yet/,
  );
  assert.throws(
    () => exportRunPlugin({ to: "https://example.org/x" }),
    /options\.to: must be a local folder, not a URL/,
  );
  assert.throws(() => exportRunPlugin({}), /options\.to:/);
  assert.throws(() => exportRunPlugin({ to: 3 }), /options\.to:/);
});
