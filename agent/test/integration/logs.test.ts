// Container logs against real containerd: rotation with a tiny limit (checked
// on disk from outside), and `k8shost-agent logs` run as a user runs it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BUSYBOX, clusterPerFile, podRunning, startPod, waitFor, type Cluster } from "../helpers/cluster";

const MAX_FILES = 3;
let c: Cluster;
clusterPerFile((started) => (c = started), { extraConfig: `logs: { containerLogMaxSize: 16Ki, containerLogMaxFiles: ${MAX_FILES}, containerLogMonitorIntervalSeconds: 1 }` });

const repo = new URL("../../../", import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** `k8shost-agent logs ...` from the sources as agent/bin/k8shost-agent runs them, against this cluster. */
function logs(args: string[], opts: { until?: (chunk: Buffer) => boolean } = {}): Promise<Run> {
  const conn = ["--server", c.cp.address, "--token-file", join(c.dir, "user.token"), "--config", join(c.dir, "agent.yaml")];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(repo, "agent/src/main.ts"), "logs", ...args, ...conn], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      out.push(d);
      if (opts.until?.(d)) p.kill("SIGINT"); // Ctrl-C
    });
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
  });
}

const containerDir = (name: string, uid: string, container: string): string => join(c.dir, "logs", `default_${name}_${uid}`, container);
/** The numbers of "seq N" lines in CRI log content. */
const seqs = (text: string): number[] => [...text.matchAll(/\bseq (\d+) 0/g)].map((m) => Number(m[1]));
const consecutive = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x === xs[i - 1]! + 1);

test("rotation: at most containerLogMaxFiles files, older ones gzipped, no line lost, the runtime writes on into the new file", async () => {
  // ~300 lines of ~100 bytes a second: the 16Ki limit is passed about every second.
  const pod = await startPod(c, {
    metadata: { name: "chatty" },
    spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "i=0; pad=$(printf '%080d' 0); while true; do echo \"seq $i $pad\"; i=$((i+1)); usleep 3000; done"] }] },
  });
  const dir = containerDir("chatty", pod.metadata!.uid, "c");
  const tooMany: string[] = [];
  const listing = (): string[] => {
    const files = readdirSync(dir).sort();
    if (files.length > MAX_FILES) tooMany.push(files.join(" "));
    return files;
  };
  const snapshot = await waitFor(
    "several rotations",
    () => {
      const files = listing();
      const gz = files.filter((f) => f.endsWith(".gz"));
      const plain = files.filter((f) => /^0\.log\.\d{8}-\d{6}$/.test(f));
      if (files.length !== MAX_FILES || gz.length !== 1 || plain.length !== 1 || !files.includes("0.log")) return undefined;
      // Oldest to newest: the gzipped file, the plain rotated one, the live file.
      const parts = [gunzipSync(readFileSync(join(dir, gz[0]!))).toString(), readFileSync(join(dir, plain[0]!), "utf8"), readFileSync(join(dir, "0.log"), "utf8")];
      if (listing().join(" ") !== files.join(" ")) return undefined; // rotated while being read
      const numbers = parts.map(seqs);
      // Until the first file's lines are gone, the oldest rotated file has not been removed yet;
      // right after a rotation the live file may hold nothing yet.
      return numbers[0]![0]! > 0 && numbers[2]!.length > 0 ? numbers : undefined;
    },
    60_000,
    100,
  );
  const [older, rotated, live] = snapshot as [number[], number[], number[]];
  const all = [...older, ...rotated, ...live];
  // One unbroken run, oldest file first: nothing lost at a rotation, and the newest lines are the live file's.
  assert.ok(consecutive(all), `gz ${older[0]}..${older.at(-1)}, rotated ${rotated[0]}..${rotated.at(-1)}, live ${live[0]}..${live.at(-1)}`);
  // Only a reopened file takes new output: without ReopenContainerLog the runtime would write on into the renamed one.
  const last = all.at(-1)!;
  await waitFor("new output in the live file", () => listing() && seqs(readFileSync(join(dir, "0.log"), "utf8")).some((n) => n > last), 30_000, 100);
  assert.deepEqual(tooMany, [], `never more than ${MAX_FILES} files`);

  // `logs -f` follows across rotations: every line once, in order, until Ctrl-C.
  let first: number | undefined;
  const followed = await logs(["chatty", "-f"], {
    until: (chunk) => {
      const s = seqs(chunk.toString());
      first ??= s[0];
      return first !== undefined && s.length > 0 && s.at(-1)! - first > 1000;
    },
  });
  const got = seqs(followed.stdout.toString());
  assert.ok(got.at(-1)! - got[0]! > 1000, followed.stderr);
  assert.ok(consecutive(got), "no line lost or repeated across rotations");
  await c.deletePod("chatty", 0);
});

test("logs --previous shows the prior run of a restarted container; logs shows the current one", async () => {
  const script = "if [ -f /data/ran ]; then echo second run; exec sleep 3600; fi; touch /data/ran; echo first run; echo first run stderr >&2; exit 1";
  await c.createPod({
    metadata: { name: "restarter" },
    spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", script], volumeMounts: [{ name: "data", mountPath: "/data" }] }], volumes: [{ name: "data", emptyDir: {} }] },
  });
  await podRunning(c, "restarter", (p) => p.status!.containerStatuses[0]!.restartCount >= 1 && !!p.status!.containerStatuses[0]!.state?.running, 60_000);
  const prev = await logs(["restarter", "--previous"]);
  assert.equal(prev.code, 0, prev.stderr);
  const text = prev.stdout.toString();
  assert.match(text, /^first run\n/m);
  assert.match(text, /^first run stderr\n/m);
  assert.ok(!text.includes("second run"));
  const cur = await waitFor("the current run's output", async () => {
    const r = await logs(["restarter"]);
    return r.stdout.length ? r : undefined;
  });
  assert.equal(cur.stdout.toString(), "second run\n");
  await c.deletePod("restarter", 0);
});

test("logs: -c required and checked, --tail, --timestamps, both streams, bytes as written, no previous instance, -f ends with the container", async () => {
  const a = "echo err >&2; sleep 1; for i in 1 2 3 4 5; do echo a$i; done; sleep 3600";
  const b = "printf 'bin \\001\\377\\200 end\\n'; sleep 3600";
  await startPod(c, { metadata: { name: "multi" }, spec: { containers: [{ name: "a", image: BUSYBOX, command: ["sh", "-c", a] }, { name: "b", image: BUSYBOX, command: ["sh", "-c", b] }] } });

  const full = await waitFor("all of a's output", async () => {
    const r = await logs(["multi", "-c", "a"]);
    return r.stdout.toString().endsWith("a5\n") ? r : undefined;
  });
  assert.equal(full.stdout.toString(), "err\na1\na2\na3\na4\na5\n", "stderr and stdout, in the order written");
  // The rest read what is already written: run side by side.
  const [noC, badC, tail, stamped, since, bin, noPrev] = await Promise.all([
    logs(["multi"]),
    logs(["multi", "-c", "nope"]),
    logs(["multi", "-c", "a", "--tail", "3"]),
    logs(["multi", "-c", "a", "--tail", "1", "--timestamps"]),
    logs(["multi", "-c", "a", "--since", "1h"]),
    logs(["multi", "-c", "b"]),
    logs(["multi", "-c", "b", "--previous"]),
  ]);
  assert.equal(noC.code, 1);
  assert.match(noC.stderr, /a container name must be specified for pod multi, choose one of: \[a b\]/);
  assert.equal(badC.code, 1);
  assert.match(badC.stderr, /container nope is not valid for pod multi/);
  assert.equal(tail.stdout.toString(), "a3\na4\na5\n", tail.stderr);
  assert.match(stamped.stdout.toString(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) a5\n$/);
  assert.equal(since.stdout.toString(), full.stdout.toString());
  assert.deepEqual(bin.stdout, Buffer.from([...Buffer.from("bin "), 0o001, 0o377, 0o200, ...Buffer.from(" end\n")]), "the bytes as the container wrote them");
  assert.equal(noPrev.code, 1);
  assert.match(noPrev.stderr, /previous terminated container "b" in pod "multi" not found/);
  await c.deletePod("multi", 0);

  // -f on a container that exits: the follow ends by itself.
  await startPod(c, { metadata: { name: "finite" }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "echo start; sleep 2; echo end"] }] } });
  const followed = await logs(["finite", "-f"]);
  assert.equal(followed.code, 0, followed.stderr);
  assert.equal(followed.stdout.toString(), "start\nend\n");
  await c.deletePod("finite", 0);
});
