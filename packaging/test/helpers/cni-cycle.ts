// One real CNI ADD, CHECK and DEL of a given novanet executable (bridge mode)
// against an in-process NovaNET stand-in, on cni-plugin's own test helpers.
// Checked from outside: the address in the pod netns, the port in NovaNET,
// the host veth. Everything it makes is removed, also when an assertion fails.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { exec, sh } from "../../../cni-plugin/test/helpers/exec";
import { createNetns, deleteAllNetns, deleteVethsOf } from "../../../cni-plugin/test/helpers/netns";
import { startFixture } from "../../../cni-plugin/test/helpers/novanet";
import { describeRun, invoke } from "../../../cni-plugin/test/helpers/plugin";
import { bridgeName, hostVethName } from "../../../cni-plugin/src/plumbing/names";

export async function novanetCycle(bin: string): Promise<void> {
  const subnet = `sn-dist-${process.pid}`;
  const fx = await startFixture([{ id: subnet, orgId: "org-a", projectId: "proj-a", cidr: "10.214.1.0/24", gatewayIp: "10.214.1.1", mtu: 1450 }]);
  const id = `dist-${process.pid}`;
  try {
    const ns = await createNetns("dist");
    const conf = fx.conf();
    const call = (command: string, config: Record<string, unknown>) => invoke({ command, config, containerId: id, netns: ns.path, ifname: "eth0", bin });

    const add = await call("ADD", conf);
    assert.equal(add.code, 0, describeRun(add));
    const [port] = fx.novanet.ports();
    assert.ok(port, "ADD made a NovaNET port");
    assert.match(port.ipAddress, /^10\.214\.1\.\d+$/);
    assert.deepEqual((add.json?.ips as { address: string }[]).map((i) => i.address), [`${port.ipAddress}/24`]);
    const addr = JSON.parse(await sh("ip", "-n", ns.name, "-j", "addr", "show", "dev", "eth0")) as { addr_info: { local: string }[] }[];
    assert.ok(addr[0]?.addr_info.some((a) => a.local === port.ipAddress), "the address is in the pod's netns");

    const check = await call("CHECK", { ...conf, prevResult: add.json });
    assert.equal(check.code, 0, describeRun(check));

    const del = await call("DEL", { ...conf, prevResult: add.json });
    assert.equal(del.code, 0, describeRun(del));
    assert.equal(fx.novanet.ports().length, 0, "DEL released the port");
    assert.ok(!existsSync(`/sys/class/net/${hostVethName(id, "eth0")}`), "DEL removed the host veth");
  } finally {
    await deleteAllNetns();
    await deleteVethsOf("novanet-test");
    await exec("ip", ["link", "del", bridgeName("nvbr", subnet)]);
    await fx.close();
  }
}
