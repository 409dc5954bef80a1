/**
 * The shipped plugins use the library's public face only: every relative
 * import of a `plugins/` module is `../lib/mod.ts` or a file of `plugins/`,
 * so adding or changing a plugin never needs an edit of `lib/`.
 */
import assert from "node:assert/strict";

Deno.test("plugins/ imports lib/mod.ts only, nothing else of lib/", async () => {
  const found: string[] = [];
  let modules = 0;
  for await (const entry of Deno.readDir("plugins")) {
    if (!entry.name.endsWith(".ts")) continue;
    modules++;
    const text = await Deno.readTextFile(`plugins/${entry.name}`);
    const specs = [
      ...text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g),
      ...text.matchAll(/\bimport\s*\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g),
    ].map((m) => m[1]);
    for (const spec of specs) {
      if (spec === "../lib/mod.ts" || /^\.\/[\w.]+\.ts$/.test(spec)) continue;
      found.push(`plugins/${entry.name} imports ${spec}`);
    }
  }
  assert.ok(modules >= 5, `only ${modules} plugin modules found`);
  assert.deepEqual(found, []);
});
