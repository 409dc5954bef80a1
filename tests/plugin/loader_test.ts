/**
 * Loading plugins (lib/plugin/loader.ts, docs/plugins.md): every refusal
 * happens when the rules load, before any data is read (no run folder is
 * created), as a UserError of kind input naming the plugin's entry and
 * module.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  loadPlugins,
  loadRules,
  runPortfolio,
  UserError,
} from "../../lib/mod.ts";
import { workspace, writeModule, writeRules } from "./_helpers.ts";

const GOOD =
  `export default (options) => ({ name: options.name ?? "good" });\n`;

/** Runs with `plugins` in the rules; asserts refusal before any folder. */
async function refused(
  modules: Record<string, string>,
  plugins: (dir: string) => unknown[],
  pattern: RegExp,
): Promise<void> {
  const ws = await workspace(20);
  try {
    for (const [name, source] of Object.entries(modules)) {
      await writeModule(ws.dir, name, source);
    }
    const rules = await writeRules(ws.dir, plugins(ws.dir));
    let steps: string[] = [];
    await assert.rejects(
      runPortfolio({
        portfolio: ws.portfolio,
        rules,
        out: `${ws.dir}/runs`,
        runId: "q4",
        report: false,
        onStep: (s) => steps.push(s),
      }),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.equal(e.kind, "input");
        assert.match(e.message, pattern);
        return true;
      },
    );
    // Refused in the first step: nothing scanned, no folder.
    assert.deepEqual(steps, ["load_config"]);
    steps = [];
    await assert.rejects(Deno.stat(`${ws.dir}/runs`), Deno.errors.NotFound);
    // The same refusal from loadPlugins alone.
    await assert.rejects(
      loadPlugins(await loadRules(rules), rules),
      pattern,
    );
  } finally {
    await ws.cleanup();
  }
}

Deno.test("a plugin module that does not exist is refused, naming it", async () => {
  await refused(
    {},
    () => [{ module: "./missing_plugin.ts" }],
    /rules\.yaml: plugins\[0\] \(module \.\/missing_plugin\.ts\): cannot read the plugin module .*missing_plugin\.ts: no such file/,
  );
});

Deno.test("a plugin module without a default export is refused", async () => {
  await refused(
    { "nodefault.ts": `export const plugin = { name: "x" };\n` },
    () => [{ module: "nodefault.ts" }],
    /plugins\[0\] \(module nodefault\.ts\): the plugin module has no default export/,
  );
});

Deno.test("a default export that is not a function is refused", async () => {
  await refused(
    { "object.ts": `export default { name: "x" };\n` },
    () => [{ module: "object.ts" }],
    /plugins\[0\] \(module object\.ts\): the plugin module's default export is an object .*not a factory/,
  );
});

Deno.test("a factory that refuses its options names the module and quotes the message", async () => {
  await refused(
    {
      "picky.ts":
        `export default (o) => { if (!o.csv) throw new Error("option csv is required"); return { name: "picky" }; };\n`,
    },
    () => [{ module: "picky.ts", options: { nocsv: 1 } }],
    /plugins\[0\] \(module picky\.ts\): the plugin refused its options: "option csv is required"/,
  );
});

Deno.test("a plugin without a string name is refused", async () => {
  await refused(
    { "noname.ts": `export default () => ({ name: 42 });\n` },
    () => [{ module: "noname.ts" }],
    /plugins\[0\] \(module noname\.ts\): the plugin has no name/,
  );
});

Deno.test("two plugins of one name are refused, naming both entries", async () => {
  await refused(
    { "good.ts": GOOD, "good2.ts": GOOD },
    () => [{ module: "good.ts" }, { module: "good2.ts" }],
    /plugins\[1\] \(module good2\.ts\): plugin name "good" is already taken by plugins\[0\] \(module good\.ts\)/,
  );
});

Deno.test("an unknown hook key is refused, naming it and the known hooks", async () => {
  await refused(
    {
      "typo.ts":
        `export default () => ({ name: "typo", afterStage: (f) => f });\n`,
    },
    () => [{ module: "typo.ts" }],
    /plugin typo has unknown hook afterStage \(known hooks: afterValidate, afterStaging, afterEcl, onReport, onRunComplete\)/,
  );
});

Deno.test("module paths are relative to the rules file, or absolute; options reach the factory", async () => {
  const ws = await workspace(5);
  try {
    await Deno.mkdir(`${ws.dir}/plugins`);
    const abs = await writeModule(ws.dir, "plugins/a.ts", GOOD);
    await writeModule(ws.dir, "plugins/b.ts", GOOD);
    await Deno.mkdir(`${ws.dir}/config`);
    const rules = await writeRules(`${ws.dir}/config`, [
      { module: abs, options: { name: "first" } },
      { module: "../plugins/b.ts", options: { name: "second" } },
    ]);
    const loaded = await loadPlugins(await loadRules(rules), rules);
    assert.deepEqual(loaded.map((p) => p.plugin.name), ["first", "second"]);
    assert.deepEqual(loaded.map((p) => p.module), [
      abs,
      `${ws.dir}/plugins/b.ts`,
    ]);
    assert.deepEqual(loaded[1].options, { name: "second" });
  } finally {
    await ws.cleanup();
  }
});

Deno.test("the rules' plugins key is checked like every other key", async () => {
  const ws = await workspace(5);
  try {
    const rules = await writeRules(ws.dir, [{ modul: "x.ts" }]);
    await assert.rejects(loadRules(rules), /plugins\[0\]/);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("the sample rules files have no plugins key and load none", async () => {
  for (
    const file of [
      "config/ifrs9_rules.yaml",
      "config/sample_rules.yaml",
      "config/example12_rules.yaml",
    ]
  ) {
    const path = new URL(`../../${file}`, import.meta.url).pathname;
    const rules = await loadRules(path);
    assert.equal(rules.plugins, undefined);
    assert.deepEqual(await loadPlugins(rules, path), []);
  }
});
