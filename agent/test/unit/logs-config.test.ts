// The `logs` section of the agent's config: the kubelet's defaults, and bad values named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildConfig } from "../../src/config/schema";

test("log rotation defaults are the kubelet's: 10Mi, 5 files, every 10 s", () => {
  assert.deepEqual(buildConfig().logs, { containerLogMaxSize: "10Mi", containerLogMaxFiles: 5, containerLogMonitorIntervalSeconds: 10 });
  assert.equal(buildConfig({ logs: { containerLogMaxSize: "16Ki" } }).logs.containerLogMaxFiles, 5, "a partial section keeps the other defaults");
});

test("bad log rotation settings name their field", () => {
  const cases: [unknown, RegExp][] = [
    [{ containerLogMaxSize: "ten megs" }, /'logs.containerLogMaxSize': 'ten megs' is not a positive quantity/],
    [{ containerLogMaxSize: "0" }, /'logs.containerLogMaxSize'/],
    [{ containerLogMaxSize: 1024 }, /'logs.containerLogMaxSize': must be a string/],
    [{ containerLogMaxFiles: 1 }, /'logs.containerLogMaxFiles': must be an integer >= 2/],
    [{ containerLogMaxFiles: 2.5 }, /'logs.containerLogMaxFiles'/],
    [{ containerLogMonitorIntervalSeconds: 0 }, /'logs.containerLogMonitorIntervalSeconds': must be > 0/],
    [{ maxSize: "1Mi" }, /'logs.maxSize': unknown field/],
  ];
  for (const [logs, want] of cases) assert.throws(() => buildConfig({ logs }), want, JSON.stringify(logs));
});
