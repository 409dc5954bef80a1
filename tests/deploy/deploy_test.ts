/**
 * The schedulers that run the quarter-end close (`deno task close`,
 * deploy/README.md), checked as far as the tools here allow: the
 * Kubernetes CronJob against a zod schema of the batch/v1 fields it uses
 * (no cluster or kubeconform here), the Airflow DAG compiled and read with
 * Python's `ast` and run against stand-ins (Airflow is not installed: no
 * PyPI), the systemd units with `systemd-analyze verify`. Each scheduler's
 * command is run with a fake `deno` and a fixed "today" to see the exact
 * arguments the close gets, and the three schedules are compared instant
 * by instant (cron-parser for the cron expressions, `systemd-analyze
 * calendar` for the timer).
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { CronExpressionParser } from "cron-parser";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CRONJOB = join(ROOT, "deploy/kubernetes/close-cronjob.yaml");
const DAG = join(ROOT, "deploy/airflow/ifrs9_close_dag.py");
const SERVICE = join(ROOT, "deploy/systemd/ifrs9-close.service");
const TIMER = join(ROOT, "deploy/systemd/ifrs9-close.timer");
const CONFIG = "config/close.yaml";

/** The arguments every scheduler must give `deno` for reporting date `d`. */
const closeArgs = (d: string) => [
  "task",
  "close",
  "--config",
  CONFIG,
  "--date",
  d,
  "--out",
  "data/close",
];

/** "Today" -> the quarter-end it closes, worked out by hand. */
const QUARTER_ENDS: [string, string][] = [
  ["2027-01-01", "2026-12-31"],
  ["2027-02-15", "2026-12-31"],
  ["2027-03-31", "2026-12-31"],
  ["2027-04-01", "2027-03-31"],
  ["2027-07-01", "2027-06-30"],
  ["2027-10-01", "2027-09-30"],
  ["2027-12-31", "2027-09-30"],
];

/** The next 8 firings after 2026-11-30, by hand: 06:00 UTC, 1st of each quarter. */
const FIRINGS = [
  "2027-01-01T06:00:00.000Z",
  "2027-04-01T06:00:00.000Z",
  "2027-07-01T06:00:00.000Z",
  "2027-10-01T06:00:00.000Z",
  "2028-01-01T06:00:00.000Z",
  "2028-04-01T06:00:00.000Z",
  "2028-07-01T06:00:00.000Z",
  "2028-10-01T06:00:00.000Z",
];
const BASE = "2026-11-30T00:00:00Z";

// ---------------------------------------------------------------------------
// Cron expressions: exactly 5 fields (Kubernetes and Airflow's form;
// cron-parser also takes a 6th seconds field and reads 4 as something
// else), each field within range (cron-parser).

/** Why `expr` is not a valid 5-field cron expression, or undefined. */
function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} fields, not 5`;
  try {
    CronExpressionParser.parse(expr, { tz: "UTC" });
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** The next `n` instants of a 5-field cron expression after `base`, UTC. */
function cronFirings(expr: string, n: number, base = BASE): string[] {
  const it = CronExpressionParser.parse(expr, { currentDate: base, tz: "UTC" });
  return Array.from({ length: n }, () => it.next().toISOString()!);
}

// ---------------------------------------------------------------------------
// The batch/v1 CronJob fields the manifest uses (strict: an unknown or
// misspelt key is refused, as `kubectl apply --validate=strict` would).

const dnsName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const quantity = z.string().regex(/^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/);
const metadata = z.strictObject({
  name: dnsName.optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
const container = z.strictObject({
  name: dnsName,
  image: z.string().min(1),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
  workingDir: z.string().startsWith("/").optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(z.strictObject({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    value: z.string(),
  })).optional(),
  resources: z.strictObject({
    requests: z.partialRecord(z.enum(["cpu", "memory"]), quantity).optional(),
    limits: z.partialRecord(z.enum(["cpu", "memory"]), quantity).optional(),
  }).optional(),
  volumeMounts: z.array(z.strictObject({
    name: dnsName,
    mountPath: z.string().startsWith("/"),
    readOnly: z.boolean().optional(),
  })).optional(),
});
const nonNegative = z.number().int().nonnegative();
const podSpec = z.strictObject({
  restartPolicy: z.enum(["OnFailure", "Never"]),
  securityContext: z.strictObject({
    runAsNonRoot: z.boolean().optional(),
    runAsUser: nonNegative.optional(),
    runAsGroup: nonNegative.optional(),
    fsGroup: nonNegative.optional(),
  }).optional(),
  containers: z.array(container).min(1),
  volumes: z.array(z.strictObject({
    name: dnsName,
    persistentVolumeClaim: z.strictObject({ claimName: dnsName }),
  })).optional(),
});
const podFailurePolicy = z.strictObject({
  rules: z.array(z.strictObject({
    action: z.enum(["FailJob", "FailIndex", "Ignore", "Count"]),
    onExitCodes: z.strictObject({
      containerName: dnsName.optional(),
      operator: z.enum(["In", "NotIn"]),
      values: z.array(z.number().int().min(1).max(255)).min(1),
    }).optional(),
    onPodConditions: z.array(z.strictObject({ type: z.string() })).optional(),
  })).max(20),
});
const cronJob = z.strictObject({
  apiVersion: z.literal("batch/v1"),
  kind: z.literal("CronJob"),
  metadata: metadata.extend({ name: dnsName.max(52) }),
  spec: z.strictObject({
    schedule: z.string().superRefine((s, ctx) => {
      const problem = cronProblem(s);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    timeZone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/).optional(),
    concurrencyPolicy: z.enum(["Allow", "Forbid", "Replace"]),
    startingDeadlineSeconds: nonNegative.optional(),
    successfulJobsHistoryLimit: nonNegative.optional(),
    failedJobsHistoryLimit: nonNegative.optional(),
    jobTemplate: z.strictObject({
      metadata: metadata.optional(),
      spec: z.strictObject({
        backoffLimit: nonNegative,
        activeDeadlineSeconds: z.number().int().positive(),
        podFailurePolicy: podFailurePolicy.optional(),
        ttlSecondsAfterFinished: nonNegative.optional(),
        template: z.strictObject({
          metadata: metadata.optional(),
          spec: podSpec,
        }),
      }),
    }),
  }),
}).superRefine((job, ctx) => {
  // Cross-field rules the API server enforces.
  const jobSpec = job.spec.jobTemplate.spec;
  const pod = jobSpec.template.spec;
  const names = new Set(pod.containers.map((c) => c.name));
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  if (jobSpec.podFailurePolicy && pod.restartPolicy !== "Never") {
    ctx.addIssue({
      code: "custom",
      message: "podFailurePolicy needs restartPolicy Never",
    });
  }
  for (const rule of jobSpec.podFailurePolicy?.rules ?? []) {
    const c = rule.onExitCodes?.containerName;
    if (c && !names.has(c)) {
      ctx.addIssue({ code: "custom", message: `no container named ${c}` });
    }
  }
  for (const m of pod.containers.flatMap((c) => c.volumeMounts ?? [])) {
    if (!volumes.has(m.name)) {
      ctx.addIssue({ code: "custom", message: `no volume named ${m.name}` });
    }
  }
});
const pvc = z.strictObject({
  apiVersion: z.literal("v1"),
  kind: z.literal("PersistentVolumeClaim"),
  metadata: metadata.extend({ name: dnsName }),
  spec: z.strictObject({
    accessModes: z.array(
      z.enum(["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"]),
    ).min(1),
    resources: z.strictObject({
      requests: z.strictObject({ storage: quantity }),
    }),
    storageClassName: z.string().optional(),
  }),
});

/** The manifest's documents, parsed (YAML errors fail the test). */
async function manifestDocuments(): Promise<unknown[]> {
  const docs = parseAllDocuments(await Deno.readTextFile(CRONJOB));
  assert.ok(Array.isArray(docs), "close-cronjob.yaml: not a YAML stream");
  for (const d of docs) {
    assert.deepEqual(d.errors.map((e) => e.message), []);
    assert.deepEqual(d.warnings.map((e) => e.message), []);
  }
  return docs.map((d) => d.toJS());
}

async function loadCronJob() {
  const docs = await manifestDocuments();
  assert.equal(docs.length, 2, "a PersistentVolumeClaim and a CronJob");
  return { claim: pvc.parse(docs[0]), job: cronJob.parse(docs[1]) };
}

// ---------------------------------------------------------------------------
// Running a scheduler's shell command with a fake `deno` (it records its
// arguments) and a `date` that answers for a fixed day.

/** The argv `deno` receives when `shell -c script` runs on day `today`. */
async function runScheduled(
  shell: string,
  script: string,
  today: string,
  env: Record<string, string> = {},
  cwd = ROOT,
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "deploy_test_" });
  try {
    const realDate = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", "command -v date"] })
        .output()).stdout,
    ).trim();
    const out = join(dir, "argv");
    await Deno.writeTextFile(
      join(dir, "deno"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}'\n`,
    );
    // Without -d, `date` answers for the fixed day (its own -u and format kept).
    await Deno.writeTextFile(
      join(dir, "date"),
      `#!/bin/sh\ncase " $* " in *" -d "*) exec ${realDate} "$@";; esac\n` +
        `exec ${realDate} -d '${today} 06:00 UTC' "$@"\n`,
    );
    await Deno.chmod(join(dir, "deno"), 0o755);
    await Deno.chmod(join(dir, "date"), 0o755);
    const result = await new Deno.Command(shell, {
      args: ["-c", script],
      cwd,
      env: { ...env, PATH: `${dir}:${Deno.env.get("PATH")}` },
    }).output();
    assert.equal(
      result.code,
      0,
      `${shell} -c failed: ${new TextDecoder().decode(result.stderr)}`,
    );
    return (await Deno.readTextFile(out)).trimEnd().split("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------
// Kubernetes

Deno.test("kubernetes: the CronJob and its claim match the batch/v1 and v1 schemas", async () => {
  const { claim, job } = await loadCronJob();
  const spec = job.spec.jobTemplate.spec;
  assert.equal(job.spec.concurrencyPolicy, "Forbid");
  assert.ok(spec.backoffLimit >= 1, "a failed pod is retried");
  assert.ok(spec.activeDeadlineSeconds <= 24 * 3600);
  const pod = spec.template.spec;
  assert.deepEqual(
    pod.volumes?.map((v) => v.persistentVolumeClaim.claimName),
    [claim.metadata.name],
  );
  // Exit 1 and 2 (lib/errors.ts: check, usage/input) are not retried.
  assert.deepEqual(
    spec.podFailurePolicy?.rules.find((r) => r.action === "FailJob")
      ?.onExitCodes?.values,
    [1, 2],
  );
});

Deno.test("kubernetes: the schema refuses a misspelt key, a 6-field schedule and a missing volume", async () => {
  const docs = await manifestDocuments();
  // deno-lint-ignore no-explicit-any
  const job = docs[1] as Record<string, any>;
  const copy = () => structuredClone(job);

  const typo = copy();
  typo.spec.concurencyPolicy = typo.spec.concurrencyPolicy;
  delete typo.spec.concurrencyPolicy;
  assert.equal(cronJob.safeParse(typo).success, false);

  const seconds = copy();
  seconds.spec.schedule = "0 0 6 1 1,4,7,10 *";
  const r = cronJob.safeParse(seconds);
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /6 fields, not 5/);

  const month13 = copy();
  month13.spec.schedule = "0 6 1 13 *";
  assert.equal(cronJob.safeParse(month13).success, false);

  const noVolume = copy();
  noVolume.spec.jobTemplate.spec.template.spec.volumes = [];
  assert.match(
    JSON.stringify(cronJob.safeParse(noVolume).error?.issues),
    /no volume named close-data/,
  );

  const onFailure = copy();
  onFailure.spec.jobTemplate.spec.template.spec.restartPolicy = "OnFailure";
  assert.match(
    JSON.stringify(cronJob.safeParse(onFailure).error?.issues),
    /restartPolicy Never/,
  );
});

Deno.test("kubernetes: the schedule fires at 06:00 UTC on the first day of each quarter", async () => {
  const { job } = await loadCronJob();
  assert.equal(job.spec.timeZone, "Etc/UTC");
  assert.deepEqual(cronFirings(job.spec.schedule, 8), FIRINGS);
});

Deno.test("kubernetes: the container runs `deno task close` on the image's checkout, output on the claim", async () => {
  const { job } = await loadCronJob();
  const pod = job.spec.jobTemplate.spec.template.spec;
  const [c] = pod.containers;
  const dockerfile = await Deno.readTextFile(join(ROOT, "Dockerfile"));
  // The image's working directory and user (Dockerfile).
  assert.equal(c.workingDir, dockerfile.match(/^WORKDIR (\S+)$/m)?.[1]);
  assert.equal(
    pod.securityContext?.runAsUser,
    Number(dockerfile.match(/--uid (\d+)/)?.[1]),
  );
  assert.deepEqual(c.command, ["/bin/sh", "-c"]);
  assert.equal(c.args?.length, 1);
  assert.match(
    c.args![0],
    /exec deno task close --config config\/close\.yaml /,
  );
  // The config named is in the repository (and so in the image).
  assert.ok(
    (await Deno.stat(join(ROOT, CONFIG))).isFile,
    `${CONFIG} is missing`,
  );
  // The output folder (relative to workingDir) is the mounted claim.
  assert.deepEqual(
    c.volumeMounts?.map((m) => m.mountPath),
    [join(c.workingDir!, "data/close")],
  );
  for (const [today, quarterEnd] of QUARTER_ENDS) {
    assert.deepEqual(
      await runScheduled("/bin/sh", c.args![0], today, { CLOSE_DATE: "" }),
      closeArgs(quarterEnd),
      `run on ${today}`,
    );
  }
  assert.deepEqual(
    await runScheduled("/bin/sh", c.args![0], "2027-04-01", {
      CLOSE_DATE: "2026-06-30",
    }),
    closeArgs("2026-06-30"),
  );
});

// ---------------------------------------------------------------------------
// Airflow (not installed here: compiled, read with `ast`, run against
// stand-ins, templates rendered with Jinja as Airflow renders them)

async function python(args: string[], env: Record<string, string> = {}) {
  const result = await new Deno.Command("python3", { args, env }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(result.code, 0, `python3 ${args[0]}: ${text(result.stderr)}`);
  return text(result.stdout);
}

Deno.test("airflow: the DAG file compiles", async () => {
  const dir = await Deno.makeTempDir({ prefix: "deploy_test_" });
  try {
    await python([
      "-c",
      "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
      DAG,
      join(dir, "dag.pyc"),
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("airflow: one DAG, check_inputs >> close, retries and SLA, the close's schedule", async () => {
  const cases = [
    { data_interval_end: "2027-04-01T06:00:00+00:00", reporting_date: "" },
    { data_interval_end: "2027-01-01T06:00:00+00:00", reporting_date: "" },
    {
      data_interval_end: "2027-04-01T06:00:00+00:00",
      reporting_date: "2026-06-30",
    },
  ];
  const info = JSON.parse(
    await python(
      [
        join(ROOT, "tests/deploy/inspect_dag.py"),
        DAG,
        JSON.stringify(cases),
      ],
      { IFRS9_HOME: ROOT },
    ),
  );
  // What the source says (ast).
  assert.equal(info.ast.dags.length, 1);
  assert.equal(info.ast.dags[0].dag_id, "ifrs9_quarter_end_close");
  assert.deepEqual(
    info.ast.tasks.map((t: { task_id: string }) => t.task_id),
    ["check_inputs", "close"],
  );
  assert.deepEqual(info.ast.edges, [["check_inputs", "close"]]);
  // What the module defines.
  const [dag] = info.run.dags;
  assert.equal(dag.catchup, false);
  assert.equal(dag.max_active_runs, 1);
  assert.ok(dag.default_args.retries >= 1);
  assert.ok(dag.default_args.sla.seconds > 0);
  assert.ok(
    dag.default_args.execution_timeout.seconds <= dag.default_args.sla.seconds,
  );
  assert.deepEqual(info.run.edges, [["check_inputs", "close"]]);
  const { job } = await loadCronJob();
  assert.equal(cronProblem(dag.schedule), undefined);
  assert.deepEqual(cronFirings(dag.schedule, 8), FIRINGS);
  assert.deepEqual(cronFirings(job.spec.schedule, 8), FIRINGS);

  // The rendered commands, run by bash as BashOperator runs them.
  assert.ok(info.rendered, "Jinja (python3-jinja2) is missing");
  const expected = ["2027-03-31", "2026-12-31", "2026-06-30"];
  for (const [i, rendered] of info.rendered.entries()) {
    assert.match(
      rendered.close,
      /deno task close --config config\/close\.yaml/,
    );
    assert.deepEqual(
      await runScheduled("bash", rendered.close, "2030-01-01"),
      closeArgs(expected[i]),
      JSON.stringify(cases[i]),
    );
  }
  // check_inputs passes on this checkout (config present, deno answers).
  assert.deepEqual(
    await runScheduled("bash", info.rendered[0].check_inputs, "2030-01-01"),
    ["task", "close", "--help"],
  );
});

// ---------------------------------------------------------------------------
// systemd

/** A unit file's sections and keys (repeated keys keep every value). */
async function unitFile(
  path: string,
): Promise<Map<string, Map<string, string[]>>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of (await Deno.readTextFile(path)).split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = line.match(/^\[(\w+)\]$/);
    if (header) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const kv = line.match(/^([A-Za-z]+)=(.*)$/);
    assert.ok(kv && current, `${path}: cannot read line ${raw}`);
    current.set(kv[1], [...current.get(kv[1]) ?? [], kv[2]]);
  }
  return sections;
}

const hasSystemdAnalyze = new Deno.Command("sh", {
  args: ["-c", "command -v systemd-analyze"],
}).outputSync().success;

Deno.test({
  name: "systemd: systemd-analyze verify accepts both units without a warning",
  ignore: !hasSystemdAnalyze,
  fn: async () => {
    const result = await new Deno.Command("systemd-analyze", {
      args: ["verify", SERVICE, TIMER],
    }).output();
    const said = new TextDecoder().decode(result.stdout) +
      new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, said);
    assert.equal(said.trim(), "");
  },
});

Deno.test({
  name:
    "systemd: the timer fires with the CronJob, persistently; the service runs `deno task close`",
  ignore: !hasSystemdAnalyze,
  fn: async () => {
    const timer = await unitFile(TIMER);
    const service = await unitFile(SERVICE);
    assert.deepEqual(timer.get("Timer")?.get("Persistent"), ["true"]);
    assert.deepEqual(timer.get("Timer")?.get("Unit"), ["ifrs9-close.service"]);
    assert.deepEqual(timer.get("Install")?.get("WantedBy"), ["timers.target"]);
    const [onCalendar] = timer.get("Timer")!.get("OnCalendar")!;
    const calendar = await new Deno.Command("systemd-analyze", {
      args: [
        "calendar",
        "--iterations=8",
        `--base-time=${BASE.replace("T", " ").replace("Z", " UTC")}`,
        onCalendar,
      ],
      env: { TZ: "UTC" },
    }).output();
    assert.equal(calendar.code, 0, new TextDecoder().decode(calendar.stderr));
    const firings = [
      ...new TextDecoder().decode(calendar.stdout).matchAll(
        /(?:Next elapse|Iter\. #\d+): \w{3} (\S+ \S+) UTC/g,
      ),
    ].map((m) => new Date(`${m[1].replace(" ", "T")}Z`).toISOString());
    assert.deepEqual(firings, FIRINGS);

    const s = service.get("Service")!;
    assert.deepEqual(s.get("Type"), ["oneshot"]);
    assert.deepEqual(s.get("Restart"), ["on-failure"]);
    assert.deepEqual(s.get("RestartPreventExitStatus"), ["1 2"]);
    const [exec] = s.get("ExecStart")!;
    // systemd's escapes: %% is %, $$ is $.
    const m = exec.replaceAll("%%", "%").replaceAll("$$", "$")
      .match(/^\/bin\/sh -c '(.*)'$/);
    assert.ok(m, `ExecStart is not /bin/sh -c '...': ${exec}`);
    assert.match(m[1], /exec deno task close --config config\/close\.yaml /);
    // The same script as the CronJob's.
    const { job } = await loadCronJob();
    assert.equal(
      m[1],
      job.spec.jobTemplate.spec.template.spec.containers[0].args![0],
    );
    for (const [today, quarterEnd] of QUARTER_ENDS.slice(0, 4)) {
      assert.deepEqual(
        await runScheduled("/bin/sh", m[1], today),
        closeArgs(quarterEnd),
        `run on ${today}`,
      );
    }
  },
});

// ---------------------------------------------------------------------------
// The command itself (tasks/close.ts): the flags the schedulers pass, and
// the exit code a quarter missing from the close file gets, which the
// schedulers do not retry (podFailurePolicy FailJob, RestartPreventExitStatus).

Deno.test("close: takes --config, --date and --out; a date not in the close file exits 2, writing nothing", async () => {
  const run = (args: string[]) =>
    new Deno.Command("deno", {
      args: ["run", "-A", "tasks/close.ts", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  const text = new TextDecoder().decode(help.stdout);
  for (const flag of ["--config PATH", "--date YYYY-MM-DD", "--out DIR"]) {
    assert.ok(text.includes(flag), `--help lacks ${flag}`);
  }
  const dir = await Deno.makeTempDir({ prefix: "deploy_test_" });
  try {
    const out = join(dir, "close");
    // The quarter-end the CronJob would pass on 2030-01-01.
    const missing = await run([
      ...closeArgs("2029-12-31").slice(2, 6),
      "--out",
      out,
    ]);
    assert.equal(missing.code, 2);
    assert.match(new TextDecoder().decode(missing.stderr), /2029-12-31/);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
