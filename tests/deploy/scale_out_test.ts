/**
 * The partitioned run on existing engines (issue 17, item 4;
 * deploy/README.md "Partitioned runs", docs/scale_out.md), checked as far
 * as the tools here allow (no cluster, no kubectl, no cloud):
 *
 * - every manifest parses (YAML with no error or warning, JSON);
 * - the Kubernetes objects pass the Kubernetes API's own schemas: the
 *   validators kubernetes-models generates from the Kubernetes OpenAPI
 *   document with ajv (types, enums, required fields, quantities), and its
 *   TypeScript interfaces of the same document through `deno check`, which
 *   refuses a key the API does not know (the schema itself allows any);
 *   plus the cross-field rules the API server adds (an Indexed Job for
 *   backoffLimitPerIndex and FailIndex, restartPolicy Never for a pod
 *   failure policy, volumes and containers named);
 * - the AWS Batch and Cloud Run files against strict schemas of the
 *   fields they use;
 * - each engine's command, run by `/bin/sh` with a fake `deno` that records
 *   its arguments, is a real task (deno.json) with real flags (the task's
 *   own TaskCommand parses them), N agrees with the engine's task count,
 *   and the merge names exactly the parts' folders
 *   (`<run-id>.part-<k>-of-<N>`, the contract of issue 17);
 * - the commands run for real: the Kubernetes Jobs' on a small book on
 *   a local folder (the N pods one by one, then the merge), the AWS Batch
 *   and Cloud Run ones against a local S3 server (s3rver) in place of the
 *   cloud's bucket.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import pl from "nodejs-polars";
import { writePortfolio } from "../run/_portfolio.ts";
import { getText, keys, put, startS3 } from "../storage/_s3.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const K8S = {
  claim: join(ROOT, "deploy/kubernetes/scale-out-pvc.yaml"),
  parts: join(ROOT, "deploy/kubernetes/run-parts-job.yaml"),
  merge: join(ROOT, "deploy/kubernetes/run-merge-job.yaml"),
};
const BATCH = {
  definition: join(ROOT, "deploy/aws-batch/job-definition.json"),
  parts: join(ROOT, "deploy/aws-batch/submit-parts.json"),
  merge: join(ROOT, "deploy/aws-batch/submit-merge.json"),
};
const CLOUD_RUN = {
  parts: join(ROOT, "deploy/cloud-run/run-parts-job.yaml"),
  merge: join(ROOT, "deploy/cloud-run/run-merge-job.yaml"),
};

// deno-lint-ignore no-explicit-any
type Json = any;

/** The one document of a YAML file (errors and warnings fail the test). */
async function yamlDoc(path: string): Promise<Json> {
  const docs = parseAllDocuments(await Deno.readTextFile(path));
  assert.ok(Array.isArray(docs), `${path}: not a YAML stream`);
  assert.equal(docs.length, 1, `${path}: one document`);
  assert.deepEqual(docs[0].errors.map((e) => e.message), [], path);
  assert.deepEqual(docs[0].warnings.map((e) => e.message), [], path);
  return docs[0].toJS();
}

const jsonDoc = async (path: string): Promise<Json> =>
  JSON.parse(await Deno.readTextFile(path));

// ---------------------------------------------------------------------------
// The Kubernetes schemas

/**
 * What the Kubernetes OpenAPI schema (kubernetes-models' ajv validators)
 * says is wrong with `doc`: one line, or undefined when it is valid.
 */
function schemaProblem(doc: Json): string | undefined {
  const model = doc.kind === "Job"
    ? new Job(doc)
    : doc.kind === "PersistentVolumeClaim"
    ? new PersistentVolumeClaim(doc)
    : undefined;
  if (model === undefined) return `no schema for kind ${doc.kind}`;
  try {
    model.validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Keys the Kubernetes API does not know, found by type-checking each
 * document as an object literal of kubernetes-models' interface (TS2353,
 * one per document at most): the OpenAPI schemas allow unknown keys,
 * which the API server drops or (with strict validation) refuses.
 */
async function unknownKeys(docs: Json[]): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "scale_out_types_" });
  try {
    const types = {
      Job: ["IJob", "kubernetes-models/batch/v1/Job"],
      PersistentVolumeClaim: [
        "IPersistentVolumeClaim",
        "kubernetes-models/v1/PersistentVolumeClaim",
      ],
    } as Record<string, [string, string]>;
    const lines = docs.map((d, i) => {
      const [name, from] = types[d.kind];
      return `import type { ${name} as T${i} } from "${from}";\n` +
        `export const doc${i}: T${i} = ${JSON.stringify(d)};`;
    });
    const file = join(dir, "manifests.ts");
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", join(ROOT, "deno.json"), file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    const problems = text.split("\n").filter((l) => /TS\d+/.test(l));
    if (out.code !== 0 && problems.length === 0) {
      throw new Error(`deno check failed: ${text}`);
    }
    return problems;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The cross-field rules of the API server that the schema cannot say. */
function jobRuleProblems(job: Json): string[] {
  const problems: string[] = [];
  const spec = job.spec;
  const pod = spec.template.spec;
  const indexed = spec.completionMode === "Indexed";
  if (spec.backoffLimitPerIndex !== undefined && !indexed) {
    problems.push("backoffLimitPerIndex needs completionMode Indexed");
  }
  if (spec.maxFailedIndexes !== undefined && !spec.backoffLimitPerIndex) {
    problems.push("maxFailedIndexes needs backoffLimitPerIndex");
  }
  if (spec.podFailurePolicy && pod.restartPolicy !== "Never") {
    problems.push("podFailurePolicy needs restartPolicy Never");
  }
  if (!["Never", "OnFailure"].includes(pod.restartPolicy)) {
    problems.push("a Job's restartPolicy is Never or OnFailure");
  }
  const names = new Set(pod.containers.map((c: Json) => c.name));
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    if (
      rule.action === "FailIndex" && spec.backoffLimitPerIndex === undefined
    ) {
      problems.push("FailIndex needs backoffLimitPerIndex");
    }
    const c = rule.onExitCodes?.containerName;
    if (c && !names.has(c)) problems.push(`no container named ${c}`);
  }
  const volumes = new Set((pod.volumes ?? []).map((v: Json) => v.name));
  for (const c of pod.containers) {
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problems.push(`no volume named ${m.name}`);
    }
  }
  if (indexed && spec.completions === undefined) {
    problems.push("an Indexed Job needs completions");
  }
  return problems;
}

/** A container's environment as a record (plain values only). */
function envOf(container: Json): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).filter((e: Json) => e.value !== undefined)
      .map((e: Json) => [e.name, e.value]),
  );
}

// ---------------------------------------------------------------------------
// Running an engine's command with a fake `deno`, parsing it as its task

/**
 * The argv `deno` receives when `/bin/sh -c script` runs with `env` (the
 * container's environment): a fake `deno` on the PATH records it.
 */
async function argvOf(
  script: string,
  env: Record<string, string>,
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "scale_out_argv_" });
  try {
    const out = join(dir, "argv");
    await Deno.writeTextFile(
      join(dir, "deno"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}'\n`,
    );
    await Deno.chmod(join(dir, "deno"), 0o755);
    const result = await new Deno.Command("/bin/sh", {
      args: ["-c", script],
      cwd: ROOT,
      clearEnv: true,
      env: { ...env, PATH: `${dir}:/usr/bin:/bin` },
    }).output();
    assert.equal(
      result.code,
      0,
      `/bin/sh -c failed: ${new TextDecoder().decode(result.stderr)}`,
    );
    return (await Deno.readTextFile(out)).trimEnd().split("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * `deno task NAME FLAGS...` checked against the project: NAME is a task of
 * deno.json run by a script of tasks/, whose own TaskCommand parses FLAGS
 * (unknown flags, missing values, missing required flags all throw).
 */
async function parseTask(argv: string[]): Promise<string> {
  assert.equal(argv[0], "task", `not a deno task: ${argv.join(" ")}`);
  const tasks = (await jsonDoc(join(ROOT, "deno.json"))).tasks;
  const line = tasks[argv[1]];
  assert.ok(line, `deno.json has no task ${argv[1]}`);
  const script = /^deno run -A (tasks\/[a-z_]+\.ts)$/.exec(line)?.[1];
  assert.ok(script, `task ${argv[1]} is not a tasks/ script: ${line}`);
  const mod = await import(join(ROOT, script));
  assert.ok(mod.command, `${script} exports no TaskCommand`);
  mod.command.parse(argv.slice(2));
  return argv[1];
}

/** The value of `--flag` in `argv`. */
function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
}

/** The values after `--flag` up to the next flag. */
function flagValues(argv: string[], name: string): string[] {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return [];
  const rest = argv.slice(i + 1);
  const end = rest.findIndex((a) => a.startsWith("--"));
  return end < 0 ? rest : rest.slice(0, end);
}

/** The part folders of the contract: `<out>/<id>.part-<k>-of-<n>`. */
const partFolders = (out: string, id: string, n: number) =>
  Array.from({ length: n }, (_, k) => `${out}/${id}.part-${k}-of-${n}`);

/**
 * Checks one engine's pair of commands: real tasks and flags, `--partition
 * env/N` with N the engine's task count, the merge of exactly the N parts
 * into the same out and run id. Returns the part's flags (names, sorted).
 */
async function checkCommands(
  engine: string,
  parts: { script: string; env: Record<string, string>; count: number },
  merge: { script: string; env: Record<string, string> },
): Promise<string[]> {
  const part = await argvOf(parts.script, parts.env);
  assert.equal(await parseTask(part), "run", engine);
  assert.equal(flag(part, "partition"), `env/${parts.count}`, engine);
  const runId = flag(part, "run-id")!;
  const out = flag(part, "out")!;
  assert.ok(runId && out, `${engine}: --run-id and --out given`);
  assert.ok(part.includes("--replace"), `${engine}: a retried part replaces`);
  // The rules named are in the repository, so in the image.
  const rules = flag(part, "rules")!;
  assert.ok((await Deno.stat(join(ROOT, rules))).isFile, rules);

  const m = await argvOf(merge.script, merge.env);
  assert.equal(await parseTask(m), "merge", engine);
  assert.equal(flag(m, "run-id"), runId, `${engine}: the same run id`);
  assert.equal(flag(m, "out"), out, `${engine}: the same out`);
  assert.deepEqual(
    flagValues(m, "runs"),
    partFolders(out, runId, parts.count),
    `${engine}: the merge names the N parts`,
  );
  return part.filter((a) => a.startsWith("--")).sort();
}

// ---------------------------------------------------------------------------
// Kubernetes

async function k8s() {
  return {
    claim: await yamlDoc(K8S.claim),
    parts: await yamlDoc(K8S.parts),
    merge: await yamlDoc(K8S.merge),
  };
}

Deno.test("kubernetes: the Indexed Job, the merge Job and the claim pass the Kubernetes schemas", async () => {
  const { claim, parts, merge } = await k8s();
  for (const doc of [claim, parts, merge]) {
    assert.equal(schemaProblem(doc), undefined, doc.metadata.name);
  }
  assert.deepEqual(await unknownKeys([claim, parts, merge]), []);
  assert.deepEqual(jobRuleProblems(parts), []);
  assert.deepEqual(jobRuleProblems(merge), []);
});

Deno.test("kubernetes: the schema checks refuse a wrong enum, a bad quantity, a misspelt key and broken cross-field rules", async () => {
  const { parts } = await k8s();
  const copy = () => structuredClone(parts);

  const mode = copy();
  mode.spec.completionMode = "indexed";
  assert.match(schemaProblem(mode)!, /completionMode must be equal to one of/);

  const memory = copy();
  memory.spec.template.spec.containers[0].resources.limits.memory = "4GB";
  assert.match(
    schemaProblem(memory)!,
    /limits\/memory must match format "quantity"/,
  );

  const count = copy();
  count.spec.completions = "8";
  assert.match(schemaProblem(count)!, /completions must be integer/);

  const typo = copy();
  typo.spec.backoffLimitPerIdx = typo.spec.backoffLimitPerIndex;
  delete typo.spec.backoffLimitPerIndex;
  // The schema lets an unknown key through; the interface does not.
  assert.equal(schemaProblem(typo), undefined);
  const found = await unknownKeys([typo]);
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /'"backoffLimitPerIdx"' does not exist in type 'IJobSpec'/,
  );
  // ... and without backoffLimitPerIndex, FailIndex and maxFailedIndexes
  // are refused by the API server's rules.
  assert.deepEqual(jobRuleProblems(typo), [
    "maxFailedIndexes needs backoffLimitPerIndex",
    "FailIndex needs backoffLimitPerIndex",
  ]);

  const nonIndexed = copy();
  delete nonIndexed.spec.completionMode;
  assert.ok(
    jobRuleProblems(nonIndexed).includes(
      "backoffLimitPerIndex needs completionMode Indexed",
    ),
  );
  const restart = copy();
  restart.spec.template.spec.restartPolicy = "OnFailure";
  assert.deepEqual(jobRuleProblems(restart), [
    "podFailurePolicy needs restartPolicy Never",
  ]);
  const volume = copy();
  volume.spec.template.spec.volumes = [];
  assert.deepEqual(jobRuleProblems(volume), [
    "no volume named data",
    "no volume named scratch",
  ]);
});

Deno.test("kubernetes: N parts on the shared claim, the image's user and folder, failures not retried", async () => {
  const { claim, parts, merge } = await k8s();
  const n = parts.spec.completions;
  assert.equal(parts.spec.completionMode, "Indexed");
  assert.equal(parts.spec.parallelism, n, "parallelism = completions");
  assert.ok(n >= 2);
  assert.equal(envOf(parts.spec.template.spec.containers[0]).PARTS, String(n));
  assert.equal(envOf(merge.spec.template.spec.containers[0]).PARTS, String(n));
  // A part that failed a check (1) or was given a bad input (2) fails its
  // index at once; one failed index fails the Job (the merge needs all).
  assert.deepEqual(parts.spec.podFailurePolicy.rules[0], {
    action: "FailIndex",
    onExitCodes: { containerName: "part", operator: "In", values: [1, 2] },
  });
  assert.equal(parts.spec.maxFailedIndexes, 0);
  assert.ok(parts.spec.backoffLimitPerIndex >= 1);
  assert.ok(parts.spec.ttlSecondsAfterFinished > 0);
  // Shared by pods on several nodes.
  assert.deepEqual(claim.spec.accessModes, ["ReadWriteMany"]);
  const dockerfile = await Deno.readTextFile(join(ROOT, "Dockerfile"));
  // The code version is set at build time (R3): the image has no .git.
  assert.match(dockerfile, /^ARG IFRS9_CODE_VERSION=unknown$/m);
  assert.match(
    dockerfile,
    /^ENV IFRS9_CODE_VERSION=\$\{IFRS9_CODE_VERSION\}$/m,
  );
  for (const job of [parts, merge]) {
    const pod = job.spec.template.spec;
    assert.deepEqual(
      pod.volumes.filter((v: Json) => v.persistentVolumeClaim)
        .map((v: Json) => v.persistentVolumeClaim.claimName),
      [claim.metadata.name],
    );
    const [c] = pod.containers;
    // The "restricted" Pod Security Standard (issue 17 review, R7).
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.fsGroupChangePolicy, "OnRootMismatch");
    assert.deepEqual(pod.securityContext.seccompProfile, {
      type: "RuntimeDefault",
    });
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    // The image pinned by digest, never a moving tag (R3).
    assert.match(c.image, /@sha256:[0-9a-f]{64}$/);
    // Temporary files on a size-limited local volume, requested (R6).
    const scratch = pod.volumes.find((v: Json) => v.emptyDir);
    assert.ok(
      scratch?.emptyDir.sizeLimit,
      "a scratch emptyDir with a sizeLimit",
    );
    assert.ok(
      c.volumeMounts.some((m: Json) =>
        m.name === scratch.name && m.mountPath === envOf(c).TMPDIR
      ),
      "TMPDIR is the scratch volume",
    );
    assert.ok(c.resources.requests["ephemeral-storage"]);
    assert.ok(c.resources.limits["ephemeral-storage"]);
    assert.equal(c.workingDir, dockerfile.match(/^WORKDIR (\S+)$/m)?.[1]);
    assert.equal(
      pod.securityContext.runAsUser,
      Number(dockerfile.match(/--uid (\d+)/)?.[1]),
    );
    // Outputs go to the mounted claim.
    const out = envOf(c).OUT;
    assert.ok(
      c.volumeMounts.some((m: Json) => out.startsWith(`${m.mountPath}/`)),
      `${job.metadata.name}: OUT ${out} is on the claim`,
    );
    assert.ok(c.resources.requests.memory && c.resources.limits.memory);
    // The S3 credentials, when a bucket is used, from an optional Secret.
    assert.deepEqual(c.envFrom, [{
      secretRef: { name: "ifrs9-s3", optional: true },
    }]);
  }
});

Deno.test("kubernetes: the commands are `deno task run --partition env/N` and `deno task merge` of the N parts", async () => {
  const { parts, merge } = await k8s();
  const [pc] = parts.spec.template.spec.containers;
  const [mc] = merge.spec.template.spec.containers;
  assert.deepEqual(pc.command, ["/bin/sh", "-c"]);
  assert.deepEqual(mc.command, ["/bin/sh", "-c"]);
  const flags = await checkCommands(
    "kubernetes",
    {
      script: pc.args[0],
      env: { ...envOf(pc), JOB_COMPLETION_INDEX: "3" },
      count: parts.spec.completions,
    },
    { script: mc.args[0], env: envOf(mc) },
  );
  assert.ok(!flags.includes("--fx"), "FX empty: the table beside the book");
  const withFx = await argvOf(pc.args[0], { ...envOf(pc), FX: "fx.yaml" });
  assert.equal(flag(withFx, "fx"), "fx.yaml");
  await parseTask(withFx);
  // A merge of another N names that many parts.
  const three = await argvOf(mc.args[0], { ...envOf(mc), PARTS: "3" });
  assert.deepEqual(
    flagValues(three, "runs"),
    partFolders(envOf(mc).OUT, envOf(mc).RUN_ID, 3),
  );
});

// ---------------------------------------------------------------------------
// AWS Batch and Cloud Run

const envList = z.array(
  z.strictObject({ name: z.string(), value: z.string() }),
);
const resources = z.array(z.strictObject({
  type: z.enum(["VCPU", "MEMORY", "GPU"]),
  value: z.string().regex(/^\d+(\.\d+)?$/),
}));
/** RegisterJobDefinition, the fields used (AWS Batch API reference). */
/** An AWS Batch retryStrategy, the fields used. */
const batchRetry = z.strictObject({
  attempts: z.number().int().min(1).max(10),
  evaluateOnExit: z.array(z.strictObject({
    onExitCode: z.string().regex(/^\d+\*?$/).optional(),
    onReason: z.string().optional(),
    onStatusReason: z.string().optional(),
    action: z.enum(["RETRY", "EXIT"]),
  })).max(5),
});
const batchDefinition = z.strictObject({
  jobDefinitionName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/),
  type: z.literal("container"),
  platformCapabilities: z.array(z.enum(["EC2", "FARGATE"])),
  containerProperties: z.strictObject({
    image: z.string().min(1),
    jobRoleArn: z.string().startsWith("arn:aws:iam::"),
    command: z.array(z.string()).min(1),
    resourceRequirements: resources,
    environment: envList,
  }),
  retryStrategy: batchRetry,
  timeout: z.strictObject({ attemptDurationSeconds: z.number().int().min(60) }),
  propagateTags: z.boolean(),
  tags: z.record(z.string(), z.string()),
});
/** SubmitJob, the fields used. */
const batchSubmit = z.strictObject({
  jobName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/),
  jobQueue: z.string().min(1),
  jobDefinition: z.string().min(1),
  retryStrategy: batchRetry.optional(),
  arrayProperties: z.strictObject({
    size: z.number().int().min(2).max(10_000),
  }).optional(),
  containerOverrides: z.strictObject({
    command: z.array(z.string()).optional(),
    resourceRequirements: resources.optional(),
    environment: envList,
  }),
});

Deno.test("aws batch: the array job's definition and submissions run the same commands", async () => {
  const def = batchDefinition.parse(await jsonDoc(BATCH.definition));
  const parts = batchSubmit.parse(await jsonDoc(BATCH.parts));
  const merge = batchSubmit.parse(await jsonDoc(BATCH.merge));
  assert.equal(parts.jobDefinition, def.jobDefinitionName);
  assert.equal(merge.jobDefinition, def.jobDefinitionName);
  assert.equal(merge.arrayProperties, undefined, "the merge is one job");
  // The merge's own retries: an internal error (70) is not retried (R10).
  assert.deepEqual(
    merge.retryStrategy?.evaluateOnExit.filter((e) => e.action === "EXIT")
      .map((e) => e.onExitCode),
    ["1", "2", "70"],
  );
  // Every attempt and child runs one build (R3).
  assert.match(def.containerProperties.image, /@sha256:[0-9a-f]{64}$/);
  // Exit 1 and 2 are not retried, the rest is.
  assert.deepEqual(def.retryStrategy.evaluateOnExit.slice(0, 2), [
    { onExitCode: "1", action: "EXIT" },
    { onExitCode: "2", action: "EXIT" },
  ]);
  const env = (list: { name: string; value: string }[]) =>
    Object.fromEntries(list.map((e) => [e.name, e.value]));
  const base = env(def.containerProperties.environment);
  const [sh, c, script] = def.containerProperties.command;
  assert.deepEqual([sh, c], ["/bin/sh", "-c"]);
  const [msh, mc, mscript] = merge.containerOverrides.command!;
  assert.deepEqual([msh, mc], ["/bin/sh", "-c"]);
  const n = parts.arrayProperties!.size;
  await checkCommands(
    "aws batch",
    {
      script,
      env: {
        ...base,
        ...env(parts.containerOverrides.environment),
        AWS_BATCH_JOB_ARRAY_INDEX: "0",
      },
      count: n,
    },
    {
      script: mscript,
      env: { ...base, ...env(merge.containerOverrides.environment) },
    },
  );
});

const cloudRunEnv = z.array(z.union([
  z.strictObject({ name: z.string(), value: z.string() }),
  z.strictObject({
    name: z.string(),
    valueFrom: z.strictObject({
      secretKeyRef: z.strictObject({ name: z.string(), key: z.string() }),
    }),
  }),
]));
/** A Cloud Run job (run.googleapis.com/v1), the fields used. */
const cloudRunJob = z.strictObject({
  apiVersion: z.literal("run.googleapis.com/v1"),
  kind: z.literal("Job"),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    template: z.strictObject({
      spec: z.strictObject({
        taskCount: z.number().int().min(1).max(10_000),
        parallelism: z.number().int().min(0),
        template: z.strictObject({
          spec: z.strictObject({
            maxRetries: z.number().int().min(0).max(10),
            timeoutSeconds: z.string().regex(/^\d+$/),
            serviceAccountName: z.string(),
            containers: z.array(z.strictObject({
              image: z.string().min(1),
              command: z.array(z.string()),
              args: z.array(z.string()),
              env: cloudRunEnv,
              resources: z.strictObject({
                limits: z.strictObject({
                  cpu: z.string(),
                  memory: z.string().regex(/^\d+(Mi|Gi)$/),
                }),
              }),
            })).length(1),
          }),
        }),
      }),
    }),
  }),
});

Deno.test("cloud run: the parts job of N tasks and the merge job run the same commands", async () => {
  const parts = cloudRunJob.parse(await yamlDoc(CLOUD_RUN.parts));
  const merge = cloudRunJob.parse(await yamlDoc(CLOUD_RUN.merge));
  const exec = parts.spec.template.spec;
  assert.equal(exec.parallelism, exec.taskCount);
  assert.equal(merge.spec.template.spec.taskCount, 1);
  const [pc] = exec.template.spec.containers;
  const [mc] = merge.spec.template.spec.template.spec.containers;
  // Secrets come from Secret Manager; the rest are plain values.
  const secret = "secret";
  const env = (list: z.infer<typeof cloudRunEnv>) =>
    Object.fromEntries(
      list.map((e) => [e.name, "value" in e ? e.value : secret]),
    );
  await checkCommands(
    "cloud run",
    {
      script: pc.args[0],
      env: { ...env(pc.env), CLOUD_RUN_TASK_INDEX: "7" },
      count: exec.taskCount,
    },
    { script: mc.args[0], env: env(mc.env) },
  );
});

Deno.test("the three engines run the same part command", async () => {
  const { parts } = await k8s();
  const def = await jsonDoc(BATCH.definition);
  const cloud = await yamlDoc(CLOUD_RUN.parts);
  const [k] = parts.spec.template.spec.containers;
  const scripts = [
    k.args[0],
    def.containerProperties.command[2],
    cloud.spec.template.spec.template.spec.containers[0].args[0],
  ];
  const env = {
    RUN_ID: "R",
    PORTFOLIO: "P",
    RULES: "config/ifrs9_rules.yaml",
    OUT: "O",
    PARTS: "5",
  };
  const argvs = await Promise.all(scripts.map((s) => argvOf(s, env)));
  assert.deepEqual(argvs[1], argvs[0]);
  assert.deepEqual(argvs[2], argvs[0]);
});

Deno.test("kubernetes: the Jobs' own commands, run for real on a small book, give one merged run of the N parts", async () => {
  const { parts, merge } = await k8s();
  const [pc] = parts.spec.template.spec.containers;
  const [mc] = merge.spec.template.spec.containers;
  const n: number = parts.spec.completions;
  const dir = await Deno.makeTempDir({ prefix: "scale_out_run_" });
  try {
    await Deno.mkdir(join(dir, "books"));
    const book = writePortfolio(join(dir, "books", "book.parquet"), 240);
    const out = join(dir, "runs");
    await Deno.mkdir(out);
    // The container's shell, with the volume's paths moved to `dir`.
    const sh = async (script: string, env: Record<string, string>) => {
      const r = await new Deno.Command("/bin/sh", {
        args: ["-c", script],
        cwd: ROOT,
        env: { ...env, PORTFOLIO: book, OUT: out },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, `${script}\n${text}`);
    };
    // The pods of the Indexed Job, two at a time (this machine's cores).
    for (let k = 0; k < n; k += 2) {
      await Promise.all(
        [k, k + 1].filter((i) => i < n).map((i) =>
          sh(pc.args[0], { ...envOf(pc), JOB_COMPLETION_INDEX: String(i) })
        ),
      );
    }
    const runId = envOf(pc).RUN_ID;
    const folders = partFolders(out, runId, n);
    let rows = 0;
    for (const f of folders) {
      rows += pl.readParquet(join(f, "loan_results.parquet")).height;
    }
    await sh(mc.args[0], envOf(mc));
    const merged = pl.readParquet(join(out, runId, "loan_results.parquet"));
    assert.equal(merged.height, rows);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(out, runId, "manifest.json")),
    );
    assert.equal(manifest.status, "complete");
    assert.deepEqual(
      manifest.merged_from.map((p: Json) => [p.run_id, p.index]),
      folders.map((f, k) => [f.slice(out.length + 1), k]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aws batch and cloud run: their own commands, run for real against an S3 server, merge the parts in the bucket", async () => {
  const s3 = await startS3();
  const dir = await Deno.makeTempDir({ prefix: "scale_out_s3_" });
  try {
    const book = writePortfolio(join(dir, "book.parquet"), 120);
    const def = await jsonDoc(BATCH.definition);
    const bParts = await jsonDoc(BATCH.parts);
    const bMerge = await jsonDoc(BATCH.merge);
    const cParts = await yamlDoc(CLOUD_RUN.parts);
    const cMerge = await yamlDoc(CLOUD_RUN.merge);
    const list = (l: { name: string; value?: string }[]) =>
      Object.fromEntries(
        l.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
      );
    const cloud = (job: Json) =>
      job.spec.template.spec.template.spec.containers[0];
    const engines = [
      {
        index: "AWS_BATCH_JOB_ARRAY_INDEX",
        part: def.containerProperties.command[2],
        partEnv: {
          ...list(def.containerProperties.environment),
          ...list(bParts.containerOverrides.environment),
        },
        merge: bMerge.containerOverrides.command[2],
        mergeEnv: {
          ...list(def.containerProperties.environment),
          ...list(bMerge.containerOverrides.environment),
        },
      },
      {
        index: "CLOUD_RUN_TASK_INDEX",
        part: cloud(cParts).args[0],
        partEnv: list(cloud(cParts).env),
        merge: cloud(cMerge).args[0],
        mergeEnv: list(cloud(cMerge).env),
      },
    ];
    // Two parts each (the commands take N from PARTS), against the local
    // S3 server instead of the cloud's endpoint and credentials.
    const n = 2;
    const sh = async (script: string, env: Record<string, string>) => {
      const r = await new Deno.Command("/bin/sh", {
        args: ["-c", script],
        cwd: ROOT,
        env: {
          ...env,
          ...s3.env,
          AWS_ENDPOINT_URL_S3: s3.endpoint,
          PATH: Deno.env.get("PATH")!,
          PARTS: String(n),
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        r.code,
        0,
        `${script}\n${new TextDecoder().decode(r.stderr)}`,
      );
    };
    // The engines share the bucket and run id: each merge must write a
    // manifest of its own (not find the other's).
    const seen = new Set<string>();
    for (const e of engines) {
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(
        e.partEnv.PORTFOLIO,
      )!;
      if (!(await keys(s3, bucket).catch(() => null))) await s3.bucket(bucket);
      await put(s3, `s3://${bucket}/${key}`, await Deno.readFile(book));
      await Promise.all(
        [0, 1].map((k) => sh(e.part, { ...e.partEnv, [e.index]: String(k) })),
      );
      await sh(e.merge, e.mergeEnv);
      const prefix = e.mergeEnv.OUT.replace(`s3://${bucket}/`, "");
      const text = await getText(
        s3,
        bucket,
        `${prefix}/${e.mergeEnv.RUN_ID}/manifest.json`,
      );
      assert.ok(!seen.has(text), `${e.index}: a manifest of its own`);
      seen.add(text);
      const manifest = JSON.parse(text);
      assert.equal(manifest.status, "complete", e.index);
      assert.deepEqual(
        manifest.merged_from.map((p: Json) => p.run_id),
        partFolders("", e.mergeEnv.RUN_ID, n).map((f) => f.slice(1)),
      );
    }
  } finally {
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
