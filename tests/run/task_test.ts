/**
 * Tests of the `deno task run` entry (tasks/run.ts): its `main` called
 * in-process for what it prints and the exit code of each error, and one
 * end-to-end test of the process: a run killed with SIGKILL while its
 * partial folder exists, after which the same run id succeeds.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runPortfolio } from "../../lib/run/mod.ts";
import { main } from "../../tasks/run.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import { writePortfolio } from "./_portfolio.ts";

/** One clear message: no stack frames, no "error: Uncaught". */
function assertCleanError(stderr: string) {
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
  assert.doesNotMatch(stderr, /Uncaught/, stderr);
}

const names = async (dir: string) => {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
};

Deno.test("tasks/run.ts main() prints the run folder and exits 0", async () => {
  await withTempDir(async (tmp) => {
    const portfolio = writePortfolio(join(tmp, "book.parquet"), 60);
    const out = await callMain(
      main,
      "--portfolio",
      portfolio,
      "--out",
      tmp,
      "--run-id",
      "q4",
      "--no-report",
    );
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split("\n");
    assert.equal(lines.at(-1), join(tmp, "q4"));
    assert.ok(lines.some((l) => l.startsWith("ECL by stage (EUR")));
  });
});

Deno.test("tasks/run.ts main() reports a bad rules file in one message", async () => {
  await withTempDir(async (tmp) => {
    const rules = join(tmp, "rules.yaml");
    await Deno.writeTextFile(rules, "reporting_currency: EUR\nscenarios: []\n");
    const out = await callMain(
      main,
      "--portfolio",
      join(tmp, "x.parquet"),
      "--rules",
      rules,
      "--out",
      tmp,
    );
    assert.equal(out.code, 2);
    assert.match(
      out.stderr,
      new RegExp(`^Cannot load rules file ${tmp}/rules\\.yaml: `),
    );
    assert.match(out.stderr, /key scenarios: must be a non-empty list/);
    assertCleanError(out.stderr);
  });
});

Deno.test("tasks/run.ts main() reports an unreadable portfolio in one message", async () => {
  await withTempDir(async (tmp) => {
    const out = await callMain(
      main,
      "--portfolio",
      join(tmp, "missing.csv"),
      "--out",
      tmp,
    );
    assert.equal(out.code, 2);
    assert.equal(
      out.stderr.trim(),
      `Cannot read portfolio ${tmp}/missing.csv: no such file`,
    );
    assert.deepEqual(await names(tmp), []);
  });
});

Deno.test("tasks/run.ts main() reports a reject-rate failure and where its folder is", async () => {
  await withTempDir(async (tmp) => {
    const portfolio = writePortfolio(join(tmp, "book.parquet"), 40, 10);
    const out = await callMain(
      main,
      "--portfolio",
      portfolio,
      "--out",
      join(tmp, "runs"),
      "--run-id",
      "q4",
    );
    assert.equal(out.code, 1);
    assert.match(out.stderr, /25\.00% of rows rejected \(10 of 40\)/);
    // The 10 bad rows are the first ten, each with a negative balance.
    assert.match(
      out.stderr,
      /; most rows failed BALANCE_NEGATIVE \(10, e\.g\. L0000000, L0000001 and \d+ more\)/,
    );
    assert.match(
      out.stderr,
      new RegExp(`what it wrote is in ${tmp}/runs/q4\\.failed`),
    );
    assertCleanError(out.stderr);
    assert.deepEqual(await names(join(tmp, "runs")), ["q4.failed"]);
  });
});

Deno.test("tasks/run.ts main() refuses usage errors with exit code 2", async () => {
  const missing = await callMain(main, "--out", "x");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^--portfolio is required/);
  const bad = await callMain(main, "--portfolio", "p", "--batch-size", "0");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^--batch-size must be a whole number >= 1, got 0/);
});

Deno.test("tasks/run.ts killed mid-run leaves no complete-looking folder (end to end)", async () => {
  await withTempDir(async (tmp) => {
    const portfolio = writePortfolio(join(tmp, "book.parquet"), 50_000);
    const out = join(tmp, "runs");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        fileURLToPath(new URL("../../tasks/run.ts", import.meta.url)),
        "--portfolio",
        portfolio,
        "--out",
        out,
        "--run-id",
        "q4",
        "--no-report",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    // Kill as soon as the partial folder exists: the run is then mid-way.
    let partial: string | undefined;
    const deadline = Date.now() + 60_000;
    while (!partial && Date.now() < deadline) {
      try {
        partial = (await names(out)).find((n) => n.startsWith(".q4.partial-"));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (!partial) await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    assert.ok(partial, "the run never created its partial folder");
    assert.equal(
      status.signal,
      "SIGKILL",
      "the run finished before it was killed",
    );
    const left = await names(out);
    assert.ok(!left.includes("q4"), `complete-looking folder left: ${left}`);
    assert.deepEqual(left, [partial]);

    // The same id runs again: the stale partial is cleaned, the run completes.
    const run = await runPortfolio({
      portfolio,
      out,
      runId: "q4",
      report: false,
    });
    assert.equal(run.manifest.status, "complete");
    assert.deepEqual(await names(out), ["q4"]);
  });
});
