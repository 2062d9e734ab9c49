// Pods for network tests without a runtime: a netns attached by the real
// novanet executable (ADD/DEL as containerd runs it), in ovs mode on br-int,
// in a subnet of the fixture's NovaNET stand-in, with an echo peer listening.
import assert from "node:assert/strict";
import type { Port } from "@plasmacloud/proto/novanet";
import type { SubnetInput } from "../../../stand-ins/src/novanet/store.js";
import { createNetns, deleteNetns } from "./netns.js";
import type { Fixture } from "./novanet.js";
import { OVSDB } from "./ovs.js";
import { describeRun, verb } from "./plugin.js";
import { startEchoPeer } from "./traffic.js";
import { hostVethName } from "../../src/plumbing/names.js";

export interface Pod {
  /** Netns name. */
  ns: string;
  containerId: string;
  subnet: SubnetInput;
  port: Port;
  /** Host veth, for cleanup. */
  host: string;
}

export function podConf(fx: Fixture, s: SubnetInput): Record<string, unknown> {
  return fx.conf({ mode: "ovs", ovsdb: OVSDB, org_id: s.orgId, project_id: s.projectId, subnet_id: s.id });
}

/** A netns attached by novanet ADD in subnet `s`, with a TCP+UDP echo peer on `echoPort`. */
export async function addPod(fx: Fixture, tag: string, s: SubnetInput, echoPort: number): Promise<Pod> {
  const ns = await createNetns(tag);
  const containerId = `${tag}-${process.pid}`;
  const r = await verb("ADD", podConf(fx, s), containerId, ns.path);
  assert.equal(r.code, 0, describeRun(r));
  const port = fx.novanet.ports().find((p) => p.deviceId === containerId);
  assert.ok(port, `NovaNET has a port for ${containerId}`);
  await startEchoPeer(ns.name, echoPort);
  return { ns: ns.name, containerId, subnet: s, port, host: hostVethName(containerId, "eth0") };
}

/** novanet DEL for the pod, then its netns. */
export async function delPod(fx: Fixture, p: Pod): Promise<void> {
  const r = await verb("DEL", podConf(fx, p.subnet), p.containerId, `/var/run/netns/${p.ns}`);
  assert.equal(r.code, 0, describeRun(r));
  await deleteNetns(p.ns);
}
