import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../src/log";

function capture(level?: "debug" | "info" | "warn") {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: "t", level, sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

test("lines are pino-shaped JSON: numeric level, time, component, fields, msg", () => {
  const { log, lines } = capture();
  log.warn({ pod: "ns/a", n: 10n }, "pod sync failed");
  log.info("plain");
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.level, 40);
  assert.equal(lines[0]!.component, "t");
  assert.equal(lines[0]!.pod, "ns/a");
  assert.equal(lines[0]!.n, "10");
  assert.equal(lines[0]!.msg, "pod sync failed");
  assert.ok(!Number.isNaN(Date.parse(String(lines[0]!.time))));
  assert.equal(lines[1]!.msg, "plain");
});

test("levels below the minimum are dropped; child loggers carry their bindings", () => {
  const { log, lines } = capture("warn");
  log.info({}, "dropped");
  log.debug({}, "dropped");
  log.child({ driver: "x" }).error({}, "kept");
  assert.deepEqual(lines.map((l) => [l.msg, l.driver]), [["kept", "x"]]);
});

test("credentials are redacted at any depth, whatever the case of the key", () => {
  const { log, lines } = capture();
  log.info({ token: "s3cret", req: { Authorization: "Bearer s3cret", auth: { password: "pw-1" } }, list: [{ registryToken: "rt-1" }] }, "m");
  const text = JSON.stringify(lines);
  assert.doesNotMatch(text, /s3cret|pw-1|rt-1/);
  assert.match(text, /\[redacted\]/);
});
