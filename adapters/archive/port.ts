/**
 * The archive port: a flat namespace of immutable-looking objects (JSON Lines files of
 * enriched alerts) under Hive-style keys. `put` overwrites, which is what makes replays
 * harmless: the same offsets always produce the same key.
 */

export interface Archive {
  readonly kind: "local" | "s3";
  /** Writes (or overwrites) the object whole; readers never see half of it. */
  put(key: string, body: string): Promise<void>;
  /** Keys that start with `prefix`, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<string | undefined>;
  health(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
