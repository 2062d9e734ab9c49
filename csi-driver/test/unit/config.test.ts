import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config";
import { CAP_SYS_RESOURCE, hasCapability } from "../../src/capabilities";

const base = ["--lightningstor-address", "127.0.0.1:7080", "--token-file", "/etc/ls/token", "--org-id", "o", "--project-id", "p"];

test("defaults follow the agent's plugin layout", () => {
  const { config } = parseConfig([...base, "--node-id", "n1"], {});
  assert.equal(config.driverName, "csi.lightningstor.plasmacloud.io");
  assert.equal(config.endpoint, "/var/lib/k8shost-agent/plugins/csi.lightningstor.plasmacloud.io/csi.sock");
  assert.equal(config.registryDir, "/var/lib/k8shost-agent/plugins_registry");
  assert.equal(config.nodeId, "n1");
  assert.deepEqual(config.lightningstor.tenant, { orgId: "o", projectId: "p" });
});

test("environment fills what flags leave out; flags win", () => {
  const env = { LIGHTNINGSTOR_ADDR: "unix:/run/ls.sock", LIGHTNINGSTOR_TOKEN_FILE: "/t", K8SHOST_ORG_ID: "eo", K8SHOST_PROJECT_ID: "ep", CSI_ENDPOINT: "unix:///run/csi.sock", NODE_ID: "w" };
  const { config } = parseConfig(["--org-id", "flag-org"], env);
  assert.equal(config.lightningstor.address, "unix:/run/ls.sock");
  assert.equal(config.lightningstor.tenant.orgId, "flag-org");
  assert.equal(config.endpoint, "/run/csi.sock");
  assert.equal(config.nodeId, "w");
});

test("errors name the flag", () => {
  const flagOf = (argv: string[]): string => {
    try {
      parseConfig(argv, {});
    } catch (e) {
      if (e instanceof ConfigError) return e.flag;
    }
    return "";
  };
  assert.equal(flagOf(base.slice(2)), "lightningstor-address");
  assert.equal(flagOf([...base, "--endpoint", "rel.sock"]), "endpoint");
  assert.equal(flagOf([...base, "--max-volumes-per-node=-3"]), "max-volumes-per-node");
  assert.equal(flagOf([...base, "--driver-name=-bad-"]), "driver-name");
  assert.throws(() => parseConfig([...base, "--bogus"], {}));
});

test("capability bits are read from CapEff", () => {
  assert.equal(hasCapability(CAP_SYS_RESOURCE, "CapEff:\t000001fffeffffff\n"), false);
  assert.equal(hasCapability(CAP_SYS_RESOURCE, "CapEff:\t000001ffffffffff\n"), true);
  assert.equal(hasCapability(0, "nothing"), false);
});
