/**
 * Every door shows a user-facing failure as one message, never a stack
 * trace (issue 10, "every failure a message"): the notebook door is the
 * Deno Jupyter kernel, which prints an uncaught error's `stack` as the
 * cell's traceback.
 *
 * Run alone: `deno test -A tests/hardening/doors_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { projectPath, UserError } from "../../lib/mod.ts";
import { runCommand } from "../../lib/setup/mod.ts";

/** Executes `cells` with the Deno kernel; returns the executed notebook. */
async function execute(
  cells: string[],
  env: Record<string, string> = {},
): Promise<{ cells: { outputs: Record<string, unknown>[] }[] }> {
  // Inside the project, so the kernel finds deno.json and its npm packages.
  const tmp = projectPath("data/tmp");
  await Deno.mkdir(tmp, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: tmp, prefix: "door-" });
  try {
    const path = join(dir, "door.ipynb");
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {
          kernelspec: {
            name: "deno",
            display_name: "Deno",
            language: "typescript",
          },
        },
        cells: cells.map((source) => ({
          cell_type: "code",
          metadata: {},
          execution_count: null,
          outputs: [],
          source,
        })),
      }),
    );
    const result = await runCommand([
      "jupyter-nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--allow-errors",
      "--output-dir",
      dir,
      "--output",
      "executed",
      path,
    ], { env });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(await Deno.readTextFile(join(dir, "executed.ipynb")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const LIB = new URL("../../lib/mod.ts", import.meta.url).href;

Deno.test("a notebook cell whose rules file is missing shows the message naming the file, no stack trace", async () => {
  const missing = "/nonexistent/rules.yaml";
  const source =
    `import { loadRules } from "${LIB}";\nawait loadRules("${missing}");`;
  const quiet = await execute([source]);
  const error = quiet.cells[0].outputs.find((o) => o.output_type === "error");
  assert.ok(error, "the cell raised");
  // The message alone (a rules error lists its problems on further lines).
  const traceback = (error.traceback as string[]).join("\n");
  assert.match(
    traceback,
    /^RulesError: Cannot load rules file \/nonexistent\/rules\.yaml: 1 problem\n {2}- key \(file\): cannot be read/,
  );
  assert.doesNotMatch(traceback, /\n\s+at /);
  // Debugging asked for: the stack is there.
  const debug = await execute([source], { IFRS9_DEBUG: "1" });
  const withStack = debug.cells[0].outputs.find((o) =>
    o.output_type === "error"
  )!.traceback as string[];
  assert.match(withStack.join("\n"), /\n?\s+at /);
});

Deno.test("a UserError's stack is its one-line message unless IFRS9_DEBUG is set; the full stack stays for --debug", () => {
  const e = new UserError("input", "row 3: balance is -1");
  assert.equal(e.stack, "UserError: row 3: balance is -1");
});
