/**
 * Identities without passwords: a user id and a token that proves it, an HMAC of the id
 * under the server's secret. Nothing is stored per user; any instance holding the same
 * secret (AUTH_SECRET) can check any token. The token is `<userId>.<signature>`.
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export class Identity {
  constructor(private readonly secret: string) {}

  /** A fresh user: an unguessable id and its token. */
  issue(): { userId: string; token: string } {
    const userId = `u-${randomBytes(12).toString("base64url")}`;
    return { userId, token: this.tokenFor(userId) };
  }

  tokenFor(userId: string): string {
    return `${userId}.${this.sign(userId)}`;
  }

  /** The user id a token proves, or undefined for anything forged, truncated or malformed. */
  verify(token: string | undefined): string | undefined {
    if (!token || token.length > 200) return undefined;
    const dot = token.lastIndexOf(".");
    if (dot <= 0) return undefined;
    const userId = token.slice(0, dot);
    // The signature's text, not its decoded bytes: a base64url decoder ignores the last
    // character's spare bits and any character outside the alphabet, so decoding would
    // accept other spellings of a valid token.
    const given = Buffer.from(token.slice(dot + 1), "utf8");
    const expected = Buffer.from(this.sign(userId), "utf8");
    return given.length === expected.length && timingSafeEqual(given, expected) ? userId : undefined;
  }

  private sign(userId: string): string {
    return createHmac("sha256", this.secret).update(`alertcircle-user:${userId}`).digest("base64url");
  }
}

/**
 * The secret from AUTH_SECRET, or else one made on first start and kept (owner-only)
 * in DATA_DIR, so tokens survive restarts. Several instances must share AUTH_SECRET.
 */
export async function loadAuthSecret(configured: string | undefined, dataDir: string): Promise<string> {
  if (configured) return configured;
  const path = `${dataDir}/auth_secret`;
  try {
    const kept = (await Deno.readTextFile(path)).trim();
    if (kept.length >= 32) return kept;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await Deno.mkdir(dataDir, { recursive: true });
  const fresh = randomBytes(32).toString("hex");
  await Deno.writeTextFile(path, fresh + "\n", { mode: 0o600 });
  return fresh;
}
