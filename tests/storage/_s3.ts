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
import net from "node:net";
import S3rver from "s3rver";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { setS3Environment } from "../../lib/storage/mod.ts";

/** A running server and the environment to reach it. */
export interface TestS3 {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Variables for a subprocess (this isolate's S3 settings while it runs). */
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
  // This isolate's settings, not the process environment that the other
  // test files of a parallel run share (lib/storage/config.ts); a task run
  // as a subprocess is given `env`.
  const before = setS3Environment(env);
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
      setS3Environment(before);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Every key in `bucket` under `prefix`, sorted. */
export async function keys(
  s3: TestS3,
  bucket: string,
  prefix = "",
): Promise<string[]> {
  const out = await s3.client.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }),
  );
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** Puts `body` at the `s3://bucket/key` URL `url`, with the test's own client. */
export async function put(s3: TestS3, url: string, body: Uint8Array | string) {
  const [, bucket, key] = url.match(/^s3:\/\/([^/]+)\/(.+)$/)!;
  await s3.client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
  );
}

/** The object `key` of `bucket` as text, with the test's own client. */
export async function getText(s3: TestS3, bucket: string, key: string) {
  const out = await s3.client.send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
  );
  return await out.Body!.transformToString();
}

/** SHA-256 (hex) of `bytes`, by WebCrypto (not the code under test's hash). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** One HTTP request as a {@link RawServer} saw it. */
export interface RawRequest {
  /** `GET`, `PUT`, … */
  method: string;
  /** The path and query. */
  path: string;
  /** Headers, lower-cased names. */
  headers: Record<string, string>;
}

/** A loopback TCP server speaking just enough HTTP for one test. */
export interface RawServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Every request's head, in order. */
  requests: RawRequest[];
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

/**
 * Starts a loopback server that hands each request's head to `answer`
 * with its socket (to write an answer, cut it, or never answer), and sets
 * this process's S3 settings to reach it (path style, dummy keys); `close`
 * restores them.
 */
export async function startRawServer(
  answer: (req: RawRequest, socket: net.Socket) => void,
  extraEnv: Record<string, string> = {},
): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [line, ...rest] = buffered.slice(0, end).split("\r\n");
        buffered = buffered.slice(end + 4);
        const [method, path] = line.split(" ");
        const headers: Record<string, string> = {};
        for (const h of rest) {
          const at = h.indexOf(":");
          headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
        }
        const req = { method, path, headers };
        requests.push(req);
        answer(req, socket);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as net.AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    IFRS9_S3_FORCE_PATH_STYLE: "true",
    ...extraEnv,
  };
  const before = setS3Environment(env);
  return {
    endpoint,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      setS3Environment(before);
    },
  };
}
