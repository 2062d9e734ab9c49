// The result cache: libcni's path and format, atomic writes, listing by network.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachePath, listCache, readCache, removeCache, writeCache, type CacheEntry } from "../../src/cache/cache.js";

test("write, read, list and remove entries", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "cache-")), "results");
  try {
    const e: CacheEntry = { kind: "cniCacheV1", containerId: "c1", config: "e30=", ifName: "eth0", networkName: "net", cniArgs: [["A", "1"]], result: { cniVersion: "1.0.0" } };
    writeCache(dir, e);
    assert.equal(cachePath(dir, "net", "c1", "eth0"), join(dir, "net-c1-eth0"));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "net-c1-eth0"), "utf8")), e);
    assert.deepEqual(readCache(dir, "net", "c1", "eth0"), e);
    assert.equal(readCache(dir, "net", "c2", "eth0"), undefined);
    writeCache(dir, { ...e, networkName: "net-other" });
    writeFileSync(join(dir, "net-junk"), "not json");
    assert.deepEqual(listCache(dir, "net").map((x) => x.containerId), ["c1"], "other networks and junk are skipped");
    removeCache(dir, "net", "c1", "eth0");
    removeCache(dir, "net", "c1", "eth0");
    assert.deepEqual(readdirSync(dir).sort(), ["net-junk", "net-other-c1-eth0"]);
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
  assert.deepEqual(listCache("/nonexistent/novanet", "net"), []);
});
