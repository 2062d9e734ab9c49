// The executable loads only what a verb needs: run the built bundle
// (dist/novanet.cjs, what every executable kind is made of) under Node with
// a hook that records every builtin module it asks for. VERSION must start
// neither the NovaNET client nor any plumbing; STATUS is the control that
// proves the probe sees the client's socket once it is loaded; no verb ever
// loads node:http2 (h2.ts speaks HTTP/2 itself).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuilt, pluginDir } from "../helpers/build.js";

const HOOK = `
const Module = require("node:module");
const seen = new Set();
const req = Module.prototype.require;
Module.prototype.require = function (id) { if (Module.isBuiltin(id)) seen.add(id.replace(/^node:/, "")); return req.apply(this, arguments); };
const gbm = process.getBuiltinModule;
process.getBuiltinModule = (id) => { seen.add(id.replace(/^node:/, "")); return gbm(id); };
const exit = process.exit;
process.exit = (code) => { require("node:fs").writeSync(2, "\\nLOADED " + JSON.stringify([...seen]) + "\\n"); exit(code); };
`;

function loaded(env: Record<string, string>, stdin: string): string[] {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "novanet-lazy-"));
  try {
    writeFileSync(join(dir, "hook.cjs"), HOOK);
    // STATUS fails (nothing listens there): fine, what it loaded is on stderr either way.
    const r = spawnSync(process.execPath, ["-r", join(dir, "hook.cjs"), join(pluginDir, "dist/novanet.cjs")],
      { env: { PATH: process.env.PATH ?? "", ...env }, input: stdin, encoding: "utf8" });
    const line = r.stderr.split("\n").find((l) => l.startsWith("LOADED "));
    assert.ok(line, `no LOADED line: exit ${r.status}, stderr ${r.stderr}`);
    return JSON.parse(line.slice(7)) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const client = ["net", "tls", "http2"];
const plumbing = ["child_process", "crypto"];

test("VERSION loads neither the NovaNET client nor the plumbing", () => {
  const mods = loaded({ CNI_COMMAND: "VERSION" }, "");
  for (const m of [...client, ...plumbing]) assert.ok(!mods.includes(m), `VERSION loaded ${m}: ${mods.join(", ")}`);
});

test("STATUS loads the client's socket, never node:http2 (control)", () => {
  const conf = JSON.stringify({ cniVersion: "1.1.0", name: "n", type: "novanet", novanet: { server_addr: "127.0.0.1:1", timeout_ms: 200 } });
  const mods = loaded({ CNI_COMMAND: "STATUS" }, conf);
  assert.ok(mods.includes("net"), `the probe sees node:net once the client runs: ${mods.join(", ")}`);
  assert.ok(!mods.includes("http2"), "node:http2 is never loaded");
});
