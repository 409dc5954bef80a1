/**
 * The hostile and careless inputs of issue 10, run through the tasks as a
 * user starts them (`deno run -A tasks/<task>.ts ...`, one process each).
 * Every case must end with its documented exit code and a message naming
 * the offending file, row, key or folder, and in every case:
 *
 * - no stack trace and no "Uncaught" on either stream;
 * - no NaN or Infinity printed, and none (nor a null figure) in any
 *   `summary.json` left behind;
 * - nothing under a final output name when the task failed (a run's
 *   `<id>.failed` folder is the documented exception), and the inputs
 *   untouched.
 *
 * Run alone: `deno test -A tests/hardening/hostile_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { portfolioFrame, REPORTING_DATE } from "../run/_portfolio.ts";
import { writeFixtureRun } from "../report/_run_fixture.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RULES = join(ROOT, "config/ifrs9_rules.yaml");

/** What one hostile case runs and what it must end with. */
interface Case {
  name: string;
  /** The script, relative to the project root. */
  script: string;
  /** Prepares the case's files in `dir`; returns the arguments. */
  setup: (dir: string) => Promise<string[]>;
  /** The exit code it must end with. */
  code: number;
  /** What stderr (or stdout when the task succeeds) must say. */
  message?: RegExp;
  /** Files that must be absent from `dir` afterwards (final output names). */
  absent?: string[];
  /** The most bytes stderr may hold: a message, not an echo of the input. */
  maxStderr?: number;
  /** Further checks of `dir` after the task. */
  after?: (dir: string) => Promise<void>;
}

/** The 40-loan fixture portfolio as CSV text, one line per loan. */
function portfolioCsv(n = 40): string {
  const frame = portfolioFrame(n).withColumns(
    pl.col("reporting_date").cast(pl.Utf8),
    pl.col("origination_date").cast(pl.Utf8),
    pl.col("maturity_date").cast(pl.Utf8),
  );
  return frame.writeCSV().toString();
}

/** The CSV with the first data row's `column` set to `value`. */
function withCell(csv: string, column: string, value: string): string {
  const lines = csv.split("\n");
  const header = lines[0].split(",");
  const at = header.indexOf(column);
  assert.ok(at >= 0, column);
  const cells = lines[1].split(",");
  cells[at] = value;
  lines[1] = cells.join(",");
  return lines.join("\n");
}

async function writeCsv(dir: string, text: string, name = "book.csv") {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  return path;
}

/**
 * `deno task run` on a portfolio, into `<dir>/runs` under id `q4`, with the
 * reference rules unless `more` names others.
 */
const runArgs = (portfolio: string, dir: string, ...more: string[]) => [
  "--portfolio",
  portfolio,
  ...(more.includes("--rules") ? [] : ["--rules", RULES]),
  "--out",
  join(dir, "runs"),
  "--run-id",
  "q4",
  "--no-report",
  "--quiet",
  ...more,
];

/** A rules file: the reference one with `from` replaced by `to`. */
async function rulesWith(dir: string, from: RegExp, to: string) {
  const text = await Deno.readTextFile(RULES);
  assert.match(text, from);
  const path = join(dir, "rules.yaml");
  await Deno.writeTextFile(path, text.replace(from, to));
  return path;
}

/** A complete fixture run under `dir/name`, then `edit`ed. */
async function fixtureRun(
  dir: string,
  name: string,
  reportingDate: string,
  edit?: (path: string) => Promise<void>,
) {
  const path = join(dir, name);
  await writeFixtureRun(path, {
    runId: name,
    reportingDate,
    rates: { EUR: 1 },
    loans: [
      { loan_id: "A", currency: "EUR", stage: 1, ecl: 4, gross: 400 },
      { loan_id: "B", currency: "EUR", stage: 2, ecl: 60, gross: 600 },
    ],
  });
  await edit?.(path);
  return path;
}

// deno-lint-ignore no-explicit-any
async function editJson(path: string, edit: (v: Record<string, any>) => void) {
  const value = JSON.parse(await Deno.readTextFile(path));
  edit(value);
  await Deno.writeTextFile(path, JSON.stringify(value));
}

/** The movement's arguments between two fixture runs, the later one edited. */
async function movementArgs(
  dir: string,
  editLater?: (path: string) => Promise<void>,
) {
  const from = await fixtureRun(dir, "r1", "2025-09-30");
  const to = await fixtureRun(dir, "r2", "2025-12-31", editLater);
  return ["--from", from, "--to", to, "--out", join(dir, "movement")];
}

const MOVEMENT_FILES = ["movement"];
const RUN_OUTPUT = ["runs/q4"];
const VALIDATE_OUTPUT = [
  "out/valid.parquet",
  "out/rejected.parquet",
  "out/data_quality.json",
];

/** The run completes, the hostile row (the first) rejected with `code` alone. */
function rowRejected(code: string): Pick<Case, "code" | "after"> {
  return {
    code: 0,
    async after(dir) {
      const dq = JSON.parse(
        await Deno.readTextFile(join(dir, "runs/q4/data_quality.json")),
      );
      const failing = dq.rules.filter((r: { rows_failed: number }) =>
        r.rows_failed > 0
      );
      assert.deepEqual(
        failing.map((r: { code: string; rows_failed: number }) => [
          r.code,
          r.rows_failed,
        ]),
        [[code, 1]],
      );
      const summary = JSON.parse(
        await Deno.readTextFile(join(dir, "runs/q4/summary.json")),
      );
      assert.equal(summary.totals.count, 39, "39 of 40 loans computed");
      // 39 loans of at most 100,000 each (tests/run/_portfolio.ts).
      assert.ok(summary.totals.gross_carrying_amount < 39 * 100_000);
    },
  };
}

const CASES: Case[] = [
  {
    name: "a balance of 9.3e16 is rejected as implausible, not summed",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(
        await writeCsv(dir, withCell(portfolioCsv(), "balance", "9.3e16")),
        dir,
      ),
    ...rowRejected("BALANCE_IMPLAUSIBLE"),
  },
  {
    name: "a balance of 1e308 is rejected as implausible",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(
        await writeCsv(dir, withCell(portfolioCsv(), "balance", "1e308")),
        dir,
      ),
    ...rowRejected("BALANCE_IMPLAUSIBLE"),
  },
  {
    name: "a 9999-12-31 maturity is rejected as implausible",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(
        await writeCsv(
          dir,
          withCell(portfolioCsv(), "maturity_date", "9999-12-31"),
        ),
        dir,
      ),
    ...rowRejected("MATURITY_TOO_FAR"),
  },
  {
    name: "a whitespace-only loan_id is rejected",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(
        await writeCsv(dir, withCell(portfolioCsv(), "loan_id", "   ")),
        dir,
      ),
    ...rowRejected("NULL_LOAN_ID"),
  },
  {
    name: "a header-only portfolio is refused, no run folder",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(await writeCsv(dir, portfolioCsv().split("\n")[0] + "\n"), dir),
    code: 2,
    message: /book\.csv.*no rows|no rows.*book\.csv/,
    absent: ["runs/q4", "runs/q4.failed"],
  },
  {
    name: "an empty portfolio file is refused",
    script: "tasks/validate.ts",
    setup: async (dir) => [
      "--portfolio",
      await writeCsv(dir, ""),
      "--rules",
      RULES,
      "--out",
      join(dir, "out"),
    ],
    code: 2,
    message: /book\.csv/,
    absent: VALIDATE_OUTPUT,
  },
  {
    name: "random bytes named .csv are refused",
    script: "tasks/validate.ts",
    setup: async (dir) => {
      const path = join(dir, "book.csv");
      const bytes = new Uint8Array(4096);
      crypto.getRandomValues(bytes);
      await Deno.writeFile(path, bytes);
      return ["--portfolio", path, "--rules", RULES, "--out", join(dir, "out")];
    },
    code: 2,
    message: /book\.csv/,
    absent: VALIDATE_OUTPUT,
  },
  {
    name: "CR-only line endings are read like LF",
    script: "tasks/validate.ts",
    setup: async (dir) => [
      "--portfolio",
      await writeCsv(dir, portfolioCsv().replaceAll("\n", "\r")),
      "--rules",
      RULES,
      "--out",
      join(dir, "out"),
    ],
    code: 0,
    after(dir) {
      const valid = pl.readParquet(join(dir, "out/valid.parquet"));
      assert.equal(valid.height, 40);
      return Promise.resolve();
    },
  },
  {
    name: "a 2 MiB CSV without a line break is refused in a short message",
    script: "tasks/validate.ts",
    setup: async (dir) => [
      "--portfolio",
      await writeCsv(dir, "a".repeat(2 * 1024 * 1024)),
      "--rules",
      RULES,
      "--out",
      join(dir, "out"),
    ],
    code: 2,
    message: /book\.csv: line 1: no line break in the first 1,048,576 bytes/,
    maxStderr: 400,
    absent: VALIDATE_OUTPUT,
  },
  {
    name:
      "a header of 100,000 columns without the required ones gets a bounded message",
    script: "tasks/validate.ts",
    setup: async (dir) => {
      const names = Array.from({ length: 100_000 }, (_, i) => `c${i}`);
      return [
        "--portfolio",
        await writeCsv(dir, `${names.join(",")}\n${names.join(",")}\n`),
        "--rules",
        RULES,
        "--out",
        join(dir, "out"),
      ];
    },
    code: 2,
    message: /book\.csv: .*c0, c1, .* and 99,970 more/,
    maxStderr: 2000,
    absent: VALIDATE_OUTPUT,
  },
  {
    name: "a column named like an internal one (__row) is refused",
    script: "tasks/validate.ts",
    setup: async (dir) => {
      const csv = portfolioCsv().split("\n").map((l, i) =>
        l === "" ? l : `${l},${i === 0 ? "__row" : "7"}`
      ).join("\n");
      return [
        "--portfolio",
        await writeCsv(dir, csv),
        "--rules",
        RULES,
        "--out",
        join(dir, "out"),
      ];
    },
    code: 2,
    message: /__row/,
    absent: VALIDATE_OUTPUT,
  },
  {
    name:
      "re-validating an earlier rejected.parquet (rejection_codes column) works",
    script: "tasks/validate.ts",
    setup: (dir) => {
      const path = join(dir, "rejected.parquet");
      portfolioFrame(40).withColumns(
        pl.lit(null).cast(pl.List(pl.Utf8)).alias("rejection_codes"),
      ).writeParquet(path);
      return Promise.resolve([
        "--portfolio",
        path,
        "--rules",
        RULES,
        "--out",
        join(dir, "out"),
      ]);
    },
    code: 0,
  },
  {
    name: "a character device as portfolio is refused, not read for ever",
    script: "tasks/validate.ts",
    setup: (dir) =>
      Promise.resolve([
        "--portfolio",
        "/dev/zero",
        "--rules",
        RULES,
        "--out",
        join(dir, "out"),
      ]),
    code: 2,
    message: /\/dev\/zero/,
    absent: VALIDATE_OUTPUT,
  },
  {
    name: "a truncated Parquet portfolio is refused, naming it",
    script: "tasks/run.ts",
    setup: async (dir) => {
      const path = join(dir, "book.parquet");
      portfolioFrame(40).writeParquet(path);
      const bytes = await Deno.readFile(path);
      await Deno.writeFile(path, bytes.slice(0, bytes.length - 100));
      return runArgs(path, dir);
    },
    code: 2,
    message: /book\.parquet/,
    absent: RUN_OUTPUT,
  },
  {
    name: "a List-typed Parquet column is refused, naming it",
    script: "tasks/validate.ts",
    setup: (dir) => {
      const path = join(dir, "book.parquet");
      portfolioFrame(5).withColumns(
        pl.concatList([pl.col("balance"), pl.col("balance")]).alias("balance"),
      ).writeParquet(path);
      return Promise.resolve([
        "--portfolio",
        path,
        "--rules",
        RULES,
        "--out",
        join(dir, "out"),
      ]);
    },
    code: 2,
    message: /balance/,
    absent: VALIDATE_OUTPUT,
  },
  {
    name: "behavioural_life_months: 1e8 is refused with its key path",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(
        await writeCsv(dir, portfolioCsv()),
        dir,
        "--rules",
        await rulesWith(
          dir,
          /behavioural_life_months: 36/,
          "behavioural_life_months: 1e8",
        ),
      ),
    code: 2,
    message: /behavioural_life_months/,
    absent: ["runs/q4", "runs/q4.failed"],
  },
  {
    name: "a scenario multiplier of 1e308 is refused with its key path",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(
        await writeCsv(dir, portfolioCsv()),
        dir,
        "--rules",
        await rulesWith(
          dir,
          /pd_multiplier: \[1\.0\]/,
          "pd_multiplier: [1e308]",
        ),
      ),
    code: 2,
    message: /pd_multiplier/,
    absent: ["runs/q4", "runs/q4.failed"],
  },
  {
    name: "a YAML bomb as rules file is refused",
    script: "tasks/run.ts",
    setup: async (dir) => {
      const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i);
        const name = String.fromCharCode(97 + i);
        levels.push(
          `${name}: &${name} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`,
        );
      }
      const rules = join(dir, "bomb.yaml");
      await Deno.writeTextFile(rules, levels.join("\n") + "\n");
      return runArgs(
        await writeCsv(dir, portfolioCsv()),
        dir,
        "--rules",
        rules,
      );
    },
    code: 2,
    message: /bomb\.yaml/,
    absent: ["runs/q4", "runs/q4.failed"],
  },
  {
    name: "a directory as rules file is refused",
    script: "tasks/run.ts",
    setup: async (dir) =>
      runArgs(await writeCsv(dir, portfolioCsv()), dir, "--rules", dir),
    code: 2,
    message: /hostile-[^/\s]*.*(directory|not a file)/s,
    absent: ["runs/q4", "runs/q4.failed"],
  },
  {
    name: "an FX table dated 2025-02-30 is refused",
    script: "tasks/run.ts",
    setup: async (dir) => {
      const fx = join(dir, "fx.yaml");
      await Deno.writeTextFile(
        fx,
        "base: EUR\nas_of: 2025-02-30\nrates:\n  EUR: 1\n  USD: 1.1\n  MXN: 20\n",
      );
      return runArgs(await writeCsv(dir, portfolioCsv()), dir, "--fx", fx);
    },
    code: 2,
    message: /fx\.yaml.*2025-02-30|2025-02-30.*fx\.yaml/s,
    absent: ["runs/q4", "runs/q4.failed"],
  },
  {
    name: "a run id with traversal is refused",
    script: "tasks/run.ts",
    setup: async (dir) => [
      "--portfolio",
      await writeCsv(dir, portfolioCsv()),
      "--out",
      join(dir, "runs"),
      "--run-id",
      "../escape",
      "--quiet",
    ],
    code: 2,
    message: /\.\.\/escape/,
    absent: ["escape", "runs/escape"],
  },
  {
    name: "validate --out at a file is refused before reading",
    script: "tasks/validate.ts",
    setup: async (dir) => {
      await Deno.writeTextFile(join(dir, "out"), "not a folder");
      return [
        "--portfolio",
        await writeCsv(dir, portfolioCsv()),
        "--rules",
        RULES,
        "--out",
        join(dir, "out"),
      ];
    },
    code: 2,
    message: /out/,
    after: async (dir) =>
      assert.equal(await Deno.readTextFile(join(dir, "out")), "not a folder"),
  },
  {
    name:
      "validate --out into the input's own folder cannot overwrite the input",
    script: "tasks/validate.ts",
    setup: async (dir) => {
      const path = join(dir, "valid.parquet");
      portfolioFrame(40, 3).writeParquet(path);
      await Deno.copyFile(path, join(dir, "original.parquet"));
      return ["--portfolio", path, "--rules", RULES, "--out", dir];
    },
    code: 2,
    message: /valid\.parquet/,
    after: async (dir) =>
      assert.deepEqual(
        await Deno.readFile(join(dir, "valid.parquet")),
        await Deno.readFile(join(dir, "original.parquet")),
      ),
  },
  {
    name: "movement --out at a file is refused before computing",
    script: "tasks/movement.ts",
    setup: async (dir) => {
      const args = await movementArgs(dir);
      await Deno.writeTextFile(join(dir, "movement"), "not a folder");
      return args;
    },
    code: 2,
    message: /movement/,
  },
  {
    name: "movement --tolerance 1e308 is refused",
    script: "tasks/movement.ts",
    setup: async (dir) => [...await movementArgs(dir), "--tolerance", "1e308"],
    code: 2,
    message: /--tolerance/,
    absent: MOVEMENT_FILES,
  },
  {
    name: "movement from a run whose manifest says failed is refused",
    script: "tasks/movement.ts",
    setup: (dir) =>
      movementArgs(dir, (run) =>
        editJson(join(run, "manifest.json"), (m) => {
          m.status = "failed";
        })),
    code: 2,
    message: /r2.*failed|failed.*r2/s,
    absent: MOVEMENT_FILES,
  },
  {
    name: "movement from a hidden partial folder of a killed run is refused",
    script: "tasks/movement.ts",
    setup: async (dir) => {
      const args = await movementArgs(dir);
      const partial = join(dir, ".r2.partial-999999-abc");
      await Deno.rename(args[3], partial);
      args[3] = partial;
      return args;
    },
    code: 2,
    message: /\.r2\.partial-999999-abc/,
    absent: MOVEMENT_FILES,
  },
  {
    name: "movement from a complete run with no facilities is refused",
    script: "tasks/movement.ts",
    setup: (dir) =>
      movementArgs(dir, (run) =>
        editJson(join(run, "summary.json"), (s) => {
          s.totals.count = 0;
        })),
    code: 2,
    message: /r2/,
    absent: MOVEMENT_FILES,
  },
  {
    name:
      "movement from a run whose loan_results.parquet is truncated is refused, naming the file",
    script: "tasks/movement.ts",
    setup: (dir) =>
      movementArgs(dir, async (run) => {
        const path = join(run, "loan_results.parquet");
        const bytes = await Deno.readFile(path);
        await Deno.writeFile(path, bytes.slice(0, bytes.length - 50));
      }),
    code: 2,
    message: /r2: loan_results\.parquet/,
    absent: MOVEMENT_FILES,
  },
  {
    name: "the bench of a portfolio that does not exist names it",
    script: "tasks/bench.ts",
    setup: (dir) =>
      Promise.resolve(["--portfolio", join(dir, "missing.parquet")]),
    code: 2,
    message: /^Cannot read portfolio .*missing\.parquet: no such file/,
  },
  {
    name:
      "the run server refuses to start without a secret, naming the variable and never a value",
    script: "tasks/serve.ts",
    setup: () => Promise.resolve(["--port", "0"]),
    code: 2,
    message: /IFRS9_JWT_SECRET is required/,
  },
  {
    name: "a token cannot be minted without a secret",
    script: "tasks/token.ts",
    setup: () => Promise.resolve(["--scope", "runs:read"]),
    code: 2,
    message: /IFRS9_JWT_SECRET/,
  },
  {
    name: "the dashboard refuses a run with null totals, naming it",
    script: "dashboards/build.ts",
    setup: async (dir) => {
      const run = await fixtureRun(
        dir,
        "r1",
        "2025-12-31",
        (path) =>
          editJson(join(path, "summary.json"), (s) => {
            s.totals.ecl = null;
          }),
      );
      return ["--runs", run, "--out", join(dir, "dashboard.html")];
    },
    code: 2,
    message: /r1.*summary\.json/s,
    absent: ["dashboard.html"],
  },
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Every `summary.json` below `dir`. */
async function summaries(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await summaries(path));
    else if (entry.name === "summary.json") found.push(path);
  }
  return found;
}

/** Numbers of a JSON value that are null where a figure belongs. */
function nullFigures(value: unknown, path = ""): string[] {
  if (value === null) return [path];
  if (typeof value !== "object") return [];
  return Object.entries(value as object).flatMap(([k, v]) =>
    nullFigures(v, `${path}.${k}`)
  );
}

/** Runs `script` with `args`, killed after `seconds`. */
async function start(script: string, args: string[], seconds = 120) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, script), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", IFRS9_JWT_SECRET: "", IFRS9_AUTH: "" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), seconds * 1000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.signal ? -1 : out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      killed: out.signal !== null,
    };
  } finally {
    clearTimeout(timer);
  }
}

for (const c of CASES) {
  Deno.test(`hostile input: ${c.name}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "hostile-" });
    try {
      const args = await c.setup(dir);
      const r = await start(c.script, args);
      const both = `${r.stdout}\n${r.stderr}`;
      const said =
        `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      assert.ok(!r.killed, `still running after 120 s\n${said}`);
      assert.equal(r.code, c.code, said);
      assert.doesNotMatch(both, /\n\s+at \S|Uncaught|error: Top-level/, said);
      assert.doesNotMatch(both, /\bNaN\b|Infinity/, said);
      if (c.message) {
        assert.match(r.code === 0 ? r.stdout : r.stderr, c.message, said);
      }
      if (c.maxStderr !== undefined) {
        assert.ok(
          r.stderr.length <= c.maxStderr,
          `stderr holds ${r.stderr.length} bytes:\n${r.stderr.slice(0, 500)}`,
        );
      }
      for (const path of c.absent ?? []) {
        assert.ok(!await exists(join(dir, path)), `${path} was left\n${said}`);
      }
      for (const path of await summaries(dir)) {
        const summary = JSON.parse(await Deno.readTextFile(path));
        if (path.includes("/r1/") || path.includes("/r2/")) continue;
        assert.deepEqual(nullFigures(summary.totals), [], path);
      }
      await c.after?.(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("hostile input: the fixture portfolio itself runs clean (the cases' baseline)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hostile-" });
  try {
    const r = await start(
      "tasks/run.ts",
      runArgs(await writeCsv(dir, portfolioCsv()), dir),
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(
      await Deno.readTextFile(join(dir, "runs/q4/summary.json")),
    );
    assert.equal(summary.totals.count, 40);
    assert.equal(summary.reporting_date, REPORTING_DATE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
