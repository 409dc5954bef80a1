/**
 * The shape of the library (docs: README "Layout"): `lib/` areas import each
 * other without cycles, and no `lib/` module imports a door (`tasks/`,
 * `notebooks/`, `dashboards/`), so the library can be used without them.
 * The graph is read from the source's relative imports, the way a reader
 * follows them.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const LIB = resolve("lib");

/** Every `.ts` file under a folder, recursively. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await sources(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Relative import and export specifiers of a module (static and dynamic). */
function relativeImports(text: string): string[] {
  const specifiers = [
    ...text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g),
    ...text.matchAll(/\bimport\s*\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g),
    ...text.matchAll(/new URL\(\s*"(\.{1,2}\/[^"]+)"\s*,\s*import\.meta\.url/g),
  ];
  return specifiers.map((m) => m[1]);
}

/** The area of a library file: its first folder under lib/, or the file. */
function areaOf(file: string): string {
  return relative(LIB, file).split("/")[0];
}

/** Edges between areas, each with one file that makes it. */
async function areaGraph(): Promise<{
  edges: Map<string, Map<string, string>>;
  outside: string[];
}> {
  const edges = new Map<string, Map<string, string>>();
  const outside: string[] = [];
  for (const file of await sources(LIB)) {
    for (const spec of relativeImports(await Deno.readTextFile(file))) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(LIB + "/")) {
        outside.push(`${relative(".", file)} imports ${relative(".", target)}`);
        continue;
      }
      const from = areaOf(file), to = areaOf(target);
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      edges.get(from)!.set(to, relative(".", file));
    }
  }
  return { edges, outside };
}

/** One cycle of the graph as a path of areas, or undefined. */
function findCycle(
  edges: Map<string, Map<string, string>>,
): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    path.push(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (state.get(next) === "open") {
        return [...path.slice(path.indexOf(next)), next];
      }
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

Deno.test("lib/ areas import each other without a cycle", async () => {
  const { edges } = await areaGraph();
  const cycle = findCycle(edges);
  assert.equal(
    cycle,
    undefined,
    cycle === undefined
      ? "no cycle"
      : `cycle ${cycle.join(" -> ")}: ${
        cycle.slice(0, -1).map((a, i) =>
          `${edges.get(a)!.get(cycle[i + 1])} imports ${cycle[i + 1]}`
        ).join("; ")
      }`,
  );
});

Deno.test("lib/ imports nothing outside lib/ (no task, notebook or dashboard)", async () => {
  const { outside } = await areaGraph();
  assert.deepEqual(outside, []);
});

Deno.test("lib/ starts no task: no string in lib/ code names a tasks/ file", async () => {
  // A library that runs `deno run tasks/x.ts` depends on its doors and on
  // the working directory; comments may still mention the tasks.
  const found: string[] = [];
  for (const file of await sources(LIB)) {
    const code = (await Deno.readTextFile(file))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    for (const m of code.matchAll(/["'`][^"'`\n]*\btasks\/\w+\.ts/g)) {
      found.push(`${relative(".", file)}: ${m[0]}`);
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("the doors (tasks, benchmarks, dashboards) use lib/mod.ts or an area's mod.ts, never a private file", async () => {
  const found: string[] = [];
  for (const door of ["tasks", "bench", "dashboards"]) {
    for (const file of await sources(resolve(door))) {
      for (const spec of relativeImports(await Deno.readTextFile(file))) {
        const target = relative(LIB, resolve(dirname(file), spec));
        if (target.startsWith("..")) continue; // not in lib/
        if (target === "mod.ts" || /^[a-z_]+\/mod\.ts$/.test(target)) continue;
        found.push(`${relative(".", file)} imports lib/${target}`);
      }
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("the notebooks use the public face, lib/mod.ts, only", async () => {
  const found: string[] = [];
  for await (const entry of Deno.readDir("notebooks")) {
    if (!entry.name.endsWith(".ipynb")) continue;
    const nb = JSON.parse(await Deno.readTextFile(`notebooks/${entry.name}`));
    for (const cell of nb.cells) {
      if (cell.cell_type !== "code") continue;
      for (const spec of relativeImports(cell.source.join(""))) {
        if (spec !== "../lib/mod.ts") {
          found.push(`${entry.name} imports ${spec}`);
        }
      }
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("findCycle() finds a cycle and accepts a tree", () => {
  const graph = (pairs: [string, string][]) => {
    const g = new Map<string, Map<string, string>>();
    for (const [a, b] of pairs) {
      if (!g.has(a)) g.set(a, new Map());
      g.get(a)!.set(b, `${a}.ts`);
    }
    return g;
  };
  assert.deepEqual(
    findCycle(
      graph([["run", "report"], ["report", "plot"], ["report", "run"]]),
    ),
    ["run", "report", "run"],
  );
  assert.equal(
    findCycle(graph([["run", "report"], ["report", "plot"], ["run", "plot"]])),
    undefined,
  );
});
