// The downward API volume's checks and contents (the kubelet's CollectData):
// metadata only, whole label/annotation maps allowed, modes, a named container
// for resources; written with the atomic writer and rewritten on a change.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DownwardAPIVolumeSource, Pod } from "@plasmacloud/proto/k8shost";
import { createLogger } from "@plasmacloud/common/log";
import { downwardPayload, downwardUnsupported, setUpDownwardAPI } from "../../src/volumes/downward";

const dir = mkdtempSync(join(tmpdir(), "downward-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const pod = Pod.fromPartial({
  metadata: { name: "web", namespace: "shop", uid: "u-1", labels: { app: "web", zone: "a" }, annotations: { note: "hi" } },
  spec: { containers: [{ name: "c", image: "i", resources: { limits: { memory: "128Mi" } } }] },
});
type DeepPartial<T> = T extends Date | bigint | string | number | boolean ? T : T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
const src = (items: DeepPartial<DownwardAPIVolumeSource["items"]>, defaultMode?: number): DownwardAPIVolumeSource => DownwardAPIVolumeSource.fromPartial({ items, defaultMode } as never);

test("validation: metadata paths only (whole maps allowed), exactly one source, a container for resources, modes and paths", () => {
  assert.equal(downwardUnsupported(src([{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }, { path: "a/zone", fieldRef: { fieldPath: "metadata.labels['zone']" } }])), undefined);
  assert.match(downwardUnsupported(src([{ path: "ip", fieldRef: { fieldPath: "status.podIP" } }]))!, /items\[0\]\.fieldRef\.fieldPath: 'status\.podIP' is not supported/);
  assert.match(downwardUnsupported(src([{ path: "x" }]))!, /exactly one of fieldRef and resourceFieldRef/);
  assert.match(downwardUnsupported(src([{ path: "mem", resourceFieldRef: { resource: "limits.memory" } }]))!, /containerName: must be set/);
  assert.match(downwardUnsupported(src([{ path: "../x", fieldRef: { fieldPath: "metadata.name" } }]))!, /path: '\.\.\/x'/);
  assert.match(downwardUnsupported(src([{ path: "x", mode: 0o1777, fieldRef: { fieldPath: "metadata.name" } }]))!, /mode/);
  assert.match(downwardUnsupported(src([], 0o1000))!, /defaultMode/);
});

test("contents and modes; a resource of a named container; an unknown container fails the mount", async () => {
  const s = src(
    [
      { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
      { path: "name", fieldRef: { fieldPath: "metadata.name" }, mode: 0o600 },
      { path: "mem", resourceFieldRef: { containerName: "c", resource: "limits.memory", divisor: "1Mi" } },
      { path: "cpu", resourceFieldRef: { containerName: "c", resource: "limits.cpu", divisor: "1m" } },
    ],
    0o640,
  );
  const p = downwardPayload(pod, s, { cpu: "2" });
  const text = (k: string): string => new TextDecoder().decode(p.get(k)!.data);
  assert.equal(text("labels"), 'app="web"\nzone="a"');
  assert.equal(text("name"), "web");
  assert.equal(text("mem"), "128");
  assert.equal(text("cpu"), "2000", "no cpu limit: the node's allocatable");
  assert.equal(p.get("name")!.mode, 0o600);
  assert.equal(p.get("labels")!.mode, 0o640);

  const log = createLogger({ component: "test", level: "silent" });
  const vol = join(dir, "vol");
  await setUpDownwardAPI(pod, "info", vol, s, {}, log);
  assert.equal(readFileSync(join(vol, "labels"), "utf8"), 'app="web"\nzone="a"');
  assert.equal(statSync(join(vol, "name")).mode & 0o777, 0o600);
  const before = readlinkSync(join(vol, "..data"));
  const relabelled = structuredClone(pod);
  relabelled.metadata!.labels = { app: "web", zone: "b" };
  await setUpDownwardAPI(relabelled, "info", vol, s, {}, log);
  assert.equal(readFileSync(join(vol, "labels"), "utf8"), 'app="web"\nzone="b"');
  assert.notEqual(readlinkSync(join(vol, "..data")), before, "published as a new payload");

  const ghost = src([{ path: "m", resourceFieldRef: { containerName: "ghost", resource: "limits.memory" } }]);
  await assert.rejects(setUpDownwardAPI(pod, "info", join(dir, "ghost"), ghost, {}, log), (err: Error & { reason?: string }) => err.reason === "FailedMount" && /volume "info": container ghost not found/.test(err.message));
});
