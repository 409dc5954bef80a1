/**
 * Which part a facility belongs to (docs/partitions.md §1): the FNV-1a 32
 * hash of its loan_id against an implementation written here from the
 * definition (BigInt arithmetic, no shared code), the worked example of
 * the docs, and `--partition` parsing with the schedulers' variables.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { main as runMain } from "../../tasks/run.ts";
import {
  fnv1a32,
  loanIdParts,
  parsePartition,
  PARTITION_ENV_VARS,
  planPartition,
} from "../../lib/run/mod.ts";
import { callMain, runTaskProcess, withTempDir } from "../tasks/_main.ts";
import { writePortfolio } from "../run/_portfolio.ts";

/**
 * FNV-1a 32 from its definition (draft-eastlake-fnv §2): offset basis
 * 0x811C9DC5, then per byte XOR and multiply by 16777619 modulo 2^32.
 */
function fnvByHand(text: string): bigint {
  let h = 0x811c9dc5n;
  for (const b of new TextEncoder().encode(text)) {
    h = ((h ^ BigInt(b)) * 16777619n) % (1n << 32n);
  }
  return h;
}

const DOC = new URL("../../docs/partitions.md", import.meta.url);

Deno.test("the worked example of docs/partitions.md: L7 is in part 2 of 3, step by step", async () => {
  const doc = await Deno.readTextFile(DOC);
  // The rows of the docs' table, cell by cell, against the steps computed here.
  const rows = doc.split("\n").filter((l) => /^\| `[L7]`/.test(l)).map((l) =>
    l.split("|").slice(1, -1).map((c) => c.trim())
  );
  let h = 0x811c9dc5n;
  assert.ok(doc.includes(`${h} (0x${h.toString(16).toUpperCase()})`));
  const hex = (v: bigint) => `${v} (0x${v.toString(16).toUpperCase()})`;
  const expected: string[][] = [];
  for (const [char, b] of [["L", 0x4c], ["7", 0x37]] as const) {
    const x = h ^ BigInt(b);
    h = (x * 16777619n) % (1n << 32n);
    expected.push([
      `\`${char}\``,
      `0x${b.toString(16).toUpperCase()}`,
      hex(x),
      hex(h),
    ]);
  }
  assert.deepEqual(rows, expected);
  assert.equal(h, fnvByHand("L7"));
  assert.ok(doc.includes(`${h} mod 3 = **${h % 3n}**`));
  assert.equal(h % 3n, 2n);
  assert.ok(doc.includes(`${h} mod 4 = ${h % 4n}`));
  assert.ok(doc.includes(`\`L0000042\` hashes to ${fnvByHand("L0000042")}`));
  assert.ok(doc.includes(`(part ${fnvByHand("L0000042") % 3n} of 3)`));
  assert.ok(doc.includes(`to ${fnvByHand("é")}`));
  // The library's hash and its part column agree.
  assert.equal(BigInt(fnv1a32("L7")), h);
  const parts = await loanIdParts(
    pl.DataFrame({ id: ["L7", "L7", "L0000042"] }).lazy(),
    pl.col("id"),
    3,
  );
  assert.deepEqual([...parts], [2, 2, 1]);
});

Deno.test("loanIdParts() gives FNV-1a 32 mod N of the UTF-8 bytes for every id, 0 for a null id", async () => {
  const ids: (string | null)[] = [
    null,
    "é",
    "日本語-ローン",
    "a",
    "x".repeat(300),
  ];
  // Beyond MAX_HASHED_BYTES (1,024), only the first 1,024 bytes count.
  const longest = "y".repeat(1100);
  let seed = 7;
  for (let i = 0; i < 3000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    ids.push(`L${seed.toString(36)}${i % 5 === 0 ? "ñ€" : ""}`);
  }
  ids.push(longest);
  for (const n of [1, 3, 7, 10000]) {
    const parts = await loanIdParts(
      pl.DataFrame({ id: ids }).lazy(),
      pl.col("id"),
      n,
    );
    assert.deepEqual(
      [...parts],
      ids.map((id) =>
        id === null ? 0 : Number(
          fnvByHand(id === longest ? id.slice(0, 1024) : id) % BigInt(n),
        )
      ),
      `N = ${n}`,
    );
  }
});

Deno.test("parsePartition() reads K/N and env/N, the variables in order, and refuses bad values naming the flag or variable", () => {
  const none = () => undefined;
  assert.deepEqual(parsePartition("0/1", none), {
    index: 0,
    count: 1,
    source: "--partition",
  });
  assert.deepEqual(parsePartition("9999/10000", none).index, 9999);
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.deepEqual(PARTITION_ENV_VARS, [
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "CLOUD_RUN_TASK_INDEX",
  ]);
  // The first variable set wins: Kubernetes, then AWS Batch, then Cloud Run.
  assert.deepEqual(
    parsePartition(
      "env/5",
      env({ AWS_BATCH_JOB_ARRAY_INDEX: "3", CLOUD_RUN_TASK_INDEX: "1" }),
    ),
    { index: 3, count: 5, source: "AWS_BATCH_JOB_ARRAY_INDEX" },
  );
  assert.equal(
    parsePartition("env/5", env({ CLOUD_RUN_TASK_INDEX: "4" })).index,
    4,
  );
  const refused = (text: string, vars: Record<string, string>, re: RegExp) =>
    assert.throws(
      () => parsePartition(text, env(vars)),
      (e: Error & { kind?: string }) =>
        e.kind === "usage" && re.test(e.message),
      text,
    );
  refused("3/3", {}, /K must be from 0 to 2/);
  refused("-1/3", {}, /K must be from 0 to 2/);
  refused("a/3", {}, /K must be from 0 to 2 \(zero-based\), not "a"/);
  refused("0/0", {}, /N must be a whole number from 1 to 10000/);
  refused("0/10001", {}, /N must be a whole number from 1 to 10000/);
  refused("0/2.5", {}, /N must be/);
  refused("3", {}, /write K\/N/);
  refused(
    "env/3",
    {},
    /none of JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, CLOUD_RUN_TASK_INDEX is set/,
  );
  refused(
    "env/3",
    { JOB_COMPLETION_INDEX: "3" },
    /JOB_COMPLETION_INDEX is "3", not a whole number from 0 to 2/,
  );
  refused(
    "env/3",
    { JOB_COMPLETION_INDEX: "x" },
    /JOB_COMPLETION_INDEX is "x"/,
  );
  refused(
    "env/3",
    { CLOUD_RUN_TASK_INDEX: "-1" },
    /CLOUD_RUN_TASK_INDEX is "-1"/,
  );
});

Deno.test("deno task run --partition: a bad value or an unset variable is a usage error (exit 2) before anything is read; env/N reads the variable", () =>
  withTempDir(async (dir) => {
    const book = writePortfolio(`${dir}/book.parquet`, 40);
    let r = await callMain(
      runMain,
      "--portfolio",
      book,
      "--out",
      `${dir}/runs`,
      "--partition",
      "3/3",
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--partition 3\/3: K must be from 0 to 2/);
    // Indexed jobs: the index from the environment of a process.
    const task = new URL("../../tasks/run.ts", import.meta.url).pathname;
    const args = [
      "--portfolio",
      book,
      "--out",
      `${dir}/runs`,
      "--run-id",
      "q4",
      "--no-report",
      "--quiet",
      "--partition",
      "env/2",
    ];
    r = await runTaskProcess(task, args, { JOB_COMPLETION_INDEX: "2" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /JOB_COMPLETION_INDEX is "2", not a whole number from 0 to 1/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    r = await runTaskProcess(task, args, { JOB_COMPLETION_INDEX: "1" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${dir}/runs/q4.part-1-of-2`);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${dir}/runs/q4.part-1-of-2/manifest.json`),
    );
    assert.deepEqual(
      [
        manifest.partition.index,
        manifest.partition.count,
        manifest.partition.by,
      ],
      [1, 2, "loan_id_fnv1a32"],
    );
  }));

Deno.test("planPartition(): a folder must hold exactly N portfolio files, taken in byte-wise name order", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/parts`);
    // Upper case sorts before lower case byte-wise; hidden and other files are ignored.
    for (
      const name of [
        "b.parquet",
        "B.parquet",
        "a.parquet",
        ".hidden.csv",
        "fx_rates_2025-12-31.yaml",
      ]
    ) {
      await Deno.writeTextFile(`${dir}/parts/${name}`, "");
    }
    const plan = await planPartition(`${dir}/parts/`, { index: 1, count: 3 });
    assert.equal(plan.by, "file");
    assert.deepEqual(plan.files, ["B.parquet", "a.parquet", "b.parquet"]);
    assert.equal(plan.portfolio, `${dir}/parts/a.parquet`);
    await assert.rejects(
      () => planPartition(`${dir}/parts`, { index: 0, count: 4 }),
      /--portfolio .*parts: a partitioned input folder must hold exactly N = 4 portfolio files \(one per part\), but it holds 3 \(B\.parquet, a\.parquet, b\.parquet\)/,
    );
    // Files of two formats: refused (a CSV's columns are text).
    await Deno.rename(`${dir}/parts/B.parquet`, `${dir}/parts/B.csv`);
    await assert.rejects(
      () => planPartition(`${dir}/parts`, { index: 0, count: 3 }),
      /part files are of different formats \(CSV, Parquet: B\.csv, a\.parquet, b\.parquet\)/,
    );
    const file = await planPartition(`${dir}/parts/a.parquet`, {
      index: 0,
      count: 4,
    });
    assert.equal(file.by, "loan_id_fnv1a32");
  }));

Deno.test("parsePartition() is strict (T12): no spaces, signs or leading zeros; an empty variable falls through; both bad K and N named; Cloud Run's task count must be N", () => {
  for (const bad of [" 0/3", "00/3", "1/03", "0/3 ", "+1/3"]) {
    assert.throws(() => parsePartition(bad), /--partition/, bad);
  }
  assert.throws(
    () => parsePartition("a/b"),
    /N must be a whole number from 1 to 10000 \(MAX_PARTITIONS\), not "b" and K must be a whole number from 0 to N-1, not "a"/,
  );
  const vars = (v: Record<string, string>) => (n: string) => v[n];
  assert.throws(
    () => parsePartition("env/3", vars({ JOB_COMPLETION_INDEX: " 1" })),
    /JOB_COMPLETION_INDEX is " 1", not a whole number from 0 to 2/,
  );
  assert.deepEqual(
    parsePartition(
      "env/3",
      vars({ JOB_COMPLETION_INDEX: "", AWS_BATCH_JOB_ARRAY_INDEX: "2" }),
    ),
    { index: 2, count: 3, source: "AWS_BATCH_JOB_ARRAY_INDEX" },
  );
  assert.throws(
    () =>
      parsePartition(
        "env/3",
        vars({ CLOUD_RUN_TASK_INDEX: "1", CLOUD_RUN_TASK_COUNT: "4" }),
      ),
    /CLOUD_RUN_TASK_COUNT is "4", not N = 3/,
  );
  assert.equal(
    parsePartition(
      "env/3",
      vars({ CLOUD_RUN_TASK_INDEX: "1", CLOUD_RUN_TASK_COUNT: "3" }),
    ).index,
    1,
  );
});
