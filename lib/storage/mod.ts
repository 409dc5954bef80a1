/**
 * Object storage (S3 and S3-compatible servers: GCS's XML API, MinIO):
 * `s3://bucket/key` URLs, the client and its configuration from the
 * standard AWS settings, one reader for every input (portfolio, rules,
 * FX table, model) and the S3 `Location` of run folders
 * ([`docs/storage.md`](../../docs/storage.md)).
 *
 * @module
 */
export {
  CONNECTION_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  forcePathStyle,
  REQUEST_TIMEOUT_MS,
  s3Client,
  s3ClientConfig,
  setS3Environment,
} from "./config.ts";
export { storageError } from "./errors.ts";
export {
  inputExists,
  type LocalCopy,
  localCopy,
  namingInput,
  readInputBytes,
  type ReadInputOptions,
  readInputText,
  sha256Of,
} from "./read.ts";
export {
  COMPLETE_MARKER,
  DEFAULT_PART_SIZE,
  MULTIPART_THRESHOLD,
  PUBLISHED_FILES_KEY,
  type PublishedFiles,
  S3Folder,
  s3Folder,
  type S3FolderOptions,
  type S3PublishOptions,
  type S3Staging,
} from "./s3_folder.ts";
export { isS3Url, parseS3Url, type S3Url, s3Url } from "./url.ts";
