/**
 * Takes a CPU profile of a Deno process started with --inspect, through the V8 inspector
 * protocol, and prints where the time went (self time per function, top N). Used to find
 * hot spots under benchmark load.
 */

export async function withCpuProfile<T>(inspectPort: number, work: () => Promise<T>, top = 25): Promise<T> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)!(msg.result);
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const i = ++id;
      pending.set(i, resolve);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  const result = await work();
  const { profile } = await call("Profiler.stop") as {
    profile: {
      nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
      samples: number[];
      timeDeltas: number[];
    };
  };
  ws.close();
  const self = new Map<number, number>();
  profile.samples.forEach((node, i) => self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    total += t;
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(node_modules\/\.deno\/)?/, "")}:${
      f.lineNumber + 1
    }`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
  }
  const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.error(`CPU profile: ${Math.round(total / 1000)} ms sampled`);
  for (const [k, t] of rows) console.error(`${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`);
  return result;
}

/**
 * Samples where a Deno process started with --inspect allocates memory while `work`
 * runs (V8's sampling heap profiler), and prints the top allocation sites by bytes.
 * Allocation churn is what makes young-generation collections (and latency tails).
 */
export async function withAllocationProfile<T>(
  inspectPort: number,
  work: () => Promise<T>,
  top = 20,
  /** false: only what is still alive at the end (what is retained, not what churns). */
  includeCollected = true,
): Promise<T> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)!(msg.result);
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const i = ++id;
      pending.set(i, resolve);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  await call("HeapProfiler.enable");
  // Keep samples of collected objects too: churn, not just what survives, is the point.
  await call("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: includeCollected,
    includeObjectsCollectedByMinorGC: includeCollected,
  });
  const result = await work();
  // For what is retained, collect first: promoted garbage is not retention.
  if (!includeCollected) await call("HeapProfiler.collectGarbage");
  const { profile } = await call("HeapProfiler.stopSampling") as {
    profile: { head: AllocNode };
  };
  ws.close();
  interface AllocNode {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: AllocNode[];
  }
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (n: AllocNode) => {
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(node_modules\/\.deno\/)?/, "")}:${
      f.lineNumber + 1
    }`;
    bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  console.error(`allocation profile: ${(total / 1e6).toFixed(0)} MB sampled`);
  for (const [k, b] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.error(`${(100 * b / total).toFixed(1).padStart(5)}%  ${(b / 1e6).toFixed(1).padStart(7)} MB  ${k}`);
  }
  return result;
}
