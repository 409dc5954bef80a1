/**
 * Tests of the `deno task run` entry (tasks/run.ts) as a subprocess: the
 * message and exit code of each error, and a run killed with SIGKILL while
 * its partial folder exists, after which the same run id succeeds.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runPortfolio } from "../../lib/run/run.ts";
import { writePortfolio } from "./_portfolio.ts";

const runTask = (...args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/run.ts", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });

const text = (b: Uint8Array) => new TextDecoder().decode(b);

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

Deno.test("tasks/run.ts prints the run folder and exits 0", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 60);
  const out = await runTask(
    "--portfolio",
    portfolio,
    "--out",
    tmp,
    "--run-id",
    "q4",
    "--no-report",
  ).output();
  assert.equal(out.code, 0, text(out.stderr));
  const lines = text(out.stdout).trim().split("\n");
  assert.equal(lines.at(-1), `${tmp}/q4`);
  assert.ok(lines.some((l) => l.startsWith("ECL by stage (EUR")));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("tasks/run.ts reports a bad rules file in one message", async () => {
  const tmp = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${tmp}/rules.yaml`,
    "reporting_currency: EUR\nscenarios: []\n",
  );
  const out = await runTask(
    "--portfolio",
    `${tmp}/x.parquet`,
    "--rules",
    `${tmp}/rules.yaml`,
    "--out",
    tmp,
  ).output();
  assert.equal(out.code, 1);
  const err = text(out.stderr);
  assert.match(
    err,
    new RegExp(`^Cannot load rules file ${tmp}/rules\\.yaml: `),
  );
  assert.match(err, /key scenarios: must be a non-empty list/);
  assertCleanError(err);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("tasks/run.ts reports an unreadable portfolio in one message", async () => {
  const tmp = await Deno.makeTempDir();
  const out = await runTask("--portfolio", `${tmp}/missing.csv`, "--out", tmp)
    .output();
  assert.equal(out.code, 1);
  const err = text(out.stderr);
  assert.equal(
    err.trim(),
    `Cannot read portfolio ${tmp}/missing.csv: no such file`,
  );
  assert.deepEqual(await names(tmp), []);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("tasks/run.ts reports a reject-rate failure and where its folder is", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 40, 10);
  const out = await runTask(
    "--portfolio",
    portfolio,
    "--out",
    `${tmp}/runs`,
    "--run-id",
    "q4",
  ).output();
  assert.equal(out.code, 1);
  const err = text(out.stderr);
  assert.match(err, /25\.00% of rows rejected \(10 of 40\)/);
  assert.match(err, new RegExp(`what it wrote is in ${tmp}/runs/q4\\.failed`));
  assertCleanError(err);
  assert.deepEqual(await names(`${tmp}/runs`), ["q4.failed"]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("tasks/run.ts refuses usage errors with exit code 2", async () => {
  const out = await runTask("--out", "x").output();
  assert.equal(out.code, 2);
  assert.match(text(out.stderr), /^--portfolio is required/);
});

Deno.test("tasks/run.ts killed mid-run leaves no complete-looking folder", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 50_000);
  const out = `${tmp}/runs`;
  const child = runTask(
    "--portfolio",
    portfolio,
    "--out",
    out,
    "--run-id",
    "q4",
    "--no-report",
  ).spawn();
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
  await Deno.remove(tmp, { recursive: true });
});
