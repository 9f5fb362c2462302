/**
 * Checks the RESP2 client against a real redis-server (started via redis.ts): every
 * reply type, errors at the top level and nested, UTF-8, replies split across reads,
 * and deep pipelining with replies matched to requests in order.
 */

import assert from "node:assert/strict";
import { provision, start } from "./redis.ts";
import { RespClient, RespError } from "./resp.ts";

async function withRedis(fn: (client: RespClient) => Promise<void>): Promise<void> {
  await provision();
  const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-resp-test-" });
  const redis = await start({ dataDir });
  let client: RespClient | undefined;
  try {
    client = await RespClient.connect({ port: redis.port });
    await fn(client);
  } finally {
    await client?.close();
    await redis.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("resp: simple strings, bulk strings, integers, nulls, nested arrays", () =>
  withRedis(async (c) => {
    assert.equal(await c.send(["PING"]), "PONG");
    assert.equal(await c.send(["SET", "k", "v"]), "OK");
    assert.equal(await c.send(["GET", "k"]), "v");
    assert.equal(await c.send(["GET", "missing"]), null);
    assert.equal(await c.send(["SET", "empty", ""]), "OK");
    assert.equal(await c.send(["GET", "empty"]), "");
    assert.equal(await c.send(["INCR", "n"]), 1);
    assert.equal(await c.send(["DECRBY", "n", 5]), -4);
    assert.equal(await c.send(["INCRBY", "big", 2 ** 53 - 1]), 2 ** 53 - 1);
    // Numbers travel as their shortest round-trip text.
    assert.equal(await c.send(["SET", "f", 0.1 + 0.2]), "OK");
    assert.equal(await c.send(["GET", "f"]), "0.30000000000000004");
    // A null array (RESP2 `*-1`): BLPOP that times out.
    assert.equal(await c.send(["BLPOP", "no-such-list", 0.01]), null);
    assert.deepEqual(await c.send(["EVAL", "return {1, {2, {'deep', {}}}, 'x', -7}", 0]), [
      1,
      [2, ["deep", []]],
      "x",
      -7,
    ]);
    assert.deepEqual(await c.send(["RPUSH", "l", "a", "b", "c"]), 3);
    assert.deepEqual(await c.send(["LRANGE", "l", 0, -1]), ["a", "b", "c"]);
  }));

Deno.test("resp: error replies reject, nested errors are values, the connection stays usable", () =>
  withRedis(async (c) => {
    await assert.rejects(c.send(["NO-SUCH-COMMAND"]), (err: unknown) => {
      assert.ok(err instanceof RespError);
      assert.match(err.message, /^ERR unknown command/);
      return true;
    });
    assert.equal(await c.send(["SET", "s", "text"]), "OK");
    // EXEC reports a failed command inside its array reply, and the others still run.
    assert.equal(await c.send(["MULTI"]), "OK");
    assert.equal(await c.send(["INCR", "s"]), "QUEUED");
    assert.equal(await c.send(["SET", "t", "1"]), "QUEUED");
    const exec = await c.send(["EXEC"]);
    assert.ok(Array.isArray(exec) && exec.length === 2);
    assert.ok(exec[0] instanceof RespError);
    assert.match((exec[0] as RespError).message, /not an integer/);
    assert.equal(exec[1], "OK");
    // Errors in the middle of a pipeline reject only their own command.
    const results = await Promise.allSettled([
      c.send(["INCR", "n"]),
      c.send(["INCR", "s"]),
      c.send(["INCR", "n"]),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal((results[2] as PromiseFulfilledResult<unknown>).value, 2);
    await assert.rejects(c.send(["SET", "x", Number.NaN]), RangeError);
    assert.equal(await c.send(["PING"]), "PONG");
  }));

Deno.test("resp: UTF-8 and binary-unsafe-looking text round-trip, large values span many reads", () =>
  withRedis(async (c) => {
    const texts = ["שלום", "日本語", "emoji 🚨🧭", "line\r\nbreak\r\n", "$5\r\n*1\r\n", "é".repeat(100)];
    for (const [i, t] of texts.entries()) {
      assert.equal(await c.send(["SET", `u${i}`, t]), "OK");
      assert.equal(await c.send(["GET", `u${i}`]), t);
      assert.equal(await c.send(["STRLEN", `u${i}`]), new TextEncoder().encode(t).length);
    }
    // Keys with multi-byte characters: the request length prefix must count bytes.
    assert.equal(await c.send(["SET", "מפתח🔑", "v"]), "OK");
    assert.deepEqual(await c.send(["KEYS", "מפתח*"]), ["מפתח🔑"]);

    const big = "0123456789abcdef".repeat(256 * 1024) + "✓"; // ~4 MiB, far beyond one read
    assert.equal(await c.send(["SET", "big", big]), "OK");
    const [a, b, back] = await Promise.all([c.send(["GET", "big"]), c.send(["PING"]), c.send(["GET", "big"])]);
    assert.equal(a, big);
    assert.equal(b, "PONG");
    assert.equal(back, big);
  }));

Deno.test("resp: thousands of pipelined commands resolve in request order", () =>
  withRedis(async (c) => {
    const n = 50_000;
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: n }, () => c.send(["INCR", "counter"])));
    const seconds = (performance.now() - started) / 1000;
    for (let i = 0; i < n; i++) assert.equal(replies[i], i + 1);
    assert.equal(c.inFlight, 0);
    console.log(`resp: ${n} pipelined INCRs in ${seconds.toFixed(3)} s (${Math.round(n / seconds)}/s)`);

    // Interleaved reply sizes: big array replies between small ones.
    await c.send(["RPUSH", "many", ...Array.from({ length: 5000 }, (_, i) => `member-${i}`)]);
    const mixed = await Promise.all(
      Array.from({ length: 200 }, (_, i) => i % 2 ? c.send(["LRANGE", "many", 0, -1]) : c.send(["ECHO", `e${i}`])),
    );
    for (let i = 0; i < mixed.length; i++) {
      if (i % 2) {
        const list = mixed[i] as string[];
        assert.equal(list.length, 5000);
        assert.equal(list[4999], "member-4999");
      } else assert.equal(mixed[i], `e${i}`);
    }
  }));

Deno.test("resp: close rejects replies still outstanding and later sends", () =>
  withRedis(async (c) => {
    const blocked = assert.rejects(c.send(["BLPOP", "never", 30]), /closed/);
    await c.close();
    await blocked;
    await assert.rejects(c.send(["PING"]), /closed/);
  }));
