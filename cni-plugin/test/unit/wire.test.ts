// The hand-written NovaNET codec (src/novanet/wire.ts) against the generated
// one: same method paths, and every message the plugin uses goes both ways
// byte-compatibly with every field set (field numbers and kinds right).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CreatePortRequest, DeletePortRequest, DeletePortResponse, GetSubnetRequest, ListPortsRequest, ListPortsResponse,
  ListSubnetsRequest, ListSubnetsResponse, Port, PortServiceService, Subnet, SubnetServiceService,
} from "@plasmacloud/proto/novanet";
import { CreatePort, DeletePort, GetSubnet, ListPorts, ListSubnets } from "../../src/novanet/wire.js";

const subnet: Subnet = {
  id: "subnet-1", orgId: "org-ü", projectId: "proj-1", name: "a subnet", cidr: "10.1.0.0/24", gatewayIp: "10.1.0.1",
  dnsServers: ["10.1.0.53", "10.1.0.54"], mtu: 65_000, dnsSearch: ["svc.local", "local"],
};
const port: Port = {
  id: "port-1", orgId: "org-1", projectId: "proj-1", subnetId: "subnet-1", deviceId: "c".repeat(64), deviceOwner: "cni:novanet@n1",
  macAddress: "02:00:0a:01:00:05", ipAddress: "10.1.0.5", ipPrefixLen: 24, name: "net/eth0", status: "ACTIVE",
};
const port2: Port = { ...port, id: "port-2", ipAddress: "10.1.0.6", name: "net/eth1", ipPrefixLen: 0, status: "" };

test("method paths are the generated ones", () => {
  assert.equal(GetSubnet.path, SubnetServiceService.getSubnet.path);
  assert.equal(ListSubnets.path, SubnetServiceService.listSubnets.path);
  assert.equal(CreatePort.path, PortServiceService.createPort.path);
  assert.equal(ListPorts.path, PortServiceService.listPorts.path);
  assert.equal(DeletePort.path, PortServiceService.deletePort.path);
});

test("requests decode with the generated code, byte for byte", () => {
  const cases: [Buffer, Buffer][] = [
    [GetSubnet.requestSerialize({ orgId: "o", projectId: "p", id: "s" }), Buffer.from(GetSubnetRequest.encode({ orgId: "o", projectId: "p", id: "s" }).finish())],
    [ListSubnets.requestSerialize({ orgId: "o", projectId: "p" }), Buffer.from(ListSubnetsRequest.encode({ orgId: "o", projectId: "p" }).finish())],
    [ListPorts.requestSerialize({ orgId: "o", projectId: "p", deviceId: "d", subnetId: "" }), Buffer.from(ListPortsRequest.encode({ orgId: "o", projectId: "p", deviceId: "d", subnetId: "" }).finish())],
    [ListPorts.requestSerialize({ orgId: "o", projectId: "p", deviceId: "", subnetId: "s" }), Buffer.from(ListPortsRequest.encode({ orgId: "o", projectId: "p", deviceId: "", subnetId: "s" }).finish())],
    [DeletePort.requestSerialize({ orgId: "o", projectId: "p", id: "port-1" }), Buffer.from(DeletePortRequest.encode({ orgId: "o", projectId: "p", id: "port-1" }).finish())],
  ];
  const create = { orgId: "o", projectId: "p", subnetId: "s", deviceId: "d", deviceOwner: "cni:novanet@n", name: "net/eth0", ipAddress: "10.0.0.9" };
  cases.push([CreatePort.requestSerialize(create), Buffer.from(CreatePortRequest.encode(create).finish())]);
  for (const [ours, theirs] of cases) assert.deepEqual(ours, theirs);
  assert.deepEqual(CreatePortRequest.decode(CreatePort.requestSerialize(create)), create);
});

test("responses from the generated encoder decode to the same objects", () => {
  assert.deepEqual(GetSubnet.responseDeserialize(Subnet.encode(subnet).finish()), subnet);
  assert.deepEqual(GetSubnet.responseDeserialize(Subnet.encode({ ...subnet, mtu: 0, dnsServers: [], dnsSearch: [] }).finish()),
    { ...subnet, mtu: 0, dnsServers: [], dnsSearch: [] });
  assert.deepEqual(ListSubnets.responseDeserialize(ListSubnetsResponse.encode({ subnets: [subnet, { ...subnet, id: "s2" }] }).finish()),
    { subnets: [subnet, { ...subnet, id: "s2" }] });
  assert.deepEqual(CreatePort.responseDeserialize(Port.encode(port).finish()), port);
  assert.deepEqual(ListPorts.responseDeserialize(ListPortsResponse.encode({ ports: [port, port2] }).finish()), { ports: [port, port2] });
  assert.deepEqual(ListPorts.responseDeserialize(ListPortsResponse.encode({ ports: [] }).finish()), { ports: [] });
  assert.deepEqual(DeletePort.responseDeserialize(DeletePortResponse.encode({}).finish()), {});
});

test("unknown fields of a newer NovaNET are skipped; garbage is an error", () => {
  const extra = Buffer.concat([
    Buffer.from(Port.encode(port).finish()),
    Buffer.from([0x60, 0x96, 0x01]), // field 12, varint 150
    Buffer.from([0x6a, 0x02, 0x68, 0x69]), // field 13, "hi"
    Buffer.from([0x71, 1, 2, 3, 4, 5, 6, 7, 8]), // field 14, fixed64
    Buffer.from([0x7d, 1, 2, 3, 4]), // field 15, fixed32
  ]);
  assert.deepEqual(CreatePort.responseDeserialize(extra), port);
  assert.throws(() => CreatePort.responseDeserialize(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);
  assert.throws(() => CreatePort.responseDeserialize(Buffer.from([0x0b])), /wire type/);
});
