/**
 * `deno task explain` as a process, on the movement tests' two hand-made
 * runs (A moves to stage 2 at an ECL of 20 on a balance of 380; C is new,
 * 3 on 300; so 23.00 on 680.00, coverage 3.38%; the ECL rose from 10 to
 * 23) and a fake Vertex endpoint on loopback for `--provider vertex`
 * (Vertex AI express mode: `GOOGLE_API_KEY` and `GOOGLE_VERTEX_BASE_URL`
 * in the child's environment). Then `deno task run` of the sample book
 * with `explain.provider: vertex` in its rules, against the same fake:
 * the report says Gemini wrote the narrative.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  computeMovement,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { runTaskProcess, withTempDir } from "../tasks/_main.ts";
import { twoRuns } from "../movement/_two_runs.ts";

const EXPLAIN = new URL("../../tasks/explain.ts", import.meta.url).pathname;
const RUN = new URL("../../tasks/run.ts", import.meta.url).pathname;

const task = (
  file: string,
  args: string[],
  env: Record<string, string> = {},
) =>
  runTaskProcess(file, args, {
    GOOGLE_CLOUD_PROJECT: "",
    GOOGLE_API_KEY: "",
    ...env,
  });

/** The two runs and the movement between them, under `root`. */
async function runsAndMovement(root: string) {
  const { from, to } = await twoRuns(root);
  const { movement, facilities } = await computeMovement(
    await readRunFolder(from, { trusted: true }),
    await readRunFolder(to, { trusted: true }),
  );
  await writeMovementOutputs(movement, facilities, `${root}/movement`);
  return { from, to, movement: `${root}/movement` };
}

/**
 * A fake Vertex endpoint whose "model" writes one sentence from the
 * facts in the prompt (their first forms), or answers `status`.
 */
function fakeModel(status = 200) {
  const keys: (string | null)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      keys.push(req.headers.get("x-goog-api-key"));
      const body = await req.json();
      if (status !== 200) {
        return Response.json({ error: { code: status, message: "down" } }, {
          status,
        });
      }
      const prompt: string = body.contents[0].parts[0].text;
      const sheet = JSON.parse(prompt.slice(prompt.indexOf("{")));
      const form = (id: string) =>
        sheet.facts.find((f: { id: string }) => f.id === id).formatted[0];
      // Each figure cites its fact, as the instruction asks (check.ts).
      const text =
        `At ${sheet.reporting_date} the expected credit loss is EUR ${
          form("totals.ecl")
        } [fact:totals.ecl], ${
          form("totals.coverage")
        } [fact:totals.coverage] of the gross carrying amount.`;
      return Response.json({
        candidates: [{
          content: { role: "model", parts: [{ text }] },
          finishReason: "STOP",
        }],
      });
    },
  );
  return {
    keys,
    env: {
      GOOGLE_API_KEY: "test-key-123",
      GOOGLE_VERTEX_BASE_URL: `http://127.0.0.1:${server.addr.port}/`,
    },
    close: () => server.shutdown(),
  };
}

Deno.test("tasks/explain.ts prints the template narrative of a run and its movement", async () => {
  await withTempDir(async (root) => {
    const { to, movement } = await runsAndMovement(root);
    const r = await task(EXPLAIN, ["--run", to, "--movement", movement]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^At 2026-03-31 the expected credit loss on 2 facilities is EUR 23\.00: /,
    );
    assert.match(
      r.stdout,
      /It covers 3\.38% of a gross carrying amount of EUR 680\.00\./,
    );
    // Opening 4 + 6 = 10, closing 23: up 13.00, 130.00%.
    assert.match(
      r.stdout,
      /Since 2025-12-31 the ECL rose by EUR 13\.00, from 10\.00 to 23\.00 \(up 130\.00%\)/,
    );
    assert.match(r.stderr, /Written by the template \(offline\)/);

    // Without the movement: no movement paragraph.
    const alone = await task(EXPLAIN, ["--run", to]);
    assert.equal(alone.code, 0, alone.stderr);
    assert.doesNotMatch(alone.stdout, /Since 2025-12-31/);
  });
});

Deno.test("tasks/explain.ts --out writes narrative.json or the text", async () => {
  await withTempDir(async (root) => {
    const { to, movement } = await runsAndMovement(root);
    const json = await task(EXPLAIN, [
      "--run",
      to,
      "--movement",
      movement,
      "--out",
      `${root}/out/narrative.json`,
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout.trim(), `${root}/out/narrative.json`);
    const n = JSON.parse(await Deno.readTextFile(`${root}/out/narrative.json`));
    assert.equal(n.provider, "template");
    assert.equal(n.facts.facts["totals.ecl"].value, 23);
    assert.equal(n.facts.facts["movement.opening"].value, 10);
    const text = await task(EXPLAIN, ["--run", to, "--out", `${root}/n.txt`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(await Deno.readTextFile(`${root}/n.txt`), /^At 2026-03-31 /);
  });
});

Deno.test("tasks/explain.ts refuses bad flags and a movement that does not end at the run", async () => {
  await withTempDir(async (root) => {
    const { from, movement } = await runsAndMovement(root);
    const bad = await task(EXPLAIN, ["--run", from, "--provider", "gpt"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--provider must be one of template, vertex, got gpt/,
    );
    const slow = await task(EXPLAIN, ["--run", from, "--timeout", "9000"]);
    assert.equal(slow.code, 2);
    assert.match(slow.stderr, /--timeout must be above 0 and at most 600/);
    const missing = await task(EXPLAIN, []);
    assert.equal(missing.code, 2);
    const other = await task(EXPLAIN, ["--run", from, "--movement", movement]);
    assert.equal(other.code, 2);
    assert.match(
      other.stderr,
      /the movement ends at 2026-03-31, not at the run's reporting date 2025-12-31/,
    );
    const none = await task(EXPLAIN, ["--run", from, "--movement", root]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /movement\.json: file is missing/);
  });
});

Deno.test("tasks/explain.ts --provider vertex prints the model's checked text, or the template's with the reason", async () => {
  await withTempDir(async (root) => {
    const { to } = await runsAndMovement(root);
    const fake = fakeModel();
    try {
      const r = await task(EXPLAIN, [
        "--run",
        to,
        "--provider",
        "vertex",
        "--model",
        "gemini-test",
      ], fake.env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout.trim(),
        "At 2026-03-31 the expected credit loss is EUR 23.00, 3.38% of the gross carrying amount.",
      );
      assert.match(
        r.stderr,
        /Written by Gemini model gemini-test on Vertex AI/,
      );
      assert.deepEqual(fake.keys, ["test-key-123"]);
    } finally {
      await fake.close();
    }
    // A project but credentials that cannot be loaded: the template, and
    // why, without the model being asked.
    const noAuth = fakeModel();
    try {
      const r = await task(EXPLAIN, [
        "--run",
        to,
        "--provider",
        "vertex",
        "--model",
        "gemini-test",
      ], {
        GOOGLE_CLOUD_PROJECT: "test-project",
        GOOGLE_APPLICATION_CREDENTIALS: `${root}/no-such-key.json`,
        GOOGLE_VERTEX_BASE_URL: noAuth.env.GOOGLE_VERTEX_BASE_URL,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^At 2026-03-31 the expected credit loss on 2/);
      assert.match(
        r.stderr,
        /Warning: Vertex AI model gemini-test: .*no-such-key\.json.*; the template's text is used instead/,
      );
      assert.deepEqual(noAuth.keys, []);
    } finally {
      await noAuth.close();
    }
    const down = fakeModel(500);
    try {
      const r = await task(EXPLAIN, [
        "--run",
        to,
        "--provider",
        "vertex",
        "--model",
        "gemini-test",
      ], down.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^At 2026-03-31 the expected credit loss on 2 facilities/,
      );
      assert.match(
        r.stderr,
        /Warning: Vertex AI model gemini-test: HTTP status 500: .*; the template's text is used instead/,
      );
    } finally {
      await down.close();
    }
  });
});

Deno.test("deno task run with explain.provider vertex in the rules shows the model's narrative in report.html", async () => {
  await withTempDir(async (root) => {
    const rules = `${root}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile("config/sample_rules.yaml")) +
        "\nexplain:\n  provider: vertex\n  model: gemini-test\n  timeout_seconds: 10\n",
    );
    const fake = fakeModel();
    try {
      const r = await task(RUN, [
        "--portfolio",
        "data/sample/portfolio_2025-12-31.parquet",
        "--rules",
        rules,
        "--out",
        `${root}/runs`,
        "--run-id",
        "q4",
      ], fake.env);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await fake.close();
    }
    const n = JSON.parse(
      await Deno.readTextFile(`${root}/runs/q4/narrative.json`),
    );
    assert.equal(n.provider, "vertex");
    assert.equal(n.model, "gemini-test");
    const summary = JSON.parse(
      await Deno.readTextFile(`${root}/runs/q4/summary.json`),
    );
    const ecl = summary.totals.ecl.toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    assert.equal(
      n.text,
      `At 2025-12-31 the expected credit loss is EUR ${ecl}, ${
        (summary.totals.coverage * 100).toFixed(2)
      }% of the gross carrying amount.`,
    );
    const html = await Deno.readTextFile(`${root}/runs/q4/report.html`);
    assert.ok(html.includes(`<p>${n.text}</p>`));
    assert.match(html, /Written by Gemini model gemini-test on Vertex AI/);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${root}/runs/q4/manifest.json`),
    );
    assert.ok("narrative" in manifest.timings_ms);
    assert.equal(
      manifest.inputs.rules.parameters["explain.provider"],
      "vertex",
    );
  });
});

Deno.test("tasks/explain.ts --out keeps an existing file unless --replace, and never writes inside a run or movement folder", async () => {
  await withTempDir(async (root) => {
    const { to, movement } = await runsAndMovement(root);
    const snapshot = `${root}/portfolio.csv`;
    await Deno.writeTextFile(snapshot, "loan_id\nKEEP\n");
    const kept = await task(EXPLAIN, ["--run", to, "--out", snapshot]);
    assert.equal(kept.code, 2, kept.stderr);
    assert.equal(
      kept.stderr.trim(),
      `Cannot write ${snapshot}: the file exists; give --replace to write over it, or another --out`,
    );
    assert.equal(await Deno.readTextFile(snapshot), "loan_id\nKEEP\n");
    const replaced = await task(EXPLAIN, [
      "--run",
      to,
      "--out",
      snapshot,
      "--replace",
    ]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(await Deno.readTextFile(snapshot), /^At 2026-03-31 /);
    // Inside the run folder, or the movement folder: refused with
    // --replace too, and nothing is added there.
    const before = [...Deno.readDirSync(to)].map((e) => e.name).sort();
    const inRun = await task(EXPLAIN, [
      "--run",
      to,
      "--out",
      `${to}/narrative.txt`,
      "--replace",
    ]);
    assert.equal(inRun.code, 2, inRun.stderr);
    assert.match(inRun.stderr, /is the folder of run /);
    assert.deepEqual(
      [...Deno.readDirSync(to)].map((e) => e.name).sort(),
      before,
    );
    const inMovement = await task(EXPLAIN, [
      "--run",
      to,
      "--movement",
      movement,
      "--out",
      `${movement}/narrative.txt`,
    ]);
    assert.equal(inMovement.code, 2, inMovement.stderr);
    assert.match(inMovement.stderr, /it is inside the input .*movement/);
    const s3 = await task(EXPLAIN, ["--run", to, "--out", "s3://book/n.txt"]);
    assert.equal(s3.code, 2, s3.stderr);
    assert.match(
      s3.stderr,
      /^Cannot write s3:\/\/book\/n\.txt: --out takes a local file/,
    );
  });
});

Deno.test("tasks/explain.ts names a failed run and a movement folder given as --run; warns that --model is ignored by the template", async () => {
  await withTempDir(async (root) => {
    const { to, movement } = await runsAndMovement(root);
    const asRun = await task(EXPLAIN, ["--run", movement]);
    assert.equal(asRun.code, 2, asRun.stderr);
    assert.equal(
      asRun.stderr.trim(),
      `--run ${movement} is a movement folder (movement.json), not a run folder: give it as --movement ${movement}, with the later run it compares as --run`,
    );
    // A failed run: the folder a run is moved to when it fails.
    const failed = `${root}/q1.failed`;
    await Deno.mkdir(failed);
    await Deno.writeTextFile(
      `${failed}/manifest.json`,
      JSON.stringify({
        run_id: "q1",
        status: "failed",
        error: "Cannot read portfolio book.csv: line 3: ragged\nmore",
      }),
    );
    const f = await task(EXPLAIN, ["--run", failed]);
    assert.equal(f.code, 2, f.stderr);
    assert.equal(
      f.stderr.trim(),
      `--run ${failed}: the run failed: Cannot read portfolio book.csv: line 3: ragged; it has no results to explain (give a complete run folder)`,
    );
    // A folder that does not exist, even one named like a failed run.
    const absent = `${root}/zzz.failed`;
    const a = await task(EXPLAIN, ["--run", absent]);
    assert.equal(a.code, 2, a.stderr);
    assert.equal(
      a.stderr.trim(),
      `--run ${absent}: no such run folder (or it is empty); give the folder of a complete run`,
    );
    const m = await task(EXPLAIN, ["--run", to, "--model", "gemini-x"]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(
      m.stderr,
      /Warning: --model gemini-x is ignored: the template \(offline\) writes the narrative/,
    );
  });
});
