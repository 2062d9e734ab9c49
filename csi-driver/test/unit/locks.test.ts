import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { CsiError } from "../../src/errors";
import { VolumeLocks } from "../../src/locks";

test("a second operation on a busy volume is ABORTED; other volumes and later calls proceed", async () => {
  const locks = new VolumeLocks();
  let release!: () => void;
  const first = locks.with("v1", "NodeStageVolume", () => new Promise<string>((res) => (release = () => res("done"))));
  await assert.rejects(locks.with("v1", "NodePublishVolume", async () => "x"), (e: unknown) => e instanceof CsiError && e.code === status.ABORTED);
  assert.equal(await locks.with("v2", "NodeStageVolume", async () => "other"), "other");
  release();
  assert.equal(await first, "done");
  assert.equal(await locks.with("v1", "NodePublishVolume", async () => "after"), "after");
  assert.equal(locks.inFlight(), 0);
});

test("the lock is released when the operation throws", async () => {
  const locks = new VolumeLocks();
  await assert.rejects(locks.with("v", "op", async () => {
    throw new Error("boom");
  }), /boom/);
  assert.equal(locks.inFlight(), 0);
});
