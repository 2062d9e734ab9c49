// The host's resolv.conf: parsed once, re-read only when the file changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostResolvConf, parseResolvConf } from "../../src/dns/resolv";

test("resolv.conf: nameservers, the last search line, every options line", () => {
  const text = "# comment\nnameserver 192.0.2.1\nsearch a.example\nsearch b.example c.example\nnameserver 192.0.2.2\noptions ndots:2\noptions edns0\n";
  assert.deepEqual(parseResolvConf(text), { servers: ["192.0.2.1", "192.0.2.2"], searches: ["b.example", "c.example"], options: ["ndots:2", "edns0"] });
});

test("the host's DNS is read once and again only after the file changed", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "resolv-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "resolv.conf");
  writeFileSync(file, "nameserver 192.0.2.1\n");
  const host = new HostResolvConf(file, 0);
  assert.deepEqual(host.current().servers, ["192.0.2.1"]);
  // Replaced the way resolvconf and NetworkManager do it: a new file renamed over the old.
  writeFileSync(`${file}.new`, "nameserver 192.0.2.9\n");
  renameSync(`${file}.new`, file);
  assert.deepEqual(host.current().servers, ["192.0.2.9"]);
  rmSync(file);
  assert.deepEqual(host.current(), { servers: [], searches: [], options: [] }, "no resolv.conf: no host DNS");
  const cached = new HostResolvConf(join(dir, "later.conf"), 60_000);
  assert.deepEqual(cached.current().servers, []);
  writeFileSync(join(dir, "later.conf"), "nameserver 192.0.2.3\n");
  assert.deepEqual(cached.current().servers, [], "within the recheck period the file is not looked at");
});
