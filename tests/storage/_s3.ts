/**
 * A real S3-protocol server for the storage tests: `s3rver` (npm) on
 * loopback, on a free port, over a temporary folder, silent. The
 * environment that points the real `@aws-sdk/client-s3` at it is the one a
 * user sets for MinIO (README "Object storage"): `AWS_ENDPOINT_URL`,
 * `AWS_REGION`, keys, `IFRS9_S3_FORCE_PATH_STYLE=true`. s3rver accepts the
 * key pair `S3RVER` / `S3RVER` and refuses any other.
 *
 * @module
 */
import S3rver from "s3rver";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/** A running server and the environment to reach it. */
export interface TestS3 {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Variables for a subprocess (and set in this process while it runs). */
  env: Record<string, string>;
  /** A client of its own, for the tests' direct looks. */
  client: S3Client;
  /** Stops the server (its data stays), as an outage would. */
  stop(): Promise<void>;
  /** Starts it again on the same port over the same data. */
  restart(): Promise<void>;
  /** Makes a bucket. */
  bucket(name: string): Promise<void>;
  /** Stops the server, restores the environment, removes the folder. */
  close(): Promise<void>;
}

/** Starts s3rver and points this process's S3 settings at it. */
export async function startS3(): Promise<TestS3> {
  const dir = await Deno.makeTempDir({ prefix: "s3rver-" });
  const serve = (port: number) =>
    new S3rver({ port, address: "127.0.0.1", directory: dir, silent: true });
  let server: S3rver | null = serve(0);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    IFRS9_S3_FORCE_PATH_STYLE: "true",
    // Retries stay on, quicker to give up in the failure tests.
    AWS_MAX_ATTEMPTS: "2",
  };
  const before = Object.fromEntries(
    Object.keys(env).map((k) => [k, Deno.env.get(k)]),
  );
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  return {
    endpoint,
    env,
    client,
    stop: async () => {
      await server?.close();
      server = null;
    },
    restart: async () => {
      server = serve(port);
      await server.run();
    },
    bucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    close: async () => {
      client.destroy();
      await server?.close();
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
