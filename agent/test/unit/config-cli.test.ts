// `k8shost-agent config defaults` and `config check`: the defaults are the
// schema's (a round trip through the loader gives defaultConfig() back, on any
// host), and check accepts exactly what the loader accepts, naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { configProblem, defaultsYaml } from "../../src/cli/config";
import { buildConfig, defaultConfig } from "../../src/config/schema";

const repo = new URL("../../../", import.meta.url).pathname;

function tempFile(t: { after(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "agent-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "config.yaml");
  writeFileSync(file, text);
  return file;
}

test("config defaults: every field at its default, loaded back unchanged", () => {
  const text = defaultsYaml();
  assert.deepEqual(buildConfig(parse(text)), defaultConfig());
  // Every top-level field but the host-derived nodeName is written out.
  const written = Object.keys(parse(text) as object).sort();
  assert.deepEqual(written, Object.keys(defaultConfig()).filter((k) => k !== "nodeName").sort());
});

test("config defaults names no host: nodeName is a comment, so the file fits every node", () => {
  const text = defaultsYaml();
  assert.doesNotMatch(text, /^nodeName:/m);
  assert.match(text, /^# nodeName: /m);
});

test("config check: a valid file has no problem; a bad or unknown field is named", (t) => {
  assert.equal(configProblem(tempFile(t, defaultsYaml())), undefined);
  assert.equal(configProblem(tempFile(t, "nodeName: worker-1\nheartbeatSeconds: 5\n")), undefined);
  assert.match(configProblem(tempFile(t, "heartbeatSeconds: soon\n")) ?? "", /'heartbeatSeconds': must be a number/);
  assert.match(configProblem(tempFile(t, "network: { novanet: { modee: ovs } }\n")) ?? "", /'network\.novanet\.modee': unknown field/);
  assert.match(configProblem(tempFile(t, "network: { mode: novanet }\n")) ?? "", /'network\.novanet\.serverAddress'/);
  assert.match(configProblem(tempFile(t, "a: [\n")) ?? "", /not valid YAML/);
  assert.match(configProblem("/nonexistent/agent.yaml") ?? "", /cannot read config file/);
});

test("k8shost-agent config check: exit 0 and ok, or exit 1 and the field on stderr", (t) => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(repo, "agent/src/main.ts"), "config", ...args], { cwd: repo, encoding: "utf8" });
  const ok = cli("check", tempFile(t, "maxPods: 50\n"));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, "ok\n");
  const bad = cli("check", tempFile(t, "maxPods: -1\n"));
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /config field 'maxPods': must be > 0/);
});
