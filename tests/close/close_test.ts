/**
 * The quarter-end close (lib/close, docs/close.md): the sample book's two
 * dates end to end, a rerun that skips everything, a changed input that
 * recomputes its entity's run and dependants only, a reject-limit failure
 * that blocks its dependants and exits 1, retries of transient failures
 * only, and the time budget.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  closeExitCode,
  closeFailure,
  runClose,
  StepTimeoutError,
} from "../../lib/close/mod.ts";
import { UserError } from "../../lib/mod.ts";
import { main } from "../../tasks/close.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import {
  mtimes,
  SAMPLE,
  sampleSteps,
  statuses,
  writeCloseFile,
} from "./_close.ts";

/** Runs `fn` with a temp folder, removed afterwards. */
async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "close_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("close: the sample book's two dates end to end, then a rerun skips every step", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { sample: SAMPLE });
    const out = join(dir, "out");
    assert.equal(await main(["--config", config]), 0);
    assert.deepEqual(await statuses(out), sampleSteps("sample", "succeeded"));
    const state = JSON.parse(await Deno.readTextFile(join(out, "close.json")));
    const run = state.steps[0];
    assert.equal(run.attempts, 1);
    assert.deepEqual(Object.keys(run.input_hashes).sort(), [
      "fx",
      "portfolio",
      "rules",
    ]);
    // The run's own manifest hashed the same portfolio.
    const manifest = JSON.parse(
      await Deno.readTextFile(
        join(out, "runs/sample-2025-09-30/manifest.json"),
      ),
    );
    assert.equal(manifest.inputs.portfolio.sha256, run.input_hashes.portfolio);
    assert.equal(manifest.run_id, "sample-2025-09-30");
    // The movement reads the two runs of the entity, in order.
    const movement = JSON.parse(
      await Deno.readTextFile(
        join(out, "movements/sample-2025-09-30_2025-12-31/movement.json"),
      ),
    );
    assert.equal(JSON.stringify(movement).includes("sample-2025-09-30"), true);
    await Deno.stat(join(out, "exports/sample/fact_facility.parquet"));
    await Deno.stat(join(out, "dashboards/sample.html"));
    const html = await Deno.readTextFile(join(out, "close.html"));
    assert.match(html, /movement:sample-2025-09-30_2025-12-31/);

    const before = await mtimes(join(out, "runs"));
    const beforeAll = await mtimes(out);
    assert.equal(await main(["--config", config]), 0);
    assert.deepEqual(await statuses(out), sampleSteps("sample", "skipped"));
    assert.deepEqual(await mtimes(join(out, "runs")), before);
    // Nothing but the record and its page was written again.
    const after = await mtimes(out);
    const changed = Object.keys(after).filter((k) => after[k] !== beforeAll[k])
      .sort();
    assert.deepEqual(changed, ["close.html", "close.json"]);
  });
});

Deno.test("close: a changed portfolio recomputes that entity's run and its dependants only", async () => {
  await inTemp(async (dir) => {
    const changedFile = join(dir, "a_2025-12-31.parquet");
    await Deno.copyFile(SAMPLE["2025-12-31"], changedFile);
    const config = await writeCloseFile(dir, {
      a: { "2025-09-30": SAMPLE["2025-09-30"], "2025-12-31": changedFile },
      b: SAMPLE,
    });
    const out = join(dir, "out");
    const first = await runClose({ config });
    assert.equal(closeExitCode(first), 0);
    // Same facilities, other bytes: a rewrite of the file.
    pl.readParquet(SAMPLE["2025-12-31"]).writeParquet(changedFile, {
      compression: "zstd",
    });
    const bytes = (p: string) => Deno.readFile(p);
    assert.notDeepEqual(
      await bytes(changedFile),
      await bytes(SAMPLE["2025-12-31"]),
    );
    await runClose({ config });
    assert.deepEqual(await statuses(out), {
      "run:a-2025-09-30": "skipped",
      "run:a-2025-12-31": "succeeded",
      "movement:a-2025-09-30_2025-12-31": "succeeded",
      "export:a": "succeeded",
      "dashboard:a": "succeeded",
      ...sampleSteps("b", "skipped"),
    });
  });
});

Deno.test("close: a portfolio over the reject limit fails its run, blocks its dependants, the rest runs; exit 1 naming the step", async () => {
  await inTemp(async (dir) => {
    // 20 of 50 rows with a negative balance: 40% rejected, limit 5%.
    const bad = writePortfolio(join(dir, "bad_2025-12-31.parquet"), 50, 20);
    const config = await writeCloseFile(dir, {
      good: SAMPLE,
      bad: { "2025-09-30": SAMPLE["2025-09-30"], "2025-12-31": bad },
    });
    const out = join(dir, "out");
    const errors: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    let code: number;
    try {
      code = await main(["--config", config]);
    } finally {
      console.error = error;
    }
    assert.equal(code, 1);
    assert.match(errors.at(-1)!, /step run:bad-2025-12-31 failed: .*reject/i);
    assert.match(
      errors.at(-1)!,
      /blocked: movement:bad-2025-09-30_2025-12-31, export:bad, dashboard:bad/,
    );
    assert.deepEqual(await statuses(out), {
      ...sampleSteps("good", "succeeded"),
      "run:bad-2025-09-30": "succeeded",
      "run:bad-2025-12-31": "failed",
      "movement:bad-2025-09-30_2025-12-31": "blocked",
      "export:bad": "blocked",
      "dashboard:bad": "blocked",
    });
    const state = JSON.parse(await Deno.readTextFile(join(out, "close.json")));
    const failed = state.steps.find((s: { id: string }) =>
      s.id === "run:bad-2025-12-31"
    );
    // A check failure is not retried even with retries left.
    assert.equal(failed.attempts, 1);
    assert.equal(failed.failure_kind, "check");
    assert.match(failed.error, /not retried/);
    const html = await Deno.readTextFile(join(out, "close.html"));
    assert.match(html, /blocked by run:bad-2025-12-31/);

    // Fixed, the rerun resumes: only the failed step and those it blocked run.
    writePortfolio(bad, 50, 0);
    assert.equal(await main(["--config", config]), 0);
    assert.deepEqual(await statuses(out), {
      ...sampleSteps("good", "skipped"),
      "run:bad-2025-09-30": "skipped",
      "run:bad-2025-12-31": "succeeded",
      "movement:bad-2025-09-30_2025-12-31": "succeeded",
      "export:bad": "succeeded",
      "dashboard:bad": "succeeded",
    });
  });
});

Deno.test("close: an output or internal failure is retried up to `retries` times; an input failure is not", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { s: SAMPLE }, { retries: 2 });
    const out = join(dir, "out");
    const tries: string[] = [];
    // A transient failure: the first two attempts of the first run fail.
    const result = await runClose({
      config,
      beforeAttempt: (step, attempt) => {
        tries.push(`${step.id}#${attempt}`);
        if (step.id === "run:s-2025-09-30" && attempt <= 2) {
          throw new UserError("output", "disk briefly full (injected)");
        }
      },
    });
    assert.equal(closeExitCode(result), 0);
    assert.equal(result.state.steps[0].attempts, 3);
    assert.equal(result.state.steps[0].status, "succeeded");
    assert.deepEqual(tries.slice(0, 4), [
      "run:s-2025-09-30#1",
      "run:s-2025-09-30#2",
      "run:s-2025-09-30#3",
      "run:s-2025-12-31#1",
    ]);

    // One more failure than retries: the step fails, exit 3 (output).
    await Deno.remove(out, { recursive: true });
    const exhausted = await runClose({
      config,
      beforeAttempt: (step) => {
        if (step.id === "run:s-2025-12-31") {
          throw new UserError("output", "disk full (injected)");
        }
      },
    });
    assert.equal(exhausted.state.steps[1].attempts, 3);
    assert.equal(closeExitCode(exhausted), 3);
    assert.match(
      closeFailure(exhausted)!.message,
      /run:s-2025-12-31 failed: disk full \(injected\) \(after 3 attempts\)/,
    );

    // An input failure is not transient: one attempt.
    const input = await runClose({
      config,
      beforeAttempt: (step) => {
        if (step.id === "run:s-2025-12-31") {
          throw new UserError("input", "bad file <b>x</b> (injected)");
        }
      },
    });
    const rec = input.state.steps[1];
    assert.equal(rec.status, "failed");
    assert.equal(rec.attempts, 1);
    assert.equal(closeExitCode(input), 2);
    assert.equal(input.state.steps[0].status, "skipped");
    // The page shows the error escaped.
    const html = await Deno.readTextFile(input.page);
    assert.match(html, /bad file &lt;b&gt;x&lt;\/b&gt; \(injected\)/);
    assert.doesNotMatch(html, /<b>x<\/b>/);
  });
});

Deno.test("close: a step over its time budget fails with that reason, is not retried, and the steps not depending on it still run", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { s: SAMPLE });
    const timers: ReturnType<typeof setTimeout>[] = [];
    const result = await runClose({
      config,
      // Generous for the real steps (a cold run takes ~0.6 s, more under
      // --parallel); only export:s is made to run over it.
      timeBudgetS: 4,
      beforeAttempt: (step) =>
        step.id === "export:s"
          ? new Promise((resolve) => timers.push(setTimeout(resolve, 60_000)))
          : undefined,
    });
    timers.forEach(clearTimeout);
    const rec = result.state.steps.find((r) => r.id === "export:s")!;
    assert.equal(rec.status, "failed");
    assert.equal(rec.attempts, 1); // abandoned work is not retried
    assert.match(rec.error!, /time budget of 4 s/);
    assert.ok(rec.seconds >= 4 && rec.seconds < 60, `${rec.seconds}`);
    assert.equal(
      result.state.steps.find((r) => r.id === "dashboard:s")!.status,
      "succeeded",
    );
    assert.ok(closeFailure(result) instanceof UserError);
    assert.ok(new StepTimeoutError("x", 1) instanceof UserError);
  });
});

Deno.test("close: a close file with problems is refused naming each key", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "close.yaml");
    await Deno.writeTextFile(
      path,
      "rules: r.yaml\nretries: -1\ndates: [2025-12-31, 2025-09-30]\nentities:\n  - name: a/b\n    portfolios: {2025-12-31: x.csv}\n    colour: red\n",
    );
    await assert.rejects(() => runClose({ config: path }), (e: Error) => {
      assert.ok(e instanceof UserError && e.kind === "input");
      assert.match(e.message, /close\.yaml/);
      assert.match(e.message, /retries/);
      assert.match(e.message, /entities\[0\]\.name/);
      assert.match(e.message, /entities\[0\]\.colour/);
      return true;
    });
    await Deno.writeTextFile(
      path,
      "rules: r.yaml\ndates: [2025-12-31, 2025-09-30]\nentities:\n  - name: a\n    portfolios: {2025-12-31: x.csv}\n",
    );
    await assert.rejects(
      () => runClose({ config: path }),
      /dates\[1\]: 2025-09-30 must come after 2025-12-31.*no portfolio for 2025-09-30/,
    );
  });
});

Deno.test("close: --date closes up to that date; a date not in the file is a usage error", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { s: SAMPLE });
    const out = join(dir, "out");
    const first = await runClose({ config, date: "2025-09-30" });
    assert.equal(closeExitCode(first), 0);
    assert.deepEqual(await statuses(out), {
      "run:s-2025-09-30": "succeeded",
      "export:s": "succeeded",
      "dashboard:s": "succeeded",
    });
    // The next quarter: the closed date's run is skipped, the export and
    // dashboard (now over two runs) recomputed.
    await runClose({ config, date: "2025-12-31" });
    assert.deepEqual(await statuses(out), {
      "run:s-2025-09-30": "skipped",
      "run:s-2025-12-31": "succeeded",
      "movement:s-2025-09-30_2025-12-31": "succeeded",
      "export:s": "succeeded",
      "dashboard:s": "succeeded",
    });
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(["--config", config, "--date", "2025-06-30"]), 2);
      assert.equal(await main(["--config", config, "--date", "june"]), 2);
    } finally {
      console.error = error;
    }
  });
});

Deno.test("close: config/close.yaml, the sample close, loads and plans the sample book's steps", async () => {
  const { loadCloseConfig, planClose } = await import("../../lib/close/mod.ts");
  const config = await loadCloseConfig("config/close.yaml");
  assert.deepEqual(config.dates, ["2025-09-30", "2025-12-31"]);
  assert.deepEqual(config.entities[0].portfolios, SAMPLE);
  assert.deepEqual(
    planClose(config, "/tmp/x").map((s) => s.id),
    Object.keys(sampleSteps("sample", "")),
  );
});
