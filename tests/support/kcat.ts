/**
 * Reads a Kafka topic with kcat (librdkafka, Debian's `kcat` package): an independent
 * client, so a test does not trust our own consumer to check what our producer wrote.
 * Reads committed data only, as every AlertCircle consumer does.
 */

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

export async function readTopic(brokers: string, topic: string): Promise<KcatMessage[]> {
  const out = await new Deno.Command("kcat", {
    args: [
      "-C",
      "-b",
      brokers,
      "-t",
      topic,
      "-o",
      "beginning",
      "-e",
      "-q",
      "-J",
      "-X",
      "isolation.level=read_committed",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`kcat failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}
