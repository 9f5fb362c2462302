import assert from "node:assert/strict";
import { Identity, loadAuthSecret } from "./identity.ts";

Deno.test("identity: tokens prove their user, and nothing else verifies", () => {
  const id = new Identity("a".repeat(32));
  const { userId, token } = id.issue();
  assert.match(userId, /^u-[A-Za-z0-9_-]{16}$/);
  assert.equal(id.verify(token), userId);
  const other = id.issue();
  assert.notEqual(other.userId, userId);
  // Another user's signature, a flipped character, another secret, junk: all refused.
  assert.equal(id.verify(`${userId}.${other.token.split(".")[1]}`), undefined);
  assert.equal(id.verify(token.slice(0, -1) + (token.endsWith("A") ? "B" : "A")), undefined);
  assert.equal(new Identity("b".repeat(32)).verify(token), undefined);
  // Every other spelling of the last character too: it carries two spare bits that a
  // base64url decoder ignores, so a check on decoded bytes would let some through.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (const c of alphabet.replace(token.slice(-1), "")) assert.equal(id.verify(token.slice(0, -1) + c), undefined, c);
  for (const junk of [undefined, "", ".", "abc", `${userId}.`, "x".repeat(500)]) {
    assert.equal(id.verify(junk), undefined);
  }
});

Deno.test("identity: a generated secret is kept owner-only in the data dir and reused", async () => {
  const dir = await Deno.makeTempDir();
  const first = await loadAuthSecret(undefined, dir);
  assert.equal(await loadAuthSecret(undefined, dir), first);
  assert.equal((await Deno.stat(`${dir}/auth_secret`)).mode! & 0o777, 0o600);
  assert.equal(await loadAuthSecret("c".repeat(40), dir), "c".repeat(40));
  await Deno.remove(dir, { recursive: true });
});
