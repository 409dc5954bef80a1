/**
 * The close's review fixes (docs/close.md): a run's skip check covers its
 * plugins' module files and the data files their options name; `--date`
 * keeps the records of later dates and the export and dashboard still
 * cover them; the output folder's lock; error wording.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { closeExitCode, closeFailure, runClose } from "../../lib/close/mod.ts";
import { UserError } from "../../lib/mod.ts";
import { main } from "../../tasks/close.ts";
import {
  mtimes,
  SAMPLE,
  SAMPLE_RULES,
  sampleSteps,
  statuses,
  writeCloseFile,
} from "./_close.ts";

/** Runs `fn` with a temp folder, removed afterwards. */
async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "close_review_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("close: a plugin's option file or module folder changed recomputes the run and its dependants; unchanged, skipped", async () => {
  await inTemp(async (dir) => {
    const plug = join(dir, "plug");
    await Deno.mkdir(plug);
    await Deno.writeTextFile(
      join(plug, "probe.ts"),
      'export default (_options: Record<string, unknown>) => ({ name: "probe" });\n',
    );
    await Deno.writeTextFile(join(plug, "helper.ts"), "export const x = 1;\n");
    const csv = join(dir, "list.csv");
    await Deno.writeTextFile(csv, "customer_id,reason\nC1,a\n");
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(SAMPLE_RULES)) +
        `\nplugins:\n  - module: plug/probe.ts\n    options: {file: ${
          JSON.stringify(csv)
        }, n: 3, label: not-a-file}\n`,
    );
    const config = await writeCloseFile(dir, { s: SAMPLE }, { rules });
    const out = join(dir, "out");
    assert.equal(closeExitCode(await runClose({ config })), 0);
    const state = JSON.parse(await Deno.readTextFile(join(out, "close.json")));
    const keys = Object.keys(state.steps[0].input_hashes);
    assert.ok(keys.includes(`plugins[0].options.file ${csv}`), `${keys}`);
    assert.ok(keys.includes(`plugin file ${join(plug, "helper.ts")}`));
    // Unchanged: every step skipped.
    await runClose({ config });
    assert.deepEqual(await statuses(out), sampleSteps("s", "skipped"));
    // The option's CSV changed: both runs and their dependants recomputed.
    await Deno.writeTextFile(csv, "customer_id,reason\nC2,b\n");
    await runClose({ config });
    assert.deepEqual(await statuses(out), sampleSteps("s", "succeeded"));
    await runClose({ config });
    assert.deepEqual(await statuses(out), sampleSteps("s", "skipped"));
    // A file beside the module changed: recomputed too.
    await Deno.writeTextFile(join(plug, "helper.ts"), "export const x = 2;\n");
    await runClose({ config });
    assert.deepEqual(await statuses(out), sampleSteps("s", "succeeded"));
  });
});

Deno.test("close: a full close, then --date the first date, then a full close again recomputes nothing", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { s: SAMPLE });
    const out = join(dir, "out");
    assert.equal(closeExitCode(await runClose({ config })), 0);
    const before = await mtimes(out);
    const partial = await runClose({ config, date: "2025-09-30" });
    assert.equal(closeExitCode(partial), 0);
    // The later date's records are kept as they were; the export and
    // dashboard still cover both dates, so they are skipped.
    assert.deepEqual(await statuses(out), {
      "run:s-2025-09-30": "skipped",
      "run:s-2025-12-31": "succeeded",
      "movement:s-2025-09-30_2025-12-31": "succeeded",
      "export:s": "skipped",
      "dashboard:s": "skipped",
    });
    await runClose({ config });
    assert.deepEqual(await statuses(out), sampleSteps("s", "skipped"));
    const after = await mtimes(out);
    for (const [path, t] of Object.entries(before)) {
      if (path.startsWith("close.") || path.startsWith(".close.")) continue;
      assert.equal(after[path], t, `${path} rewritten`);
    }
  });
});

Deno.test("close: a second close into the same folder is refused as busy naming the holder; a stale lock is taken over", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { s: SAMPLE });
    const out = join(dir, "out");
    const both = await Promise.allSettled([
      runClose({ config }),
      runClose({ config }),
    ]);
    const refused = both.filter((r) => r.status === "rejected");
    assert.equal(refused.length, 1);
    const e = (refused[0] as PromiseRejectedResult).reason;
    assert.ok(e instanceof UserError && e.kind === "busy", String(e));
    assert.match(e.message, new RegExp(`pid ${Deno.pid}\\b`));
    assert.match(e.message, /\.close\.lock/);
    // The lock is released at the end.
    await assert.rejects(() => Deno.stat(join(out, ".close.lock")));
    assert.deepEqual(await statuses(out), sampleSteps("s", "succeeded"));

    // Held by a live process: the door exits 4.
    await Deno.writeTextFile(join(out, ".close.lock"), `${Deno.pid}\n`);
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(["--config", config]), 4);
    } finally {
      console.error = error;
    }
    // Held by a dead process: taken over with a warning.
    const child = new Deno.Command("true").spawn();
    await child.status;
    await Deno.writeTextFile(join(out, ".close.lock"), `${child.pid}\n`);
    const warnings: string[] = [];
    const result = await runClose({
      config,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(closeExitCode(result), 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`stale lock .* pid ${child.pid}`));
    await assert.rejects(() => Deno.stat(join(out, ".close.lock")));
  });
});

Deno.test("close: failure messages name the step once and use the right article", async () => {
  await inTemp(async (dir) => {
    const config = await writeCloseFile(dir, { s: SAMPLE });
    const input = await runClose({
      config,
      beforeAttempt: (step) => {
        if (step.id === "run:s-2025-09-30") {
          throw new UserError("input", "bad file (injected)");
        }
      },
    });
    const message = closeFailure(input)!.message;
    assert.match(message, /an input failure: not retried/);
    assert.doesNotMatch(message, /a input/);
    const timers: ReturnType<typeof setTimeout>[] = [];
    const slow = await runClose({
      config,
      timeBudgetS: 4,
      beforeAttempt: (step) =>
        step.id === "dashboard:s"
          ? new Promise((resolve) => timers.push(setTimeout(resolve, 60_000)))
          : undefined,
    });
    timers.forEach(clearTimeout);
    const text = closeFailure(slow)!.message;
    assert.match(text, /step dashboard:s failed: ran over its time budget/);
    assert.doesNotMatch(text, /dashboard:s.*dashboard:s/);
  });
});
