/**
 * Publishing a folder to S3 (`lib/storage/s3_folder.ts`) against a real
 * server (`s3rver` on loopback): large files go as multipart uploads,
 * `manifest.json` goes last, and a publish that fails in the middle leaves
 * nothing a reader (the run folder readers, the dashboard) trusts, which
 * the next publish of the name replaces.
 */
import assert from "node:assert/strict";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { runPortfolio } from "../../lib/mod.ts";
import {
  openRunFolder,
  readRunFolder,
  readRunSummary,
  RUN_FILES,
} from "../../lib/run_folder/mod.ts";
import { s3Folder } from "../../lib/storage/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { keys, sha256Hex, startS3 } from "./_s3.ts";

const MiB = 1024 * 1024;

/** 11 MiB that do not compress, filled 64 KiB at a time (getRandomValues' most). */
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) {
    crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  }
  return out;
}

Deno.test("a large file is published as a multipart upload, the manifest last, and read back byte for byte", async () => {
  const s3 = await startS3();
  try {
    await s3.bucket("runs");
    const uploads: [string, number][] = [];
    const folder = s3Folder("s3://runs/big", {
      partSize: 5 * MiB,
      onUpload: (key, parts) => uploads.push([key, parts]),
    });
    const staging = await folder.stage("q4");
    const big = randomBytes(11 * MiB);
    await Deno.writeFile(`${staging.dir}/loan_results.parquet`, big);
    await Deno.writeTextFile(`${staging.dir}/summary.json`, "{}");
    await Deno.writeTextFile(
      `${staging.dir}/manifest.json`,
      '{"status":"complete"}',
    );
    const published = await staging.publish();
    assert.equal(published.href, "s3://runs/big/q4");
    // 11 MiB in parts of 5 MiB: 5 + 5 + 1, three parts.
    const [bigUpload] = uploads.filter(([k]) =>
      k.endsWith("/loan_results.parquet")
    );
    assert.match(
      bigUpload[0],
      /^big\/\.q4\.partial-\d+-[0-9a-f]{12}\/loan_results\.parquet$/,
    );
    assert.equal(bigUpload[1], 3);
    assert.deepEqual(uploads.at(-1), ["big/q4/manifest.json", 1]);
    // The local staging folder and the temporary prefix are gone.
    await assert.rejects(() => Deno.stat(staging.dir), Deno.errors.NotFound);
    assert.deepEqual(await keys(s3, "runs"), [
      "big/q4/loan_results.parquet",
      "big/q4/manifest.json",
      "big/q4/summary.json",
    ]);
    const head = await s3.client.send(
      new HeadObjectCommand({
        Bucket: "runs",
        Key: "big/q4/loan_results.parquet",
      }),
    );
    assert.equal(head.ContentLength, 11 * MiB);
    const got = await s3.client.send(
      new GetObjectCommand({
        Bucket: "runs",
        Key: "big/q4/loan_results.parquet",
      }),
    );
    assert.equal(
      await sha256Hex(await got.Body!.transformToByteArray()),
      await sha256Hex(big),
    );
  } finally {
    await s3.close();
  }
});

/** Copies a local run folder's files into a staging folder. */
async function fill(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("a publish that fails in the middle leaves no run a reader trusts; the next publish of the id replaces what it left", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("runs");
    writePortfolio(`${tmp}/book_2025-12-31.parquet`, 60);
    const local = await runPortfolio({
      portfolio: `${tmp}/book_2025-12-31.parquet`,
      fx: "config/fx_rates.yaml",
      out: `${tmp}/runs`,
      runId: "q4",
      report: false,
    });
    const files = [...Deno.readDirSync(local.dir)].map((e) => e.name).sort();

    // A complete run in the bucket, trusted.
    const first = await openRunFolder("s3://runs/q", "q4");
    await fill(local.dir, first.dir);
    assert.equal(await first.commit(), "s3://runs/q/q4");
    assert.equal(
      (await readRunFolder("s3://runs/q/q4", { trusted: true })).summary.totals
        .ecl,
      local.summary.totals.ecl,
    );

    // Replaced by a publish that fails while copying into the final
    // prefix (as a connection reset would, after its retries).
    const failing = s3Folder("s3://runs/q", {
      beforeStep: (step, key) => {
        if (step === "copy" && key.endsWith(RUN_FILES.loanResults)) {
          throw new Error("injected: connection reset by peer");
        }
      },
    });
    const second = await openRunFolder(failing, "q4", { replace: true });
    await fill(local.dir, second.dir);
    await assert.rejects(() => second.commit(), /injected: connection reset/);
    // A failed publish keeps its local staging folder (named in a run's
    // error); this test has no run to set it aside, so removes it.
    await Deno.remove(second.dir, { recursive: true });
    const left = await keys(s3, "runs");
    assert.ok(!left.includes("q/q4/manifest.json"), left.join());
    // Nothing hidden is left either (the server was there to clean up).
    assert.ok(left.every((k) => k.startsWith("q/q4/")), left.join());
    for (
      const read of [
        () => readRunFolder("s3://runs/q/q4", { trusted: true }),
        () => readRunSummary("s3://runs/q/q4", { trusted: true }),
      ]
    ) {
      await assert.rejects(read, {
        name: "RunFolderReadError",
        message:
          /^Cannot read run folder s3:\/\/runs\/q\/q4: not a complete run: manifest\.json: file is missing, so nothing says the run completed/,
      });
    }
    // The dashboard refuses it too, naming it, with the usage exit code.
    const dash = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "dashboards/build.ts",
        "--runs",
        "s3://runs/q/q4",
        "--out",
        `${tmp}/d.html`,
      ],
      env: s3.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(dash.code, 2);
    assert.match(
      new TextDecoder().decode(dash.stderr),
      /s3:\/\/runs\/q\/q4: not a complete run/,
    );

    // A rerun of the id, without replace: the folder without a manifest
    // is no run to keep, so it is replaced, and trusted again.
    const third = await openRunFolder("s3://runs/q", "q4");
    await fill(local.dir, third.dir);
    await third.commit();
    assert.deepEqual(await keys(s3, "runs"), files.map((f) => `q/q4/${f}`));
    assert.equal(
      (await readRunSummary("s3://runs/q/q4", { trusted: true })).totals.count,
      local.summary.totals.count,
    );
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a server that goes away in the middle of a publish: one line naming the URL, and nothing a reader trusts once it is back", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("runs");
    writePortfolio(`${tmp}/book_2025-12-31.parquet`, 40);
    const local = await runPortfolio({
      portfolio: `${tmp}/book_2025-12-31.parquet`,
      fx: "config/fx_rates.yaml",
      out: `${tmp}/runs`,
      runId: "q4",
      report: false,
    });
    const first = await openRunFolder("s3://runs/q", "q4");
    await fill(local.dir, first.dir);
    await first.commit();

    // The replacing publish loses the server once its uploads are done.
    let stopped = false;
    const outage = s3Folder("s3://runs/q", {
      beforeStep: async (step) => {
        if (step === "copy" && !stopped) {
          stopped = true;
          await s3.stop();
        }
      },
    });
    const second = await openRunFolder(outage, "q4", { replace: true });
    await fill(local.dir, second.dir);
    await assert.rejects(() => second.commit(), (e: Error) => {
      assert.equal(e.name, "UserError");
      assert.match(
        e.message,
        /^Cannot write s3:\/\/runs\/q\/q4\/\S+: the endpoint could not be reached/,
      );
      assert.equal(e.message.split("\n").length, 1);
      return true;
    });

    await Deno.remove(second.dir, { recursive: true });
    await s3.restart();
    // The earlier run lost its manifest before the copies began: refused.
    await assert.rejects(
      () => readRunSummary("s3://runs/q/q4", { trusted: true }),
      /not a complete run: manifest\.json: file is missing/,
    );
    // The uploads' hidden prefix is still there (the server was gone when
    // the publish tried to remove it), and is refused too.
    const hidden = (await keys(s3, "runs", "q/.q4.partial-"))[0];
    assert.ok(hidden, "the temporary prefix was left");
    const prefix = hidden.split("/").slice(0, 2).join("/");
    await assert.rejects(
      () => readRunSummary(`s3://runs/${prefix}`, { trusted: true }),
      /not a complete run: the folder is a hidden staging folder/,
    );
    // The next run of the id is published whole.
    const third = await openRunFolder("s3://runs/q", "q4");
    await fill(local.dir, third.dir);
    await third.commit();
    assert.equal(
      (await readRunFolder("s3://runs/q/q4", { trusted: true })).summary.totals
        .ecl,
      local.summary.totals.ecl,
    );
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
