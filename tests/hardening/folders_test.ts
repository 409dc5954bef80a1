/**
 * Hardening of folders (issue 10, the hostile tester's round on folders):
 * what a run with `--replace` and a failing run may replace, what the
 * generator may overwrite and which dates and seeds it takes, the name of
 * its temporary folder (so `deno task clean` knows it), concurrent writers
 * of one output folder, what an output path that is a device is called, and
 * the checks of a trusted read of a hand-edited run folder.
 *
 * Runnable alone: `deno test -A tests/hardening/folders_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { exitCodeFor, UserError } from "../../lib/errors.ts";
import { generateBook, generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import {
  checkOutputFile,
  checkOutputFolder,
  readRunFolder,
  readRunSummary,
  RunFolderReadError,
  stagingName,
  writeOutputFolder,
} from "../../lib/run_folder/mod.ts";
import { main as runMain } from "../../tasks/run.ts";
import { main as generateMain } from "../../tasks/generate.ts";
import { main as cleanMain } from "../../tasks/clean.ts";
import { main as dashboardMain } from "../../dashboards/build.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { callMain, type MainResult, withTempDir } from "../tasks/_main.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FX = join(ROOT, "config/fx_rates.yaml");
const STACK = /\n\s+at /;

/** Exit code, every `named` text in stderr, and no stack trace. */
function assertFails(r: MainResult, code: number, ...named: string[]): void {
  assert.equal(r.code, code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  for (const n of named) {
    assert.ok(r.stderr.includes(n), `stderr lacks ${n}:\n${r.stderr}`);
  }
  assert.doesNotMatch(r.stderr, STACK);
}

/** Names in a folder, sorted. */
function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** SHA-256 of a file, hex. */
async function sha(path: string): Promise<string> {
  const bytes = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return Array.from(new Uint8Array(bytes)).map((b) =>
    b.toString(16).padStart(2, "0")
  ).join("");
}

/** A portfolio beside its FX table, as the tester set them up. */
async function bookIn(dir: string, bad = 0): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(FX, join(dir, "fx_rates_2025-12-31.yaml"));
  return writePortfolio(join(dir, "book.parquet"), 30, bad);
}

const run = (...args: string[]) => callMain(runMain, "--quiet", ...args);

// 1. `run --replace` replaces only a complete run folder of ours.

Deno.test("run --replace refuses a plain file at <out>/<id>, before computing", async () => {
  await withTempDir(async (dir) => {
    const book = await bookIn(join(dir, "in"));
    await Deno.writeTextFile(join(dir, "q"), "my notes");
    const r = await run(
      "--portfolio",
      book,
      "--out",
      dir,
      "--run-id",
      "q",
      "--replace",
    );
    assertFails(r, 2, join(dir, "q"), "is a file");
    assert.equal(await Deno.readTextFile(join(dir, "q")), "my notes");
    // Refused before the run opened its folder: nothing new in --out.
    assert.deepEqual(entries(dir), ["in", "q"]);
  });
});

Deno.test("run --replace refuses a folder of notes at <out>/<id>", async () => {
  await withTempDir(async (dir) => {
    const book = await bookIn(join(dir, "in"));
    await Deno.mkdir(join(dir, "q"));
    await Deno.writeTextFile(join(dir, "q", "notes.md"), "mine");
    const r = await run(
      "--portfolio",
      book,
      "--out",
      dir,
      "--run-id",
      "q",
      "--replace",
    );
    assertFails(r, 2, join(dir, "q"), "manifest.json");
    assert.deepEqual(entries(join(dir, "q")), ["notes.md"]);
    assert.deepEqual(entries(dir), ["in", "q"]);
  });
});

Deno.test("run --replace refuses the folder holding the run's own inputs (the tester's case)", async () => {
  await withTempDir(async (dir) => {
    const book = await bookIn(join(dir, "q"));
    const before = await sha(book);
    const r = await run(
      "--portfolio",
      book,
      "--out",
      dir,
      "--run-id",
      "q",
      "--replace",
    );
    assertFails(r, 2, join(dir, "q"), "book.parquet");
    assert.equal(await sha(book), before);
    assert.deepEqual(entries(join(dir, "q")), [
      "book.parquet",
      "fx_rates_2025-12-31.yaml",
    ]);
  });
});

Deno.test("run --replace refuses a complete run folder that holds an input, and replaces one that does not", async () => {
  await withTempDir(async (dir) => {
    const book = await bookIn(join(dir, "in"));
    const args = ["--out", dir, "--run-id", "q", "--replace"];
    assertFails(await run("--portfolio", book, ...args), 0);
    // A copy of the book put into the run folder and run from there.
    const inside = join(dir, "q", "book.parquet");
    await Deno.copyFile(book, inside);
    const r = await run("--portfolio", inside, ...args);
    assertFails(r, 2, join(dir, "q"), inside, "input");
    assert.ok((await Deno.stat(inside)).isFile);
    // Without the copy, the complete run of ours is replaced.
    await Deno.remove(inside);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "q", "manifest.json")),
    );
    assertFails(await run("--portfolio", book, ...args), 0);
    const again = JSON.parse(
      await Deno.readTextFile(join(dir, "q", "manifest.json")),
    );
    assert.notEqual(again.started_at, manifest.started_at);
  });
});

// 2. A failing run replaces only a failed run folder of ours.

Deno.test("a failing run refuses, at its start, a <id>.failed folder holding its portfolio", async () => {
  await withTempDir(async (dir) => {
    // Every row has a negative balance: the run fails on its reject rate.
    const book = await bookIn(join(dir, "q.failed"), 30);
    const before = await sha(book);
    const r = await run("--portfolio", book, "--out", dir, "--run-id", "q");
    assertFails(r, 2, join(dir, "q.failed"), "book.parquet");
    assert.equal(await sha(book), before);
    assert.deepEqual(entries(dir), ["q.failed"]);
  });
});

Deno.test("a failing run refuses a foreign <id>.failed folder, and replaces a failed run of its own", async () => {
  await withTempDir(async (dir) => {
    const book = await bookIn(join(dir, "in"), 30);
    const args = ["--portfolio", book, "--out", dir, "--run-id", "q"];
    await Deno.mkdir(join(dir, "q.failed"));
    await Deno.writeTextFile(join(dir, "q.failed", "notes.md"), "mine");
    assertFails(await run(...args), 2, join(dir, "q.failed"), "manifest.json");
    assert.deepEqual(entries(join(dir, "q.failed")), ["notes.md"]);
    // A failed run of ours there is replaced by the next failure.
    await Deno.remove(join(dir, "q.failed"), { recursive: true });
    assertFails(await run(...args), 1);
    const first = JSON.parse(
      await Deno.readTextFile(join(dir, "q.failed", "manifest.json")),
    );
    assert.equal(first.status, "failed");
    assertFails(await run(...args), 1);
    const second = JSON.parse(
      await Deno.readTextFile(join(dir, "q.failed", "manifest.json")),
    );
    assert.notEqual(second.started_at, first.started_at);
  });
});

// 3. The generator replaces an existing file only when asked to.

const GEN = ["--loans", "20", "--seed", "3", "--reporting-date", "2025-12-31"];

Deno.test("generate refuses to replace a file it would write, naming it, unless --replace", async () => {
  await withTempDir(async (dir) => {
    const mine = join(dir, "portfolio_2025-12-31.parquet");
    await Deno.copyFile(
      join(ROOT, "data/sample/portfolio_2025-12-31.parquet"),
      mine,
    );
    await Deno.writeTextFile(join(dir, "notes.txt"), "mine");
    const before = await sha(mine);
    const r = await callMain(generateMain, ...GEN, "--out", dir);
    assertFails(r, 2, mine, "--replace");
    assert.equal(await sha(mine), before);
    // Nothing written: not even the FX table of the date.
    assert.deepEqual(entries(dir), [
      "notes.txt",
      "portfolio_2025-12-31.parquet",
    ]);
    // The FX table alone is refused too.
    await Deno.remove(mine);
    await Deno.writeTextFile(join(dir, "fx_rates_2025-12-31.yaml"), "mine");
    assertFails(
      await callMain(generateMain, ...GEN, "--out", dir),
      2,
      join(dir, "fx_rates_2025-12-31.yaml"),
    );
    assert.equal(
      await Deno.readTextFile(join(dir, "fx_rates_2025-12-31.yaml")),
      "mine",
    );
    // With --replace both are written, whole, and nothing else is left.
    assertFails(
      await callMain(generateMain, ...GEN, "--out", dir, "--replace"),
      0,
    );
    assert.deepEqual(entries(dir), [
      "fx_rates_2025-12-31.yaml",
      "notes.txt",
      "portfolio_2025-12-31.parquet",
    ]);
    assert.equal(pl.readParquet(mine).height, 20);
  });
});

Deno.test("generatePortfolio() refuses an existing file without replace, and a folder in a file's place even with it", async () => {
  await withTempDir(async (dir) => {
    const opts = { loans: 10, seed: 1, reportingDate: "2025-12-31", out: dir };
    await generatePortfolio(opts);
    await assert.rejects(
      () => generatePortfolio(opts),
      (e: Error) =>
        e instanceof UserError && exitCodeFor(e) === 2 &&
        e.message.includes(join(dir, "portfolio_2025-12-31.parquet")),
    );
    await generatePortfolio({ ...opts, replace: true });
    await Deno.remove(join(dir, "fx_rates_2025-12-31.yaml"));
    await Deno.mkdir(join(dir, "fx_rates_2025-12-31.yaml"));
    await assert.rejects(
      () => generatePortfolio({ ...opts, replace: true }),
      (e: Error) =>
        e instanceof UserError && exitCodeFor(e) === 2 &&
        /fx_rates_2025-12-31\.yaml is a folder, not a file/.test(e.message),
    );
  });
});

// 4. and 5. Reporting dates and seeds within documented ranges.

Deno.test("generate refuses reporting dates outside 1950-01-01..2199-12-31, the last period's too", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const cases: [string[], string][] = [
      [["--reporting-date", "0001-01-01"], "--reporting-date"],
      [["--reporting-date", "1949-12-31"], "--reporting-date"],
      [["--reporting-date", "2200-03-31"], "--reporting-date"],
      [
        ["--reporting-date", "9999-12-31", "--periods", "2"],
        "--reporting-date",
      ],
      [["--reporting-date", "2199-12-31", "--periods", "2"], "--periods"],
    ];
    for (const [flags, flag] of cases) {
      const r = await callMain(
        generateMain,
        "--loans",
        "10",
        ...flags,
        "--out",
        out,
      );
      assertFails(r, 2, flag, "1950-01-01", "2199-12-31");
      assert.deepEqual(entries(dir), [], flags.join(" "));
    }
  });
  // The ends of the range are generated, at their own dates.
  for (const date of ["1950-01-01", "2199-12-31"]) {
    const [book] = generateBook({ loans: 5, seed: 1, reportingDate: date });
    const d = book.toRecords()[0].reporting_date as unknown as Date;
    assert.equal(d.toISOString().slice(0, 10), date);
  }
});

Deno.test("generate refuses a seed outside 0..4294967295", async () => {
  for (const seed of ["4294967296", "-1", "1e20"]) {
    const r = await callMain(
      generateMain,
      "--loans",
      "10",
      "--seed",
      seed,
      "--reporting-date",
      "2025-12-31",
      "--out",
      "never-written",
    );
    assertFails(r, 2, "--seed", "4294967295");
  }
  assert.throws(
    () =>
      generateBook({ loans: 5, seed: 2 ** 32, reportingDate: "2025-12-31" }),
    /seed 4294967296 must be a whole number from 0 to 4294967295/,
  );
  // The top of the range is a seed of its own, not seed 1 in disguise.
  const top = generateBook({
    loans: 5,
    seed: 2 ** 32 - 1,
    reportingDate: "2025-12-31",
  })[0];
  const one =
    generateBook({ loans: 5, seed: 1, reportingDate: "2025-12-31" })[0];
  assert.notDeepEqual(
    top.getColumn("balance").toArray(),
    one.getColumn("balance").toArray(),
  );
});

// 6. The generator's temporary folder is a staging folder the sweep knows.

Deno.test("generatePortfolio() stages its files in a folder named like a run's staging folder", async () => {
  await withTempDir(async (dir) => {
    const seen: string[] = [];
    await generatePortfolio({
      loans: 10,
      seed: 1,
      reportingDate: "2025-12-31",
      out: dir,
      onProgress: () => seen.push(...entries(dir).filter((e) => e[0] === ".")),
    });
    assert.ok(seen.length > 0);
    for (const name of seen) {
      assert.equal(stagingName(name)?.kind, "partial", name);
      assert.equal(stagingName(name)?.pid, Deno.pid, name);
    }
    assert.deepEqual(entries(dir).filter((e) => e[0] === "."), []);
  });
});

Deno.test("deno task clean removes the folder of a killed generate", async () => {
  await withTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "tasks/generate.ts"),
        "--loans",
        "2000000",
        "--batch-size",
        "2000",
        "--reporting-date",
        "2025-12-31",
        "--out",
        dir,
      ],
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Killed once it has written a few batches into its folder.
    let hidden: string | undefined;
    for (let i = 0; i < 600 && hidden === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      hidden = entries(dir).find((e) =>
        e[0] === "." && entries(join(dir, e)).length >= 3
      );
    }
    child.kill("SIGKILL");
    await child.status;
    assert.ok(hidden !== undefined, "the generator never staged a file");
    const r = await callMain(cleanMain, "--out", dir, "--older-than", "0");
    assertFails(r, 0);
    assert.ok(r.stdout.includes(join(dir, hidden)), r.stdout);
    assert.deepEqual(entries(dir), []);
  });
});

// 7. Concurrent writers of one output folder: success or busy, never 2.

/** Writes `cm` with files naming writer `i`. */
const writeCm = (target: string, i: number) =>
  writeOutputFolder(target, ["a.txt", "b.txt"], async (dir) => {
    await Deno.writeTextFile(join(dir, "a.txt"), `writer ${i}`);
    await new Promise((r) => setTimeout(r, 5));
    await Deno.writeTextFile(join(dir, "b.txt"), `writer ${i}`);
  });

/** The output is one writer's, whole, and no staging entry is left. */
async function assertOneWriter(root: string, target: string) {
  const a = await Deno.readTextFile(join(target, "a.txt"));
  assert.equal(await Deno.readTextFile(join(target, "b.txt")), a);
  assert.deepEqual(entries(root), ["cm"]);
}

Deno.test("concurrent writeOutputFolder() calls in one process each succeed or are busy", async () => {
  await withTempDir(async (root) => {
    const target = join(root, "cm");
    for (let round = 0; round < 5; round++) {
      // A killed writer's folder, which every writer finds and removes.
      await Deno.mkdir(join(root, ".cm.partial-999999999-0a1b2c3d4e5f"));
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => writeCm(target, i)),
      );
      for (const r of results) {
        if (r.status === "rejected") {
          assert.ok(
            r.reason instanceof UserError && exitCodeFor(r.reason) === 4,
            `round ${round}: ${r.reason?.message}`,
          );
        }
      }
      assert.ok(results.some((r) => r.status === "fulfilled"));
      await assertOneWriter(root, target);
    }
  });
});

Deno.test("concurrent processes writing one output folder end with exit 0 or 4", async () => {
  await withTempDir(async (root) => {
    // The writers wait for `go`, so that they start together; the script
    // and the signals are kept out of the output's folder.
    const sync = join(root, "sync");
    const out = join(root, "out");
    await Deno.mkdir(sync);
    await Deno.mkdir(out);
    const target = join(out, "cm");
    const script = join(sync, "writer.ts");
    await Deno.writeTextFile(
      script,
      `import { writeOutputFolder } from ${
        JSON.stringify(new URL("lib/run_folder/mod.ts", `file://${ROOT}`).href)
      };
import { exitCodeFor, failureMessage } from ${
        JSON.stringify(new URL("lib/errors.ts", `file://${ROOT}`).href)
      };
const [sync, target, id] = Deno.args;
await Deno.writeTextFile(sync + "/ready-" + id, "");
for (;;) {
  try {
    await Deno.stat(sync + "/go");
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 2));
  }
}
try {
  await writeOutputFolder(target, ["a.txt", "b.txt"], async (dir) => {
    await Deno.writeTextFile(dir + "/a.txt", id);
    await new Promise((r) => setTimeout(r, Math.random() * 20));
    await Deno.writeTextFile(dir + "/b.txt", id);
  });
} catch (e) {
  console.error(failureMessage(e));
  Deno.exit(exitCodeFor(e));
}
`,
    );
    const WRITERS = 6;
    for (let round = 0; round < 5; round++) {
      for (const name of entries(sync)) {
        if (name !== "writer.ts") await Deno.remove(join(sync, name));
      }
      // A killed writer's folder, which every writer finds.
      await Deno.mkdir(join(out, ".cm.partial-999999999-0a1b2c3d4e5f"));
      const writers = Array.from(
        { length: WRITERS },
        (_, i) =>
          new Deno.Command(Deno.execPath(), {
            // The script is outside the project: its imports need the config.
            args: [
              "run",
              "-A",
              "--config",
              join(ROOT, "deno.json"),
              script,
              sync,
              target,
              String(i),
            ],
            cwd: ROOT,
            stdout: "null",
            stderr: "piped",
          }).output(),
      );
      while (entries(sync).length < WRITERS + 1) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await Deno.writeTextFile(join(sync, "go"), "");
      for (const w of await Promise.all(writers)) {
        assert.ok(
          [0, 4].includes(w.code),
          `round ${round}: exit ${w.code}: ${
            new TextDecoder().decode(w.stderr)
          }`,
        );
      }
      await assertOneWriter(out, target);
    }
  });
});

// 8. An output path that is a device is called what it is.

Deno.test("an output file at /dev/full is refused as a character device", async () => {
  await assert.rejects(
    () => checkOutputFile("/dev/full"),
    (e: Error) =>
      /Cannot write \/dev\/full: it is a character device, not a file/.test(
        e.message,
      ),
  );
  await assert.rejects(
    () => checkOutputFolder("/dev/full", ["a.txt"]),
    /Cannot write \/dev\/full: it is a character device, not a folder/,
  );
  await withTempDir(async (dir) => {
    const r = await callMain(
      dashboardMain,
      "--runs",
      dir,
      "--out",
      "/dev/full",
    );
    assertFails(r, 2, "/dev/full", "character device");
    assert.doesNotMatch(r.stderr, /folder/);
  });
});

// 9. A trusted read refuses a hand-edited run folder.

/** A complete run of 30 facilities, made once for the cases below. */
const runs = await Deno.makeTempDir({ prefix: "folders_test_" });
const BASE = await (async () => {
  const book = await bookIn(join(runs, "in"));
  return (await runPortfolio({ portfolio: book, out: runs, runId: "base" }))
    .dir;
})();

let copies = 0;
/** A copy of the base run with `edit` applied to its files. */
async function editedRun(
  edit: (dir: string) => Promise<void> | void,
): Promise<string> {
  const dir = join(runs, `copy${copies++}`);
  await Deno.mkdir(dir);
  for (const name of entries(BASE)) {
    await Deno.copyFile(join(BASE, name), join(dir, name));
  }
  await edit(dir);
  return dir;
}

/** Changes a JSON file of a run folder in place. */
async function editJson(
  dir: string,
  file: string,
  // deno-lint-ignore no-explicit-any
  change: (v: Record<string, any>) => void,
): Promise<void> {
  const path = join(dir, file);
  const value = JSON.parse(await Deno.readTextFile(path));
  change(value);
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
}

/** Both trusted reads refuse `dir`, naming the folder, the file and `what`. */
async function assertRefused(
  dir: string,
  file: string,
  what: RegExp,
  readers: ("folder" | "summary")[] = ["folder", "summary"],
): Promise<void> {
  for (const reader of readers) {
    await assert.rejects(
      () =>
        reader === "folder"
          ? readRunFolder(dir, { trusted: true })
          : readRunSummary(dir, { trusted: true }),
      (e: Error) => {
        assert.ok(e instanceof RunFolderReadError, e.message);
        assert.equal(exitCodeFor(e), 2);
        assert.ok(e.message.includes(dir), e.message);
        assert.ok(e.message.includes(file), e.message);
        assert.match(e.message, what);
        return true;
      },
    );
  }
}

Deno.test("a trusted read accepts the run as written", async () => {
  const folder = await readRunFolder(BASE, { trusted: true });
  assert.equal(folder.summary.totals.count, 30);
  await readRunSummary(BASE, { trusted: true });
});

Deno.test("a trusted read refuses a reporting date that is not a real date", async () => {
  const dir = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.reporting_date = "2025-13-45";
    })
  );
  await assertRefused(dir, "summary.json", /reporting_date "2025-13-45"/);
  const manifest = await editedRun((d) =>
    editJson(d, "manifest.json", (m) => {
      m.reporting_date = "2025-02-30";
    })
  );
  await assertRefused(manifest, "manifest.json", /reporting_date "2025-02-30"/);
});

Deno.test("a trusted read refuses counts that are not non-negative whole numbers", async () => {
  const half = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.totals.count = 2.5;
    })
  );
  await assertRefused(half, "summary.json", /totals\.count is 2\.5/);
  const negative = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.by_stage[0].count = -1;
    })
  );
  await assertRefused(negative, "summary.json", /by_stage\[0\]\.count is -1/);
});

Deno.test("a trusted read refuses negative or implausibly large amounts", async () => {
  const negative = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.totals.ecl = -5;
    })
  );
  await assertRefused(negative, "summary.json", /totals\.ecl is -5/);
  const ead = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.by_stage[0].ead = -0.01;
    })
  );
  await assertRefused(ead, "summary.json", /by_stage\[0\]\.ead is -0\.01/);
  // 30 facilities cannot hold 1e30 of anything (bound documented in
  // lib/run_folder/summary.ts).
  const huge = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.totals.gross_carrying_amount = 1e30;
    })
  );
  await assertRefused(
    huge,
    "summary.json",
    /totals\.gross_carrying_amount is 1e\+30.*MAX_AMOUNT_PER_FACILITY/,
  );
});

Deno.test("a trusted read refuses duplicated by_stage keys", async () => {
  const dir = await editedRun((d) =>
    editJson(d, "summary.json", (s) => {
      s.by_stage = [s.by_stage[0], { ...s.by_stage[0] }];
    })
  );
  await assertRefused(dir, "summary.json", /by_stage.*key "1" .*twice/);
});

Deno.test("a trusted read refuses a manifest whose reporting date is not the summary's", async () => {
  const dir = await editedRun((d) =>
    editJson(d, "manifest.json", (m) => {
      m.reporting_date = "2025-09-30";
    })
  );
  await assertRefused(dir, "manifest.json", /2025-09-30.*2025-12-31/);
});

Deno.test("a trusted read refuses a data_quality.json that is not a data-quality report", async () => {
  const dir = await editedRun((d) =>
    Deno.writeTextFile(join(d, "data_quality.json"), '{"rules":5}')
  );
  await assertRefused(dir, "data_quality.json", /key rules is a number/);
});

Deno.test("a trusted read refuses loan results of another size than totals.count", async () => {
  // Another run's file copied in: the first 10 facilities only.
  const dir = await editedRun((d) => {
    const path = join(d, "loan_results.parquet");
    pl.readParquet(path).head(10).writeParquet(path);
  });
  await assertRefused(
    dir,
    "loan_results.parquet",
    /10 rows.*totals\.count is 30/,
    ["folder"],
  );
});

Deno.test({
  name: "folders_test: remove the shared runs",
  fn: () => Deno.remove(runs, { recursive: true }),
});
