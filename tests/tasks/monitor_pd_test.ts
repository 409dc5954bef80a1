/**
 * `deno task monitor-pd` as a user runs it, in a subprocess: a model
 * folder built by hand (tests/pd_model/_monitor_fixture.ts), a shifted
 * population with and without its outcome column; exit codes and messages
 * for a missing feature column, an output on an input, a missing model
 * folder and a bad command line.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  csv,
  population,
  TARGET,
  writeModelFolder,
} from "../pd_model/_monitor_fixture.ts";
import { runTaskProcess } from "./_main.ts";

const TASK = new URL("../../tasks/monitor_pd.ts", import.meta.url).pathname;

/**
 * What the task's process is given besides NO_COLOR: the S3 settings of
 * the object-storage test (a subprocess does not see this isolate's).
 */
let taskEnv: Record<string, string> = {};

const task = (...args: string[]) =>
  runTaskProcess(TASK, args, { ...taskEnv, NO_COLOR: "1" });

/** Shares of `values` in the bins cut at `edges`, then missing: by filtering. */
function sharesByFilter(values: ArrayLike<number>, edges: number[]): number[] {
  const v = Array.from(values);
  const bounds = [-Infinity, ...edges, Infinity];
  const out = bounds.slice(1).map((hi, i) =>
    v.filter((x) => x >= bounds[i] && x < hi).length / v.length
  );
  out.push(v.filter((x) => Number.isNaN(x)).length / v.length);
  return out;
}

Deno.test("deno task monitor-pd writes monitor.json and monitor.html, with the backtest when the data has the target", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitor_pd_task_" });
  try {
    await writeModelFolder(`${dir}/model`, 3000);
    const mon = population(2000, 7, { shift: true, pdFactor: 1.8 });
    await Deno.writeTextFile(`${dir}/mon.csv`, csv(mon));
    const r = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/mon.csv`,
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2,000 rows scored; score PSI \d\.\d{4}/);
    assert.match(r.stdout, /backtest on default_12m: \d+ defaults/);
    assert.match(r.stdout, /out\/monitor\.html/);
    const m = JSON.parse(await Deno.readTextFile(`${dir}/out/monitor.json`));
    assert.equal(m.format, "ifrs9-pd-monitoring");
    assert.equal(m.data.rows, 2000);
    // The score's PSI from the reference's edges and the points of the
    // hand-built model, counted and summed here.
    const ref = JSON.parse(await Deno.readTextFile(`${dir}/model/model.json`))
      .reference;
    const actual = sharesByFilter(mon.score, ref.score.edges);
    const byHand = ref.score.shares.reduce(
      (s: number, e: number, i: number) => {
        const x = Math.max(e, 1e-4), y = Math.max(actual[i], 1e-4);
        return s + (y - x) * Math.log(y / x);
      },
      0,
    );
    assert.ok(
      Math.abs(m.score.psi - byHand) < 1e-9,
      `${m.score.psi} ${byHand}`,
    );
    assert.equal(m.backtest.target, TARGET);
    assert.equal(
      m.backtest.defaults,
      mon.labels.reduce((a, b) => a + b, 0),
    );
    assert.ok(m.backtest.zones.red >= 1, JSON.stringify(m.backtest.zones));
    const html = await Deno.readTextFile(`${dir}/out/monitor.html`);
    assert.match(html, /Population stability/);
    assert.match(html, /Backtest by grade/);
    // Written whole: only the two files.
    const names = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name).sort();
    assert.deepEqual(names, ["monitor.html", "monitor.json"]);

    // Without the outcome column: stability only, and a note saying so.
    await Deno.writeTextFile(`${dir}/mon_nt.csv`, csv(mon, false));
    const nt = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/mon_nt.csv`,
      "--out",
      `${dir}/out_nt`,
    );
    assert.equal(nt.code, 0, nt.stderr);
    assert.match(nt.stderr, /note: the data has no outcome column default_12m/);
    const mnt = JSON.parse(
      await Deno.readTextFile(`${dir}/out_nt/monitor.json`),
    );
    assert.equal(mnt.backtest, undefined);
    assert.equal(mnt.score.psi, m.score.psi);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task monitor-pd refuses a missing feature column, an output on its input, a missing model and a bad command line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitor_pd_task_" });
  try {
    await writeModelFolder(`${dir}/model`, 500);
    const mon = population(200, 8);
    // The data without its credit_score column.
    const lines = csv(mon).trimEnd().split("\n").map((l) =>
      l.split(",").filter((_, i) => i !== 1).join(",")
    );
    await Deno.writeTextFile(`${dir}/no_score.csv`, lines.join("\n") + "\n");
    const missing = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/no_score.csv`,
      "--out",
      `${dir}/out`,
    );
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /no_score\.csv: missing feature column credit_score/,
    );
    assert.doesNotMatch(missing.stderr, /\n\s+at /); // no stack trace
    await assert.rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);

    await Deno.writeTextFile(`${dir}/mon.csv`, csv(mon));
    const onInput = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/mon.csv`,
      "--out",
      `${dir}/mon.csv`,
    );
    assert.equal(onInput.code, 2);
    assert.match(onInput.stderr, /mon\.csv/);

    const noModel = await task(
      "--model",
      `${dir}/nowhere`,
      "--data",
      `${dir}/mon.csv`,
      "--out",
      `${dir}/out2`,
    );
    assert.equal(noModel.code, 2);
    assert.match(
      noModel.stderr,
      /nowhere\/model\.json cannot be read: no such file/,
    );

    const usage = await task("--model", `${dir}/model`, "--dat", "x");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown flag --dat \(did you mean --data\?\)/);
    assert.match(usage.stderr, /--data and --out are required/);

    const help = await task("--help");
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /deno task monitor-pd --model DIR --data PATH --out DIR/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task monitor-pd accepts a population without defaults: stability and the backtest, AUC, Gini and KS n/a", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitor_pd_task_" });
  try {
    await writeModelFolder(`${dir}/model`, 3000);
    const mon = population(500, 11);
    mon.labels.fill(0);
    await Deno.writeTextFile(`${dir}/mon.csv`, csv(mon));
    const r = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/mon.csv`,
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /backtest on default_12m: 0 defaults/);
    assert.match(
      r.stderr,
      /note: AUC, Gini and KS: n\/a: the target default_12m has no default among the 500 rows/,
    );
    const m = JSON.parse(await Deno.readTextFile(`${dir}/out/monitor.json`));
    assert.equal(m.backtest.defaults, 0);
    assert.equal(m.backtest.auc, null);
    assert.equal(m.backtest.ks, null);
    // Every grade with facilities and no default is green (0 defaults is
    // below any binomial quantile).
    assert.equal(m.backtest.zones.red + m.backtest.zones.yellow, 0);
    assert.ok(Number.isFinite(m.score.psi));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task monitor-pd: data that is not UTF-8 is one line, exit 2, naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitor_pd_task_" });
  try {
    await writeModelFolder(`${dir}/model`, 1000);
    const text = csv(population(50, 3), false);
    const bytes = new TextEncoder().encode(text);
    // A byte of the last row (line 51, after the header) that is not UTF-8.
    bytes[bytes.length - 3] = 0xff;
    await Deno.writeFile(`${dir}/mon.csv`, bytes);
    const r = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/mon.csv`,
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^Cannot read the monitoring data .*mon\.csv: line 51: the bytes are not UTF-8 text/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task monitor-pd reads the model folder and the data from object storage (s3rver on loopback)", async () => {
  const { startS3 } = await import("../storage/_s3.ts");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = await startS3();
  taskEnv = s3.env;
  const dir = await Deno.makeTempDir({ prefix: "monitor_pd_task_" });
  try {
    await s3.bucket("book");
    await writeModelFolder(`${dir}/model`, 1000);
    const mon = population(300, 5, { shift: true });
    await Deno.writeTextFile(`${dir}/mon.csv`, csv(mon));
    const put = async (key: string, file: string) =>
      await s3.client.send(
        new PutObjectCommand({
          Bucket: "book",
          Key: key,
          Body: await Deno.readFile(file),
        }),
      );
    await put("models/m/model.json", `${dir}/model/model.json`);
    await put("models/m/model.onnx", `${dir}/model/model.onnx`);
    await put("q1/mon.csv", `${dir}/mon.csv`);
    const r = await task(
      "--model",
      "s3://book/models/m",
      "--data",
      "s3://book/q1/mon.csv",
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(await Deno.readTextFile(`${dir}/out/monitor.json`));
    assert.equal(m.model.path, "s3://book/models/m");
    assert.equal(m.data.path, "s3://book/q1/mon.csv");
    assert.equal(m.data.rows, 300);
    // The same stability as from the local folder and file.
    const l = await task(
      "--model",
      `${dir}/model`,
      "--data",
      `${dir}/mon.csv`,
      "--out",
      `${dir}/out_local`,
    );
    assert.equal(l.code, 0, l.stderr);
    const ml = JSON.parse(
      await Deno.readTextFile(`${dir}/out_local/monitor.json`),
    );
    assert.equal(m.score.psi, ml.score.psi);
    assert.equal(m.data.sha256, ml.data.sha256);
  } finally {
    taskEnv = {};
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
