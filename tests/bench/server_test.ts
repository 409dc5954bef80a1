/**
 * Tests of the server load benchmark (bench/server.ts): its percentile and
 * port reading, and a tiny bounded run of the real thing (the server in a
 * child process on a loopback port, a 2,000-loan run, 200 requests at
 * concurrency 10) with no errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  benchServer,
  listeningPort,
  LOAD_ROUTES,
  percentile,
} from "../../bench/server.ts";
import { writePortfolio } from "../run/_portfolio.ts";

Deno.test("percentile() is the nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentile(values, 0.5), 50);
  assert.equal(percentile(values, 0.99), 99);
  assert.equal(percentile(values, 1), 100);
  assert.equal(percentile([7], 0.99), 7);
  // 3 values: rank ceil(0.5 * 3) = 2, ceil(0.99 * 3) = 3.
  assert.equal(percentile([1, 2, 30], 0.5), 2);
  assert.equal(percentile([1, 2, 30], 0.99), 30);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});

Deno.test("listeningPort() reads the port from a listening line and nothing else", () => {
  assert.equal(
    listeningPort('{"level":"info","event":"listening","port":41234}'),
    41234,
  );
  assert.equal(listeningPort("Listening on http://127.0.0.1:8080/"), 8080);
  assert.equal(
    listeningPort('{"level":"info","event":"request","port":80,"status":200}'),
    null,
  );
  assert.equal(listeningPort("GET http://127.0.0.1:9/healthz 200"), null);
  assert.equal(listeningPort("{not json"), null);
});

Deno.test(
  "benchServer(): the probe beside one 2,000-loan run and 200 requests at concurrency 10 beside another, no errors",
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "bench-server-test-" });
    try {
      const portfolio = writePortfolio(`${tmp}/book.parquet`, 2000);
      const progress: string[] = [];
      const r = await benchServer({
        portfolio,
        requests: 200,
        concurrency: 10,
        runTimeoutSeconds: 300,
        log: (line) => progress.push(line),
      });
      const { probe, load } = r;
      // The probe: one /healthz at a time for as long as the run ran.
      assert.equal(probe.errors, 0);
      assert.ok(probe.requests >= 1);
      assert.ok(
        0 < probe.p50Ms && probe.p50Ms <= probe.p99Ms &&
          probe.p99Ms <= probe.maxMs,
      );
      // The load.
      assert.equal(load.errors, 0, load.errorSamples.join("; "));
      assert.equal(load.requests, 200);
      assert.equal(load.concurrency, 10);
      assert.deepEqual(load.byRoute.map((x) => x.route), [...LOAD_ROUTES]);
      // Spread in turn: 67, 67, 66.
      assert.deepEqual(load.byRoute.map((x) => x.requests), [67, 67, 66]);
      for (const x of load.byRoute) {
        assert.ok(0 < x.p50Ms && x.p50Ms <= x.p99Ms && x.p99Ms <= x.maxMs);
      }
      assert.ok(
        Math.abs(load.requestsPerSecond - 200 / load.seconds) < 1e-9,
      );
      assert.ok(load.overlap >= 0 && load.overlap <= 1);
      // Both runs computed the whole book; the server stopped cleanly.
      for (const run of [probe.run, load.run]) {
        assert.equal(run.status, "succeeded");
        assert.equal(run.loans, 2000);
        assert.ok(run.seconds !== null && run.seconds > 0);
      }
      assert.notEqual(probe.run.id, load.run.id);
      assert.equal(r.serverExitCode, 0);
      assert.match(
        progress[0],
        /^server listening on http:\/\/127\.0\.0\.1:\d+$/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);

Deno.test("benchServer() says why when a run is refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "bench-server-test-" });
  try {
    // A portfolio that does not exist: the server refuses it (400).
    await assert.rejects(
      benchServer({ portfolio: `${tmp}/missing.parquet`, requests: 1 }),
      /POST \/runs did not accept the run of .*missing\.parquet: 400/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
