// The termination message as the kubelet reads it: the file's last 4 KiB, or
// with FallbackToLogsOnError, an empty file and a failure, the log's last 80
// lines (2 KiB at most); the per-instance files and their pruning.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerStatus } from "@plasmacloud/proto/cri";
import { criLogContent, exitMessage, prepareTerminationFile, terminationAnnotations } from "../../src/runtime/termination";

const dir = mkdtempSync(join(tmpdir(), "termination-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const logLine = (msg: string, tag = "F", stream = "stdout"): string => `2024-01-02T03:04:05.123456789Z ${stream} ${tag} ${msg}\n`;

function status(o: { file?: string; log?: string; exitCode?: number; fallback?: boolean; message?: string; reason?: string; path?: string }): ContainerStatus {
  const hostPath = join(dir, `msg-${Math.random()}`);
  if (o.file !== undefined) writeFileSync(hostPath, o.file);
  const logPath = join(dir, `log-${Math.random()}`);
  if (o.log !== undefined) writeFileSync(logPath, o.log);
  return ContainerStatus.fromPartial({
    exitCode: o.exitCode ?? 0,
    reason: o.reason ?? (o.exitCode ? "Error" : "Completed"),
    message: o.message ?? "",
    annotations: terminationAnnotations(o.path ?? "/dev/termination-log", o.fallback ?? false),
    mounts: [{ containerPath: "/dev/termination-log", hostPath }],
    logPath,
  });
}

test("the file's content is the message; only its last 4096 bytes; the runtime's message comes first", async () => {
  assert.equal(await exitMessage(status({ file: "all done\n" })), "all done\n");
  const big = `${"a".repeat(5000)}${"z".repeat(4000)}END`;
  const m = await exitMessage(status({ file: big }));
  assert.equal(m.length, 4096);
  assert.ok(m.endsWith("zEND") && m.startsWith("aaa"));
  assert.equal(await exitMessage(status({ file: "bye", message: "OOMKilled by the kernel" })), "OOMKilled by the kernel: bye");
  assert.equal(await exitMessage(status({ file: "", message: "runtime says" })), "runtime says");
  assert.equal(await exitMessage(status({ message: "no file at all" })), "no file at all");
});

test("FallbackToLogsOnError: an empty file and a non-zero exit take the log's last 80 lines, 2048 bytes at most", async () => {
  const lines = Array.from({ length: 100 }, (_, i) => logLine(`line ${i}`)).join("");
  const fromLog = await exitMessage(status({ file: "", log: lines, exitCode: 3, fallback: true }));
  assert.equal(fromLog, Array.from({ length: 80 }, (_, i) => `line ${i + 20}\n`).join(""));
  const long = Array.from({ length: 60 }, (_, i) => logLine(`${String(i).padStart(2, "0")}${"x".repeat(60)}`)).join("");
  const capped = await exitMessage(status({ file: "", log: long, exitCode: 1, fallback: true }));
  assert.equal(Buffer.byteLength(capped), 2048);
  assert.ok(capped.endsWith(`59${"x".repeat(60)}\n`));
  // What the file says wins; a zero exit or File policy never reads the log.
  assert.equal(await exitMessage(status({ file: "own words", log: lines, exitCode: 3, fallback: true })), "own words");
  assert.equal(await exitMessage(status({ file: "", log: lines, exitCode: 0, fallback: true })), "");
  assert.equal(await exitMessage(status({ file: "", log: lines, exitCode: 3, fallback: false })), "");
  assert.equal(await exitMessage(status({ file: "", log: lines, exitCode: 3, fallback: true, reason: "ContainerCannotRun" })), "");
  // No file mounted at the path (another path asked for): still falls back.
  assert.equal(await exitMessage(status({ log: logLine("tail"), exitCode: 2, fallback: true, path: "/other" })), "tail\n");
});

test("CRI log lines: partial lines join without a newline, both streams, odd lines skipped", () => {
  const raw = logLine("hel", "P") + logLine("lo", "F", "stderr") + "garbage\n" + logLine("") + logLine("with  spaces");
  assert.equal(criLogContent(Buffer.from(raw)).toString(), "hello\n\nwith  spaces\n");
});

test("one empty 0666 file per instance; files older than the previous instance go", async () => {
  const d = join(dir, "pods", "uid", "containers", "c");
  const old = process.umask(0o077); // a strict umask must not narrow the file's mode
  try {
    for (const attempt of [0, 1, 2, 3]) {
      const f = await prepareTerminationFile(d, attempt);
      assert.equal(f, join(d, String(attempt)));
      assert.equal(statSync(f).mode & 0o777, 0o666);
      assert.equal(statSync(f).size, 0);
      writeFileSync(f, `run ${attempt}`);
    }
  } finally {
    process.umask(old);
  }
  assert.deepEqual(readdirSync(d).sort(), ["2", "3"]);
  await prepareTerminationFile(d, 3); // the same instance again (a failed create): emptied
  assert.equal(statSync(join(d, "3")).size, 0);
  await prepareTerminationFile(d, 0); // a new sandbox starts over
  assert.deepEqual(readdirSync(d), ["0"]);
});
