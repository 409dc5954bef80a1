/**
 * The run server's HTTP app in memory (`app.request()`), over fakes of the
 * queue, registry and metrics (`_app_fakes.ts`): every route, every bad
 * body, the queue's refusals, the files route's allow-list, the OpenAPI
 * document against the routes served, request ids, logs and the one error
 * handler. The auth cases are in `auth_test.ts`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../../lib/errors.ts";
import { projectPath } from "../../lib/project.ts";
import { MOVEMENT_FILES, RUN_FILES } from "../../lib/run_folder/mod.ts";
import { MAX_BODY_BYTES, READYZ_CACHE_MS } from "../../lib/server/app.ts";
import { MAX_ID_LENGTH } from "../../lib/server/fields.ts";
import {
  JobRefusedError,
  type MovementRequest,
  type RunRequest,
} from "../../lib/server/types.ts";
import {
  bearer,
  type Fixture,
  fixture,
  jobRecord,
  postJson,
  token,
} from "./_app_fakes.ts";

/** Runs `body` with a fresh fixture, removed afterwards. */
async function withFixture(
  body: (f: Fixture) => Promise<void>,
  config: Parameters<typeof fixture>[0] = {},
) {
  const f = await fixture(config);
  try {
    await body(f);
  } finally {
    await f.cleanup();
  }
}

/** The `error.message` of a JSON error response, checking its shape and status. */
async function errorOf(res: Response, status: number): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get("Content-Type") ?? "", /^application\/json/);
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(body.error.status, status);
  assert.equal(typeof body.error.message, "string");
  return body.error.message;
}

Deno.test("GET /healthz answers 200 {status: ok} without touching the disk or the parts", async () => {
  await withFixture(async (f) => {
    // Folders that do not exist and parts that throw: liveness ignores them.
    f.config.outDir = "/proc/nonexistent/runs";
    f.config.defaultRules = "/proc/nonexistent/rules.yaml";
    f.registry.list = () => {
      throw new Error("registry touched");
    };
    const res = await f.app.request("/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  });
});

Deno.test("GET /readyz is 200 when the rules load and the output folders are writable, and leaves no probe file", async () => {
  await withFixture(async (f) => {
    const res = await f.app.request("/readyz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ready", reasons: [] });
    assert.deepEqual([...Deno.readDirSync(f.outDir)], []);
    assert.deepEqual([...Deno.readDirSync(f.movementDir)], []);
  });
});

Deno.test("GET /readyz is 503 naming every reason: rules that do not load, an output folder that cannot be written", async () => {
  await withFixture(async (f) => {
    const badRules = join(f.root, "bad_rules.yaml");
    await Deno.writeTextFile(badRules, "scenarios: [1, 2\n");
    const blocker = join(f.root, "a_file");
    await Deno.writeTextFile(blocker, "");
    f.config.defaultRules = badRules;
    f.config.outDir = join(blocker, "runs"); // a folder under a file
    const res = await f.app.request("/readyz");
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, "not ready");
    assert.equal(body.reasons.length, 2, JSON.stringify(body.reasons));
    assert.match(
      body.reasons[0],
      /default rules file .*bad_rules\.yaml does not load/,
    );
    assert.match(
      body.reasons[1],
      /output folder .*a_file\/runs is not writable/,
    );
  });
});

Deno.test("GET /readyz keeps its answer for READYZ_CACHE_MS, then checks again; concurrent probes share one check", async () => {
  let now = 1_000_000;
  const f = await fixture({}, { now: () => now });
  try {
    const outDir = f.config.outDir;
    assert.equal((await f.app.request("/readyz")).status, 200);
    // Broken now (a folder under a file), but within the cache's life the
    // last answer stands.
    const blocker = join(f.root, "a_file");
    await Deno.writeTextFile(blocker, "");
    f.config.outDir = join(blocker, "runs");
    now += READYZ_CACHE_MS - 1;
    assert.equal((await f.app.request("/readyz")).status, 200);
    now += 1;
    const res = await f.app.request("/readyz");
    assert.equal(res.status, 503);
    assert.match((await res.json()).reasons[0], /a_file\/runs is not writable/);
    // Fixed: still 503 until the cache ends.
    f.config.outDir = outDir;
    assert.equal((await f.app.request("/readyz")).status, 503);
    now += READYZ_CACHE_MS;
    // Twenty probes at once make one check (one probe file per output
    // folder) and get the same answer.
    const makeTempFile = Deno.makeTempFile;
    let probes = 0;
    Deno.makeTempFile = (options) => {
      if (options?.prefix?.startsWith(".readyz")) probes++;
      return makeTempFile(options);
    };
    let answers: Response[];
    try {
      answers = await Promise.all(
        Array.from({ length: 20 }, () => f.app.request("/readyz")),
      );
    } finally {
      Deno.makeTempFile = makeTempFile;
    }
    assert.deepEqual(answers.map((r) => r.status), Array(20).fill(200));
    assert.equal(probes, 2);
    assert.deepEqual([...Deno.readDirSync(f.outDir)], []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("GET /metrics renders the metrics after setting the queue depth, with their content type", async () => {
  await withFixture(async (f) => {
    const res = await f.app.request("/metrics");
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("Content-Type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    assert.equal(await res.text(), "ifrs9_jobs_queued 3\n");
    assert.deepEqual(f.metrics.depths, [{ queued: 3, running: 1 }]);
  });
});

Deno.test("every request is observed under its route pattern, never its raw path; unmatched paths share one label", async () => {
  await withFixture(async (f) => {
    const t = await token(["runs:read"]);
    await f.app.request("/runs/some-id", { headers: bearer(t) });
    await f.app.request("/runs/other-id"); // 401: still the route's pattern
    await f.app.request("/no/such/path/123");
    await f.app.request("/healthz");
    assert.deepEqual(
      f.metrics.requests.map((r) => [r.route, r.method, r.status]),
      [
        ["/runs/:id", "GET", 404],
        ["/runs/:id", "GET", 401],
        ["unmatched", "GET", 404],
        ["/healthz", "GET", 200],
      ],
    );
    for (const r of f.metrics.requests) {
      assert.ok(r.seconds >= 0 && r.seconds < 5, `${r.seconds}`);
    }
  });
});

Deno.test("the method label is a standard method or OTHER, and the route label a pattern or unmatched: invented methods and paths make no new series", async () => {
  await withFixture(async (f) => {
    const t = await token(["runs:read"]);
    const invented = ["BREW", "PROPFIND", "X".repeat(200), "patch", "get2"];
    for (const method of invented) {
      for (const path of ["/healthz", "/runs/q4", "/no/such/path", "/mcp"]) {
        await f.app.request(path, { method, headers: bearer(t) });
      }
    }
    for (
      const method of [
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
      ]
    ) {
      await f.app.request("/healthz", { method });
    }
    const methods = new Set(f.metrics.requests.map((r) => r.method));
    assert.deepEqual(
      [...methods].sort(),
      ["DELETE", "GET", "HEAD", "OPTIONS", "OTHER", "PATCH", "POST", "PUT"],
    );
    // Invented methods match no route (/mcp's door answers any method itself).
    const routes = new Set(
      f.metrics.requests.filter((r) => r.method === "OTHER").map((r) =>
        r.route
      ),
    );
    for (const route of routes) assert.match(route, /^(unmatched|\/mcp)$/);
    assert.ok(routes.has("unmatched"));
    // A raw path never becomes a label, whatever the method.
    for (const r of f.metrics.requests) {
      assert.ok(!/q4|no\/such/.test(r.route), r.route);
    }
  });
});

Deno.test("POST /runs queues the run with resolved paths and answers 202 with run_id, status_url and Location", async () => {
  await withFixture(async (f) => {
    const t = await token();
    const res = await f.app.request(
      "/runs",
      postJson({
        portfolio: f.portfolio,
        rules: "config/sample_rules.yaml",
        fx: "config/fx_rates.yaml",
        run_id: "q4-2025",
      }, bearer(t)),
    );
    assert.equal(res.status, 202, await res.clone().text());
    assert.deepEqual(await res.json(), {
      run_id: "q4-2025",
      status_url: "/runs/q4-2025",
    });
    assert.equal(res.headers.get("Location"), "/runs/q4-2025");
    assert.deepEqual(f.queue.submitted, [{
      kind: "run",
      request: {
        portfolio: f.portfolio,
        rules: await Deno.realPath(projectPath("config/sample_rules.yaml")),
        fx: await Deno.realPath(projectPath("config/fx_rates.yaml")),
        runId: "q4-2025",
      },
    }]);
  });
});

Deno.test("POST /runs without rules, fx or run_id: the default rules file and a clock run id with a random suffix", async () => {
  await withFixture(async (f) => {
    const before = Date.now();
    const res = await f.app.request(
      "/runs",
      postJson({ portfolio: f.portfolio }, bearer(await token())),
    );
    assert.equal(res.status, 202);
    const { run_id } = await res.json();
    // The id is the clock's, within the test's own time, then 8 random hex digits.
    const m =
      /^run-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]{8}$/
        .exec(run_id);
    assert.ok(m, run_id);
    const at = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]);
    assert.ok(at >= before && at <= Date.now());
    const request = f.queue.submitted[0].request as RunRequest;
    assert.equal(request.rules, f.config.defaultRules);
    assert.equal("fx" in request, false);
  });
});

Deno.test("20 concurrent POST /runs and POST /movements without an id all get 202 with distinct ids (the queue refuses a taken id)", async () => {
  await withFixture(async (f) => {
    const t = await token();
    // The fake queue refuses a taken id, as the real one does.
    f.queue.submit("run", runRequest(f, "taken"));
    assert.equal(
      (await f.app.request(
        "/runs",
        postJson({ portfolio: f.portfolio, run_id: "taken" }, bearer(t)),
      )).status,
      409,
    );
    const runs = await Promise.all(
      Array.from({ length: 20 }, () =>
        f.app.request(
          "/runs",
          postJson({ portfolio: f.portfolio }, bearer(t)),
        )),
    );
    const runBodies = await Promise.all(runs.map((r) => r.json()));
    assert.deepEqual(
      runs.map((r) => r.status),
      Array(20).fill(202),
      JSON.stringify(runBodies.filter((b) => b.error)),
    );
    const runIds = new Set(runBodies.map((b) => b.run_id));
    assert.equal(runIds.size, 20);
    for (const id of runIds) assert.ok(id.length <= MAX_ID_LENGTH, id);

    for (const id of ["q3", "q4"]) await runFolder(f, id, [RUN_FILES.manifest]);
    const movements = await Promise.all(
      Array.from({ length: 20 }, () =>
        f.app.request(
          "/movements",
          postJson({ from: "q3", to: "q4" }, bearer(t)),
        )),
    );
    const movementBodies = await Promise.all(movements.map((r) => r.json()));
    assert.deepEqual(
      movements.map((r) => r.status),
      Array(20).fill(202),
      JSON.stringify(movementBodies.filter((b) => b.error)),
    );
    const movementIds = new Set(movementBodies.map((b) => b.movement_id));
    assert.equal(movementIds.size, 20);
    for (const id of movementIds) {
      assert.match(id, /^movement-\d{8}T\d{9}Z-[0-9a-f]{8}$/);
    }
    assert.equal(f.queue.submitted.length, 41);
  });
});

Deno.test("POST /runs takes a path relative to the project under a relative data root", async () => {
  const rel = `data/tmp/app-test-${crypto.randomUUID()}`;
  await Deno.mkdir(projectPath(rel), { recursive: true });
  try {
    await Deno.writeTextFile(projectPath(`${rel}/book.csv`), "loan_id\n");
    await withFixture(async (f) => {
      const res = await f.app.request(
        "/runs",
        postJson({ portfolio: `${rel}/book.csv` }, bearer(await token())),
      );
      assert.equal(res.status, 202, await res.clone().text());
      assert.equal(
        (f.queue.submitted[0].request as RunRequest).portfolio,
        await Deno.realPath(projectPath(`${rel}/book.csv`)),
      );
    }, { dataRoots: [rel] });
  } finally {
    await Deno.remove(projectPath(rel), { recursive: true });
  }
});

/** A POST /runs with `init`'s body; returns the error message at `status`. */
async function refusedRun(
  f: Fixture,
  init: RequestInit,
  status = 400,
): Promise<string> {
  const t = await token();
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${t}`);
  const message = await errorOf(
    await f.app.request("/runs", { method: "POST", ...init, headers }),
    status,
  );
  assert.deepEqual(f.queue.submitted, [], "nothing is queued");
  return message;
}

Deno.test("POST /runs refuses a body that is not JSON, empty, or not sent as JSON", async () => {
  await withFixture(async (f) => {
    assert.match(
      await refusedRun(f, postJson("{portfolio: x")),
      /^request body: not valid JSON/,
    );
    assert.match(await refusedRun(f, postJson("")), /^request body: empty/);
    assert.match(
      await refusedRun(f, {
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ portfolio: f.portfolio }),
      }, 415),
      /Content-Type: application\/json, not text\/plain/,
    );
    assert.match(
      await refusedRun(
        f,
        { body: JSON.stringify({ portfolio: f.portfolio }) },
        415,
      ),
      /application\/json/,
    );
  });
});

Deno.test("POST /runs refuses a body over 64 KiB: by Content-Length, by the bytes of a stream, and despite a false Content-Length", async () => {
  await withFixture(async (f) => {
    const big = JSON.stringify({ portfolio: "x".repeat(MAX_BODY_BYTES) });
    // Content-Length declared (as a client sends it).
    assert.match(
      await refusedRun(
        f,
        postJson(big, { "Content-Length": String(big.length) }),
        413,
      ),
      /^request body: larger than 65536 bytes \(64 KiB\)/,
    );
    // No length: a stream, counted while read.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new TextEncoder().encode(big.slice(0, 16 * 1024));
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    assert.match(
      await refusedRun(f, {
        headers: { "Content-Type": "application/json" },
        body: stream,
      }, 413),
      /larger than 65536 bytes/,
    );
    // A length that lies: the bytes decide.
    assert.match(
      await refusedRun(f, postJson(big, { "Content-Length": "20" }), 413),
      /larger than 65536 bytes/,
    );
    // Exactly at the limit is a body like any other (here: a missing file).
    const padded = JSON.stringify({ portfolio: f.portfolio + " ".repeat(10) });
    const atLimit = padded.slice(0, -1) +
      " ".repeat(MAX_BODY_BYTES - padded.length) + "}";
    assert.equal(new TextEncoder().encode(atLimit).length, MAX_BODY_BYTES);
    assert.match(
      await refusedRun(f, postJson(atLimit)),
      /^portfolio: .*no such file/,
    );
  });
});

Deno.test("POST /runs refuses wrong types, a missing field, a body that is not an object, and names unknown fields", async () => {
  await withFixture(async (f) => {
    assert.match(
      await refusedRun(f, postJson({ portfolio: 5 })),
      /^body\.portfolio: .*expected string, received number/,
    );
    assert.match(
      await refusedRun(f, postJson({ portfolio: f.portfolio, rules: ["a"] })),
      /^body\.rules: .*expected string/,
    );
    assert.match(
      await refusedRun(f, postJson({ rules: "config/ifrs9_rules.yaml" })),
      /^body\.portfolio: /,
    );
    assert.match(
      await refusedRun(f, postJson([f.portfolio])),
      /^body: .*expected object/,
    );
    assert.match(await refusedRun(f, postJson("null")), /^body: /);
    assert.equal(
      await refusedRun(
        f,
        postJson({ portfolio: f.portfolio, foo: 1, "run id": "x" }),
      ),
      'body: unknown fields "foo", "run id"',
    );
  });
});

Deno.test("POST /runs refuses paths outside the roots: '..', absolute, a symlink out, other schemes, s3, NUL, missing, a folder", async () => {
  await withFixture(async (f) => {
    const outside = await Deno.makeTempFile({ prefix: "outside-" });
    try {
      await Deno.symlink(outside, join(f.root, "link.csv"));
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ portfolio: "../etc/passwd" }, /^portfolio: has a '\.\.' segment/],
        [
          { portfolio: `${f.root}/../x/book.csv` },
          /^portfolio: has a '\.\.' segment/,
        ],
        [
          { portfolio: "/etc/hostname" },
          /^portfolio: \/etc\/hostname is outside the allowed folders/,
        ],
        [
          { portfolio: join(f.root, "link.csv") },
          /^portfolio: .*link\.csv leads through a symbolic link outside the allowed folders/,
        ],
        [
          { portfolio: "http://example.com/book.csv" },
          /^portfolio: .*the scheme http: is not accepted/,
        ],
        [
          { portfolio: `file://${f.portfolio}` },
          /^portfolio: .*the scheme file: is not accepted/,
        ],
        [
          { portfolio: "s3://bank/book.csv" },
          /^portfolio: s3:\/\/bank\/book\.csv: object storage is not configured/,
        ],
        [
          { portfolio: `${f.portfolio}\u0000.csv` },
          /^portfolio: contains a NUL byte/,
        ],
        [
          { portfolio: join(f.root, "nope.csv") },
          /^portfolio: .*nope\.csv: no such file/,
        ],
        [
          { portfolio: f.outDir },
          /^portfolio: .*runs is a folder; give a file/,
        ],
        [
          { portfolio: f.portfolio, rules: "/etc/passwd" },
          /^rules: \/etc\/passwd is outside/,
        ],
        [
          {
            portfolio: f.portfolio,
            rules: "config/../config/ifrs9_rules.yaml",
          },
          /^rules: has a '\.\.' segment/,
        ],
        [
          { portfolio: f.portfolio, fx: "config/nope.yaml" },
          /^fx: .*no such file/,
        ],
        // Rules roots hold rules and FX tables, not portfolios.
        [
          { portfolio: "config/ifrs9_rules.yaml" },
          /^portfolio: config\/ifrs9_rules\.yaml is outside the allowed folders/,
        ],
      ];
      for (const [body, expected] of cases) {
        assert.match(
          await refusedRun(f, postJson(body)),
          expected,
          JSON.stringify(body),
        );
      }
    } finally {
      await Deno.remove(outside);
    }
  });
});

Deno.test("POST /runs refuses a malformed run_id", async () => {
  await withFixture(async (f) => {
    for (
      const id of [
        "../x",
        ".hidden",
        "a b",
        "a/b",
        "",
        "q4.failed",
        "x".repeat(129),
      ]
    ) {
      assert.match(
        await refusedRun(f, postJson({ portfolio: f.portfolio, run_id: id })),
        /^body\.run_id: /,
        id,
      );
    }
  });
});

Deno.test("POST /runs passes the queue's refusals on: 409 for an id in use, 429 with Retry-After for a full queue, 503 when stopping", async () => {
  await withFixture(async (f) => {
    const t = await token();
    const post = () =>
      f.app.request("/runs", postJson({ portfolio: f.portfolio }, bearer(t)));
    f.queue.refuse = new JobRefusedError(
      409,
      "run q4 exists: choose another run_id",
    );
    assert.equal(
      await errorOf(await post(), 409),
      "run q4 exists: choose another run_id",
    );
    f.queue.refuse = new JobRefusedError(429, "the queue is full (10 waiting)");
    const full = await post();
    assert.equal(full.headers.get("Retry-After"), "30");
    assert.equal(await errorOf(full, 429), "the queue is full (10 waiting)");
    f.queue.refuse = new JobRefusedError(503, "the server is shutting down");
    const stopping = await post();
    assert.equal(stopping.headers.get("Retry-After"), "30");
    assert.equal(await errorOf(stopping, 503), "the server is shutting down");
  });
});

Deno.test("one error handler: a UserError of kind input is 400, busy 409, check 500; anything else 500 with only the request id", async () => {
  await withFixture(async (f) => {
    const t = await token();
    const post = (id?: string) =>
      f.app.request(
        "/runs",
        postJson(
          { portfolio: f.portfolio },
          { ...bearer(t), ...(id ? { "X-Request-Id": id } : {}) },
        ),
      );
    f.queue.refuse = new UserError("input", "rules.yaml: key x: wrong");
    assert.equal(await errorOf(await post(), 400), "rules.yaml: key x: wrong");
    f.queue.refuse = new UserError(
      "busy",
      "run q4 is being written by process 12",
    );
    assert.equal(
      await errorOf(await post(), 409),
      "run q4 is being written by process 12",
    );
    f.queue.refuse = new UserError("check", "reject rate above the limit");
    assert.match(await errorOf(await post(), 500), /^internal error/);
    f.queue.refuse = new TypeError("secret detail: x is undefined");
    const res = await post("req-500");
    assert.equal(
      await errorOf(res, 500),
      "internal error; the server log has the details under request id req-500",
    );
    const logged = f.lines.map((l) => JSON.parse(l)).find((l) =>
      l.event === "unhandled_error" && l.request_id === "req-500"
    );
    assert.ok(logged, "the error is logged");
    assert.match(logged.error.stack, /TypeError: secret detail/);
    assert.equal(logged.route, "/runs");
  });
});

/** Writes a finished run folder `id` under the fixture's outDir. */
async function runFolder(
  f: Fixture,
  id: string,
  files = Object.values(RUN_FILES),
) {
  const dir = join(f.outDir, id);
  await Deno.mkdir(dir, { recursive: true });
  for (const name of files) {
    await Deno.writeTextFile(join(dir, name), `content of ${name}`);
  }
  return dir;
}

/** A run's request as the queue keeps it. */
const runRequest = (f: Fixture, runId: string): RunRequest => ({
  portfolio: f.portfolio,
  rules: f.config.defaultRules,
  runId,
});

Deno.test("GET /runs lists the runs newest first without summaries, movements left out, at most limit", async () => {
  await withFixture(async (f) => {
    const summary = {
      run_id: "a",
    } as unknown as import("../../lib/mod.ts").Summary;
    await f.registry.put(
      jobRecord("a", "run", runRequest(f, "a"), {
        status: "succeeded",
        summary,
      }),
    );
    await f.registry.put(
      jobRecord("m", "movement", { from: "x", to: "y", movementId: "m" }),
    );
    await f.registry.put(
      jobRecord("b", "run", runRequest(f, "b"), { status: "running" }),
    );
    const t = await token(["runs:read"]);
    const res = await f.app.request("/runs", { headers: bearer(t) });
    assert.equal(res.status, 200);
    const { runs } = await res.json();
    assert.deepEqual(runs.map((r: { id: string }) => r.id), ["b", "a"]);
    assert.equal("summary" in runs[1], false);
    assert.equal(runs[0].status, "running");
    const limited =
      await (await f.app.request("/runs?limit=1", { headers: bearer(t) }))
        .json();
    assert.deepEqual(limited.runs.map((r: { id: string }) => r.id), ["b"]);
    assert.match(
      await errorOf(
        await f.app.request("/runs?limit=0", { headers: bearer(t) }),
        400,
      ),
      /^query\.limit: /,
    );
  });
});

Deno.test("GET /runs/:id gives the record with its summary; 404 names an unknown id, and a movement is not a run", async () => {
  await withFixture(async (f) => {
    const summary = {
      run_id: "q4",
    } as unknown as import("../../lib/mod.ts").Summary;
    await f.registry.put(jobRecord("q4", "run", runRequest(f, "q4"), {
      status: "succeeded",
      summary,
      steps: [{ step: "validate", ms: 12 }],
    }));
    await f.registry.put(
      jobRecord("mv", "movement", { from: "x", to: "y", movementId: "mv" }),
    );
    const t = await token(["runs:read"]);
    const res = await f.app.request("/runs/q4", { headers: bearer(t) });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.id, "q4");
    assert.deepEqual(body.summary, { run_id: "q4" });
    assert.deepEqual(body.steps, [{ step: "validate", ms: 12 }]);
    assert.equal(
      await errorOf(
        await f.app.request("/runs/q5", { headers: bearer(t) }),
        404,
      ),
      'no run "q5"',
    );
    assert.equal(
      await errorOf(
        await f.app.request("/runs/mv", { headers: bearer(t) }),
        404,
      ),
      'no run "mv"',
    );
  });
});

Deno.test("GET /runs/:id/report serves report.html; 404 while the run has no folder, and for a failed run without a report", async () => {
  await withFixture(async (f) => {
    const dir = await runFolder(f, "q4");
    await f.registry.put(
      jobRecord("q4", "run", runRequest(f, "q4"), { status: "succeeded", dir }),
    );
    await f.registry.put(
      jobRecord("q5", "run", runRequest(f, "q5"), { status: "running" }),
    );
    const failed = await runFolder(f, "q6.failed", [RUN_FILES.manifest]);
    await f.registry.put(
      jobRecord("q6", "run", runRequest(f, "q6"), {
        status: "failed",
        dir: failed,
      }),
    );
    const t = await token(["runs:read"]);
    const res = await f.app.request("/runs/q4/report", { headers: bearer(t) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "text/html; charset=utf-8");
    assert.equal(await res.text(), "content of report.html");
    assert.equal(
      await errorOf(
        await f.app.request("/runs/q5/report", { headers: bearer(t) }),
        404,
      ),
      "run q5 has no report.html (status running, no folder yet)",
    );
    assert.equal(
      await errorOf(
        await f.app.request("/runs/q6/report", { headers: bearer(t) }),
        404,
      ),
      "run q6 has no report.html (status failed)",
    );
    // A failed run's manifest says why: it is served.
    const manifest = await f.app.request("/runs/q6/files/manifest.json", {
      headers: bearer(t),
    });
    assert.equal(await manifest.text(), "content of manifest.json");
  });
});

Deno.test("GET /runs/:id/files/:name streams each file of the layout with its content type, and nothing else", async () => {
  await withFixture(async (f) => {
    const dir = await runFolder(f, "q4");
    await Deno.writeTextFile(join(dir, "notes.txt"), "not in the layout");
    await Deno.writeTextFile(join(f.outDir, "secret.json"), "{}");
    await f.registry.put(
      jobRecord("q4", "run", runRequest(f, "q4"), { status: "succeeded", dir }),
    );
    const t = await token(["runs:read"]);
    const types: Record<string, string> = {
      ".parquet": "application/vnd.apache.parquet",
      ".json": "application/json; charset=utf-8",
      ".html": "text/html; charset=utf-8",
    };
    for (const name of Object.values(RUN_FILES)) {
      const res = await f.app.request(`/runs/q4/files/${name}`, {
        headers: bearer(t),
      });
      assert.equal(res.status, 200, name);
      assert.equal(
        res.headers.get("Content-Type"),
        types[name.slice(name.lastIndexOf("."))],
      );
      const text = `content of ${name}`;
      assert.equal(res.headers.get("Content-Length"), String(text.length));
      assert.equal(await res.text(), text);
    }
    // HEAD: the headers alone (the file is not left open).
    const head = await f.app.request("/runs/q4/files/summary.json", {
      method: "HEAD",
      headers: bearer(t),
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("Content-Length"), "23");
    assert.equal(await head.text(), "");
    for (
      const name of [
        "notes.txt",
        "..%2Fsecret.json",
        "%2e%2e%2fsecret.json",
        "..%5Csecret.json",
        "summary.json%00",
        "SUMMARY.JSON",
      ]
    ) {
      const message = await errorOf(
        await f.app.request(`/runs/q4/files/${name}`, { headers: bearer(t) }),
        404,
      );
      assert.match(
        message,
        /^run q4 has no file .*; its files are loan_results\.parquet, /,
        name,
      );
    }
    // A path with more segments matches no route.
    await errorOf(
      await f.app.request("/runs/q4/files/../../secret.json", {
        headers: bearer(t),
      }),
      404,
    );
    // A link planted in the folder in place of a file is not followed.
    await Deno.remove(join(dir, RUN_FILES.summary));
    await Deno.symlink(
      join(f.outDir, "secret.json"),
      join(dir, RUN_FILES.summary),
    );
    assert.equal(
      await errorOf(
        await f.app.request("/runs/q4/files/summary.json", {
          headers: bearer(t),
        }),
        404,
      ),
      "run q4 has no summary.json (status succeeded)",
    );
  });
});

Deno.test("the files routes serve only from inside the output folders: a record whose folder lies elsewhere, or links elsewhere, is refused", async () => {
  await withFixture(async (f) => {
    const t = await token(["runs:read"]);
    // A folder outside the output folder, holding a file of the layout.
    const elsewhere = join(f.root, "elsewhere");
    await Deno.mkdir(elsewhere);
    await Deno.writeTextFile(join(elsewhere, RUN_FILES.summary), "secret");
    await Deno.writeTextFile(join(elsewhere, MOVEMENT_FILES.json), "secret");
    await Deno.symlink(elsewhere, join(f.outDir, "linked"));
    await Deno.mkdir(f.movementDir);
    const cases: [string, string, string | null][] = [
      ["outside", "run", elsewhere],
      ["dotdot", "run", join(f.outDir, "..", "elsewhere")],
      ["linked", "run", join(f.outDir, "linked")],
      ["relative", "run", "elsewhere"],
      // The movement folder is not the runs' folder, and the reverse.
      ["crossed", "movement", join(f.outDir, "linked")],
    ];
    for (const [id, kind, dir] of cases) {
      await f.registry.put(
        jobRecord(id, kind as "run", runRequest(f, id), {
          status: "succeeded",
          dir,
        }),
      );
      const file = kind === "run" ? RUN_FILES.summary : MOVEMENT_FILES.json;
      const res = await f.app.request(`/${kind}s/${id}/files/${file}`, {
        headers: bearer(t),
      });
      const message = await errorOf(res, 404);
      assert.match(message, new RegExp(`^${kind} ${id} has no ${file} `), id);
      assert.ok(!message.includes(f.root), message);
    }
    const warnings = f.lines.map((l) => JSON.parse(l)).filter((l) =>
      l.event === "job_folder_outside"
    );
    assert.equal(warnings.length, cases.length);
    // A run folder inside the output folder, even through a link there
    // that stays inside, is served.
    const dir = await runFolder(f, "q4");
    await Deno.symlink(dir, join(f.outDir, "q4-link"));
    await f.registry.put(
      jobRecord("q4l", "run", runRequest(f, "q4l"), {
        status: "succeeded",
        dir: join(f.outDir, "q4-link"),
      }),
    );
    const ok = await f.app.request(`/runs/q4l/files/${RUN_FILES.summary}`, {
      headers: bearer(t),
    });
    assert.equal(await ok.text(), `content of ${RUN_FILES.summary}`);
  });
});

Deno.test("the files routes never serve a file swapped for a link between its check and its opening", async () => {
  await withFixture(async (f) => {
    const t = await token(["runs:read"]);
    const dir = await runFolder(f, "q4");
    const secret = join(f.root, "secret.json");
    await Deno.writeTextFile(secret, "SECRET");
    await f.registry.put(
      jobRecord("q4", "run", runRequest(f, "q4"), { status: "succeeded", dir }),
    );
    const target = join(dir, RUN_FILES.summary);
    // Swaps the file for a link to a file outside and back, each swap one
    // atomic rename, while the requests run.
    let stop = false;
    const swapper = (async () => {
      for (let n = 0; !stop; n++) {
        const next = join(dir, "next.tmp");
        if (n % 2 === 0) await Deno.writeTextFile(next, "plain");
        else await Deno.symlink(secret, next);
        await Deno.rename(next, target);
      }
    })();
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 400; i++) {
        const res = await f.app.request(`/runs/q4/files/${RUN_FILES.summary}`, {
          headers: bearer(t),
        });
        seen.add(`${res.status} ${await res.text()}`);
      }
    } finally {
      stop = true;
      await swapper;
    }
    assert.ok(
      ![...seen].some((s) => s.includes("SECRET")),
      [...seen].join("\n"),
    );
  });
});

Deno.test("POST /movements takes run ids of the server's runs or run folders under a data root: 202 with movement_id and status_url", async () => {
  await withFixture(async (f) => {
    const q3 = await runFolder(f, "q3");
    const q4 = await runFolder(f, "q4");
    const t = await token();
    const res = await f.app.request(
      "/movements",
      postJson({ from: "q3", to: q4, movement_id: "q3-q4" }, bearer(t)),
    );
    assert.equal(res.status, 202, await res.clone().text());
    assert.deepEqual(await res.json(), {
      movement_id: "q3-q4",
      status_url: "/movements/q3-q4",
    });
    assert.equal(res.headers.get("Location"), "/movements/q3-q4");
    assert.deepEqual(f.queue.submitted, [{
      kind: "movement",
      request: { from: q3, to: q4, movementId: "q3-q4" },
    }]);
    const second = await f.app.request(
      "/movements",
      postJson({ from: "q3", to: "q4" }, bearer(t)),
    );
    assert.equal(second.status, 202);
    assert.match(
      (await second.json()).movement_id,
      /^movement-\d{8}T\d{9}Z-[0-9a-f]{8}$/,
    );
    assert.deepEqual(
      (f.queue.submitted[1].request as MovementRequest).from,
      q3,
    );
  });
});

Deno.test("POST /movements refuses a missing run, a folder that is not a run, paths outside the roots, unknown fields and bad ids", async () => {
  await withFixture(async (f) => {
    await runFolder(f, "q4");
    await Deno.mkdir(join(f.root, "empty"));
    const t = await token();
    const refused = async (body: unknown) => {
      const message = await errorOf(
        await f.app.request("/movements", postJson(body, bearer(t))),
        400,
      );
      assert.deepEqual(f.queue.submitted, []);
      return message;
    };
    assert.match(
      await refused({ from: "q9", to: "q4" }),
      /^from: no run q9 in .*runs \(.*no such folder\)/,
    );
    assert.match(
      await refused({ from: "q4", to: join(f.root, "empty") }),
      /^to: .*empty is not a run folder \(it has no manifest\.json\)/,
    );
    assert.match(
      await refused({ from: "q4", to: "/tmp" }),
      /^to: \/tmp is outside the allowed folders/,
    );
    assert.match(
      await refused({ from: "q4", to: "../q4" }),
      /^to: has a '\.\.' segment/,
    );
    assert.match(
      await refused({ from: ".hidden", to: "q4" }),
      /^from: ".hidden" is not a run id/,
    );
    assert.match(
      await refused({ from: "q4", to: "s3://bank/runs/q4" }),
      /^to: .*object storage is not configured/,
    );
    assert.equal(
      await refused({ from: "q4", to: "q4", extra: true }),
      'body: unknown field "extra"',
    );
    assert.match(
      await refused({ from: "q4", to: "q4", movement_id: "a/b" }),
      /^body\.movement_id: /,
    );
    assert.match(await refused({ from: "q4" }), /^body\.to: /);
  });
});

Deno.test("GET /movements, /movements/:id and /movements/:id/files/:name", async () => {
  await withFixture(async (f) => {
    const dir = join(f.movementDir, "mv");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, MOVEMENT_FILES.html), "<p>movement</p>");
    await f.registry.put(
      jobRecord("mv", "movement", { from: "a", to: "b", movementId: "mv" }, {
        status: "succeeded",
        dir,
      }),
    );
    await f.registry.put(jobRecord("q4", "run", runRequest(f, "q4")));
    const t = await token(["runs:read"]);
    const list =
      await (await f.app.request("/movements", { headers: bearer(t) })).json();
    assert.deepEqual(list.movements.map((m: { id: string }) => m.id), ["mv"]);
    const one = await f.app.request("/movements/mv", { headers: bearer(t) });
    assert.equal((await one.json()).status, "succeeded");
    assert.equal(
      await errorOf(
        await f.app.request("/movements/q4", { headers: bearer(t) }),
        404,
      ),
      'no movement "q4"',
    );
    const page = await f.app.request("/movements/mv/files/movement.html", {
      headers: bearer(t),
    });
    assert.equal(page.headers.get("Content-Type"), "text/html; charset=utf-8");
    assert.equal(await page.text(), "<p>movement</p>");
    assert.match(
      await errorOf(
        await f.app.request("/movements/mv/files/report.html", {
          headers: bearer(t),
        }),
        404,
      ),
      /^movement mv has no file "report\.html"; its files are movement\.json/,
    );
  });
});

/** `/runs/:id` as the document writes it, `/runs/{id}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

Deno.test("the OpenAPI document describes exactly the routes the app serves, each with its auth and error responses", async () => {
  await withFixture(async (f) => {
    const res = await f.app.request("/openapi.json");
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    const documented = new Set<string>();
    for (
      const [path, item] of Object.entries(
        doc.paths as Record<string, Record<string, unknown>>,
      )
    ) {
      for (const method of Object.keys(item)) {
        documented.add(`${method.toUpperCase()} ${path}`);
      }
    }
    // Served: every route that is not a middleware pattern (those end in *).
    const served = new Set<string>();
    for (const r of f.app.routes) {
      if (r.path.endsWith("*")) continue;
      const path = openApiPath(r.path);
      if (r.method === "ALL") {
        // A sub-app answering any method (the MCP door): documented by path.
        assert.ok(
          [...documented].some((d) => d.endsWith(` ${path}`)),
          `${path} (any method) is not in the document`,
        );
        for (const d of documented) if (d.endsWith(` ${path}`)) served.add(d);
      } else {
        served.add(`${r.method} ${path}`);
      }
    }
    const mcpDocumented = [...documented].filter((d) => d.endsWith(" /mcp"));
    const mcpServed = f.app.routes.filter((r) =>
      r.path === "/mcp" || r.path === "/mcp/"
    );
    assert.ok(mcpServed.length > 0, "the MCP door is mounted");
    if (!mcpServed.some((r) => r.method === "ALL")) {
      for (const d of mcpDocumented) served.add(d); // checked below by method
      assert.deepEqual(
        new Set(mcpServed.map((r) => r.method)),
        new Set(mcpDocumented.map((d) => d.split(" ")[0])),
        "the /mcp methods served and documented",
      );
    }
    assert.deepEqual([...served].sort(), [...documented].sort());
    for (
      const expected of [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
        "GET /docs",
        "POST /runs",
        "GET /runs",
        "GET /runs/{id}",
        "GET /runs/{id}/report",
        "GET /runs/{id}/files/{name}",
        "POST /movements",
        "GET /movements",
        "GET /movements/{id}",
        "GET /movements/{id}/files/{name}",
        "POST /mcp",
      ]
    ) assert.ok(documented.has(expected), expected);
    // Auth: the bearer scheme on every route under /runs, /movements, /mcp, none elsewhere.
    assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
    for (
      const [path, item] of Object.entries(
        doc.paths as Record<
          string,
          Record<
            string,
            { security?: unknown; responses: Record<string, unknown> }
          >
        >,
      )
    ) {
      for (const [method, op] of Object.entries(item)) {
        const needsAuth = /^\/(runs|movements|mcp)/.test(path);
        const scope = method === "get" && path !== "/mcp"
          ? "runs:read"
          : path === "/mcp"
          ? "runs:read"
          : "runs:write";
        assert.deepEqual(
          op.security,
          needsAuth ? [{ bearer: [scope] }] : undefined,
          `${method} ${path}`,
        );
        const statuses = Object.keys(op.responses);
        assert.ok(statuses.includes("500"), `${method} ${path}: 500`);
        if (needsAuth) {
          for (const s of ["401", "403", "429"]) {
            assert.ok(statuses.includes(s), `${method} ${path}: ${s}`);
          }
        }
      }
    }
    // The request schemas are the validating ones: strict, with the fields.
    const runRequest = doc.components.schemas.RunRequest;
    assert.deepEqual(Object.keys(runRequest.properties).sort(), [
      "fx",
      "portfolio",
      "rules",
      "run_id",
    ]);
    assert.deepEqual(runRequest.required, ["portfolio"]);
    assert.equal(runRequest.additionalProperties, false);
  });
});

Deno.test("GET /docs lists every route of the document on an escaped page", async () => {
  await withFixture(async (f) => {
    const res = await f.app.request("/docs");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("Content-Type") ?? "", /^text\/html/);
    const html = await res.text();
    const doc = await (await f.app.request("/openapi.json")).json();
    for (const path of Object.keys(doc.paths)) {
      assert.ok(html.includes(`<td>${path}</td>`), path);
    }
    assert.match(html, /Content-Security-Policy/);
    assert.doesNotMatch(html, /<script/);
    // Text from the document is escaped: §35H stays text, & becomes &amp;.
    assert.match(html, /IFRS 7 §35H-§35I/);
  });
});

Deno.test("the request id is echoed (the client's when safe, else a new one) and logged with one line per request, with the subject", async () => {
  await withFixture(async (f) => {
    const t = await token(["runs:read"], "scheduler");
    const mine = await f.app.request("/runs", {
      headers: { ...bearer(t), "X-Request-Id": "abc-123" },
    });
    assert.equal(mine.headers.get("X-Request-Id"), "abc-123");
    const unsafe = await f.app.request("/healthz", {
      headers: { "X-Request-Id": "<script>" },
    });
    const generated = unsafe.headers.get("X-Request-Id") ?? "";
    assert.match(generated, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    await f.app.request("/nowhere");
    const lines = f.lines.map((l) => JSON.parse(l)).filter((l) =>
      l.event === "request"
    );
    assert.equal(lines.length, 3);
    const [a, b, c] = lines;
    assert.deepEqual(
      { ...a, time: undefined, ms: undefined },
      {
        time: undefined,
        level: "info",
        event: "request",
        request_id: "abc-123",
        method: "GET",
        route: "/runs",
        status: 200,
        ms: undefined,
        subject: "scheduler",
      },
    );
    assert.ok(typeof a.ms === "number" && a.ms >= 0);
    assert.ok(!isNaN(Date.parse(a.time)));
    assert.equal(b.request_id, generated);
    assert.equal(b.subject, null);
    assert.equal(c.route, "unmatched");
    assert.equal(c.status, 404);
  });
});

Deno.test("an unknown route is a JSON 404 naming the method and path", async () => {
  await withFixture(async (f) => {
    assert.equal(
      await errorOf(await f.app.request("/nope", { method: "DELETE" }), 404),
      "no route DELETE /nope; GET /docs lists the routes",
    );
  });
});

Deno.test("POST /runs refuses a rules file whose plugin module lies outside plugins/ and the rules roots, before queueing; a shipped plugin is accepted", async () => {
  await withFixture(async (f) => {
    const sample = await Deno.readTextFile(
      projectPath("config/sample_rules.yaml"),
    );
    const auth = bearer(await token());
    // A module a client could have placed in a data folder.
    await Deno.writeTextFile(
      join(f.root, "evil.ts"),
      "export default () => ({ name: 'evil' });\n",
    );
    await Deno.writeTextFile(
      join(f.root, "evil_rules.yaml"),
      `${sample}\nplugins:\n  - module: ./evil.ts\n`,
    );
    const refused = await f.app.request(
      "/runs",
      postJson({
        portfolio: f.portfolio,
        rules: join(f.root, "evil_rules.yaml"),
      }, auth),
    );
    assert.equal(refused.status, 400);
    assert.match(
      (await refused.json()).error.message,
      /^rules: plugins\[0\]\.module: .*outside/,
    );
    assert.equal(f.queue.submitted.length, 0);
    const shipped = projectPath("plugins/star_schema.ts");
    await Deno.writeTextFile(
      join(f.root, "ok_rules.yaml"),
      `${sample}\nplugins:\n  - module: ${shipped}\n    options: {out: ${f.root}/star}\n`,
    );
    const accepted = await f.app.request(
      "/runs",
      postJson(
        { portfolio: f.portfolio, rules: join(f.root, "ok_rules.yaml") },
        auth,
      ),
    );
    assert.equal(accepted.status, 202, await accepted.text());
  });
});
