/**
 * The run-export plugin (plugins/export_run.ts): a run folder copied whole
 * to `<to>/<run_id>/`, an existing target refused, a failed copy leaving
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
    '{"status":"complete"}',
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

Deno.test("export_run: copies the run folder whole to <to>/<run_id>/ and refuses an existing target", async () => {
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
    await assert.rejects(
      async () => await plugin.onRunComplete!(context),
      (e) =>
        e instanceof UserError && e.kind === "usage" &&
        e.message.includes(`${join(to, "q4")} exists`),
    );
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
