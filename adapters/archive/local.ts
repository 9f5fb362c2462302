/**
 * The embedded archive: files under a folder (DATA_DIR/archive by default), keyed like
 * the S3 objects. Writes go to a temporary file first and are renamed into place, so a
 * crash never leaves a half-written JSON Lines file behind.
 */

import { dirname, join, relative, resolve, sep } from "node:path";
import type { Archive } from "./port.ts";

export class LocalArchive implements Archive {
  readonly kind = "local";
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: string): Promise<void> {
    const path = this.pathOf(key);
    await Deno.mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, body);
    await Deno.rename(tmp, path);
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the folder the prefix names, not the whole archive.
    const slash = prefix.lastIndexOf("/");
    const folder = slash < 0 ? this.root : this.pathOf(prefix.slice(0, slash));
    const keys: string[] = [];
    const walk = async (dir: string) => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return;
        throw err;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory) await walk(path);
        else if (entry.isFile && !entry.name.endsWith(".tmp")) {
          const key = relative(this.root, path).split(sep).join("/");
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    await walk(folder);
    return keys.sort();
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await Deno.readTextFile(this.pathOf(key));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }

  async health() {
    try {
      await Deno.mkdir(this.root, { recursive: true });
      return { ok: true, detail: this.root };
    } catch (err) {
      return { ok: false, detail: String(err) };
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`key escapes the archive: ${key}`);
    return path;
  }
}
