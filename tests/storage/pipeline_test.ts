/**
 * The whole pipeline from and to S3 (issue 14, item 1), against a real
 * S3-protocol server on loopback (`s3rver`, `_s3.ts`) through the real
 * `@aws-sdk/client-s3`: no client is mocked. The tasks run as the user
 * runs them, in subprocesses configured only by the environment a MinIO
 * user sets (README "Object storage").
 *
 * Expected figures come from elsewhere than the code under test: the
 * SHA-256 of the bytes put in the bucket (Web Crypto), the local run of
 * the same portfolio (the S3 run must give the same totals), the object
 * listing of the bucket (what the server holds).
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { readRunFolder, runPortfolio } from "../../lib/mod.ts";
import { readRunSummary, RUN_FILES } from "../../lib/run_folder/mod.ts";
import { portfolioFrame, writePortfolio } from "../run/_portfolio.ts";
import { getText, keys, put, sha256Hex, startS3 } from "./_s3.ts";

const decoder = new TextDecoder();

/** Runs a door (`tasks/x.ts`, `dashboards/build.ts`) with `env`. */
async function door(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** The fixture portfolio with its reporting date moved to `date`. */
function portfolioAt(n: number, date: string): Uint8Array {
  const frame = portfolioFrame(n).withColumns(
    pl.lit(date).str.strptime(pl.Date, "%Y-%m-%d").alias("reporting_date"),
  );
  const tmp = Deno.makeTempFileSync({ suffix: ".parquet" });
  frame.writeParquet(tmp);
  const bytes = Deno.readFileSync(tmp);
  Deno.removeSync(tmp);
  return bytes;
}

const RUN_OBJECTS = Object.values(RUN_FILES).sort();

Deno.test("runs from and to S3: portfolio, rules and FX table read from a bucket, a run folder published there, a movement between two runs in it, a dashboard and a rerun built from it", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("book");
    await s3.bucket("runs");
    const q3 = portfolioAt(120, "2025-09-30");
    const q4 = portfolioAt(120, "2025-12-31");
    const rules = await Deno.readFile("config/ifrs9_rules.yaml");
    await put(s3, "s3://book/in/portfolio_2025-09-30.parquet", q3);
    await put(s3, "s3://book/in/portfolio_2025-12-31.parquet", q4);
    await put(s3, "s3://book/config/rules.yaml", rules);
    // The FX table of each date beside the portfolio, as `deno task
    // generate` writes them: the run looks it up there in the bucket.
    await put(
      s3,
      "s3://book/in/fx_rates_2025-09-30.yaml",
      await Deno.readFile("config/fx_rates_2025-09-30.yaml"),
    );
    await put(
      s3,
      "s3://book/in/fx_rates_2025-12-31.yaml",
      await Deno.readFile("config/fx_rates.yaml"),
    );

    const runs: string[] = [];
    for (const date of ["2025-09-30", "2025-12-31"]) {
      const r = await door("tasks/run.ts", [
        "--portfolio",
        `s3://book/in/portfolio_${date}.parquet`,
        "--rules",
        "s3://book/config/rules.yaml",
        "--out",
        "s3://runs/ifrs9",
        "--quiet",
      ], s3.env);
      assert.equal(r.code, 0, r.stderr);
      runs.push(r.stdout.trim().split("\n").at(-1)!);
    }
    assert.deepEqual(runs, [
      "s3://runs/ifrs9/portfolio_2025-09-30",
      "s3://runs/ifrs9/portfolio_2025-12-31",
    ]);
    // The bucket holds the two run folders and nothing else: no temporary
    // prefix left behind.
    assert.deepEqual(
      await keys(s3, "runs"),
      [
        ...RUN_OBJECTS.map((f) => `ifrs9/portfolio_2025-09-30/${f}`),
        ...RUN_OBJECTS.map((f) => `ifrs9/portfolio_2025-12-31/${f}`),
      ].sort(),
    );

    // The later run's report compares it with the earlier run found
    // beside it in the bucket.
    const report =
      (await getText(s3, "runs", "ifrs9/portfolio_2025-12-31/report.html"))
        .replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
    assert.match(report, /Since 2025-09-30/);

    // The manifest records the inputs by URL, hashed from their bytes.
    const manifest = JSON.parse(
      await getText(s3, "runs", "ifrs9/portfolio_2025-12-31/manifest.json"),
    );
    assert.equal(manifest.status, "complete");
    assert.equal(
      manifest.inputs.portfolio.path,
      "s3://book/in/portfolio_2025-12-31.parquet",
    );
    assert.equal(manifest.inputs.portfolio.sha256, await sha256Hex(q4));
    assert.equal(manifest.inputs.rules.path, "s3://book/config/rules.yaml");
    assert.equal(manifest.inputs.rules.sha256, await sha256Hex(rules));
    assert.equal(
      manifest.inputs.fx.path,
      "s3://book/in/fx_rates_2025-12-31.yaml",
    );

    // Validation alone reads the portfolio and rules from the bucket too.
    const valid = await door("tasks/validate.ts", [
      "--portfolio",
      "s3://book/in/portfolio_2025-12-31.parquet",
      "--rules",
      "s3://book/config/rules.yaml",
      "--out",
      `${tmp}/valid`,
    ], s3.env);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(
      valid.stdout,
      /^s3:\/\/book\/in\/portfolio_2025-12-31\.parquet: 120 rows read/,
    );

    // The same book run locally gives the same figures.
    await Deno.writeFile(`${tmp}/portfolio_2025-12-31.parquet`, q4);
    const local = await runPortfolio({
      portfolio: `${tmp}/portfolio_2025-12-31.parquet`,
      rules: "config/ifrs9_rules.yaml",
      fx: "config/fx_rates.yaml",
      out: `${tmp}/runs`,
      report: false,
    });
    const remote = await readRunFolder(runs[1], { trusted: true });
    assert.deepEqual(remote.summary.totals, local.summary.totals);
    assert.deepEqual(remote.summary.by_stage, local.summary.by_stage);
    const ecl = (await remote.results.select(pl.col("ecl_rc").sum()).collect())
      .getColumn("ecl_rc").get(0) as number;
    assert.ok(Math.abs(ecl - local.summary.totals.ecl) < 0.01);

    // The movement reads both runs from the bucket and writes there too.
    const mv = await door("tasks/movement.ts", [
      "--from",
      runs[0],
      "--to",
      runs[1],
      "--out",
      "s3://runs/ifrs9/movement_2025-12-31",
    ], s3.env);
    assert.equal(mv.code, 0, mv.stderr);
    const movement = JSON.parse(
      await getText(s3, "runs", "ifrs9/movement_2025-12-31/movement.json"),
    );
    assert.deepEqual(
      [
        movement.from.dir,
        movement.from.reporting_date,
        movement.to.dir,
        movement.to.reporting_date,
      ],
      [runs[0], "2025-09-30", runs[1], "2025-12-31"],
    );
    assert.ok(
      (await keys(s3, "runs", "ifrs9/movement_2025-12-31/")).includes(
        "ifrs9/movement_2025-12-31/movement.html",
      ),
    );

    // The dashboard over the two runs in the bucket.
    const dash = await door("dashboards/build.ts", [
      "--runs",
      runs[0],
      "--runs",
      runs[1],
      "--out",
      `${tmp}/dashboard.html`,
    ], s3.env);
    assert.equal(dash.code, 0, dash.stderr);
    const page = await Deno.readTextFile(`${tmp}/dashboard.html`);
    assert.match(page, /2025-09-30/);
    assert.match(page, /2025-12-31/);

    // A rerun of an id without --replace is refused; with it, replaced.
    const again = [
      "--portfolio",
      "s3://book/in/portfolio_2025-12-31.parquet",
      "--out",
      "s3://runs/ifrs9",
      "--quiet",
    ];
    const refused = await door("tasks/run.ts", again, s3.env);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /s3:\/\/runs\/ifrs9\/portfolio_2025-12-31 already exists: pass --replace/,
    );
    const replaced = await door(
      "tasks/run.ts",
      [...again, "--replace"],
      s3.env,
    );
    assert.equal(replaced.code, 0, replaced.stderr);
    const after = JSON.parse(
      await getText(s3, "runs", "ifrs9/portfolio_2025-12-31/manifest.json"),
    );
    assert.notEqual(after.started_at, manifest.started_at);
    assert.equal(
      (await readRunSummary(runs[1], { trusted: true })).totals.count,
      local.summary.totals.count,
    );

    // The movement folder carries its completion marker, written last,
    // listing each file's size and SHA-256; the dashboard reads it.
    const marker = JSON.parse(
      await getText(s3, "runs", "ifrs9/movement_2025-12-31/_complete.json"),
    );
    const movementBytes = new TextEncoder().encode(
      await getText(s3, "runs", "ifrs9/movement_2025-12-31/movement.json"),
    );
    assert.deepEqual(marker.files["movement.json"], {
      bytes: movementBytes.length,
      sha256: await sha256Hex(movementBytes),
    });
    const withMovement = [
      "--runs",
      runs[0],
      "--runs",
      runs[1],
      "--movement",
      "s3://runs/ifrs9/movement_2025-12-31",
      "--out",
      `${tmp}/dashboard2.html`,
    ];
    const dashMv = await door("dashboards/build.ts", withMovement, s3.env);
    assert.equal(dashMv.code, 0, dashMv.stderr);
    // A movement file replaced behind the marker's back: refused, named.
    await put(
      s3,
      "s3://runs/ifrs9/movement_2025-12-31/movement.json",
      new TextDecoder().decode(movementBytes).replace(
        "2025-09-30",
        "2025-06-30",
      ),
    );
    const mixed = await door("dashboards/build.ts", withMovement, s3.env);
    assert.notEqual(mixed.code, 0);
    assert.match(
      mixed.stderr,
      /s3:\/\/runs\/ifrs9\/movement_2025-12-31\/movement\.json: it is not the file the folder's _complete\.json lists/,
    );
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a run that fails a check in S3 is set aside as <id>.failed, which no reader trusts", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("runs");
    await s3.bucket("book");
    // 40 of 100 rows with a negative balance: above max_reject_rate 0.05.
    writePortfolio(`${tmp}/bad_2025-12-31.parquet`, 100, 40);
    await put(
      s3,
      "s3://book/bad_2025-12-31.parquet",
      await Deno.readFile(`${tmp}/bad_2025-12-31.parquet`),
    );
    const r = await door("tasks/run.ts", [
      "--portfolio",
      "s3://book/bad_2025-12-31.parquet",
      "--fx",
      "config/fx_rates.yaml",
      "--out",
      "s3://runs/q",
      "--quiet",
    ], s3.env);
    assert.equal(r.code, 1, r.stderr);
    const listed = await keys(s3, "runs");
    assert.ok(
      listed.every((k) => k.startsWith("q/bad_2025-12-31.failed/")),
      listed.join(),
    );
    const manifest = JSON.parse(
      await getText(s3, "runs", "q/bad_2025-12-31.failed/manifest.json"),
    );
    assert.equal(manifest.status, "failed");
    assert.match(manifest.error, /reject/i);
    await assert.rejects(
      () =>
        readRunFolder("s3://runs/q/bad_2025-12-31.failed", { trusted: true }),
      /^RunFolderReadError: Cannot read run folder s3:\/\/runs\/q\/bad_2025-12-31\.failed: /,
    );
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
