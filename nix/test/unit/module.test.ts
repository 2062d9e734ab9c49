// The NixOS module (nix/modules, nix/lib) evaluated without nixpkgs (see
// nix.test.ts) and compared with the real programs: the module's options with
// the agent's config schema and `config check`, the conflist with the CNI
// plugin's parser and what the agent itself sends novanet, OVN's unit and
// assertions, the CSI driver's flag parser, and packaging/systemd's units.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { buildConfig, defaultConfig } from "../../../agent/src/config/schema";
import { NovanetNetwork } from "../../../agent/src/network/novanet";
import { defaultOvnManagement, defaultOvnSettings } from "../../../agent/src/network/novanet-ovn";
import { parseNetConf } from "../../../cni-plugin/src/config/config";
import { parseConfig as parseCsiFlags } from "../../../csi-driver/src/config";
import { canonical, leaves, nixEval, nixJson, repo, subtrees, tempDir, type Json } from "../helpers/nix";

// --- the module's options and the agent's config ---------------------------

const fixture = JSON.parse(readFileSync(join(repo, "nix/test/fixtures/node-options.json"), "utf8")) as Record<string, Json>;

/** Options of the module that are not agent config keys, and why. */
const MODULE_ONLY: Record<string, string> = {
  enable: "the module's switch",
  package: "a store path, in ExecStart",
  extraFlags: "command-line flags of `k8shost-agent run`",
  environmentFile: "the unit's EnvironmentFile=",
  settings: "the YAML itself",
  checkConfig: "build-time check",
  openFirewall: "networking.firewall",
  "containerd.manage": "containerd's configuration",
  "containerd.sandboxImage": "containerd's configuration",
  "containerd.restrictOOMScoreAdj": "containerd's configuration",
  "containerd.seedImages": "images imported before the agent starts",
  "cni.confDir": "containerd's configuration",
  "cni.pluginsPackage": "the reference plugins linked into cni.binDir",
  "novanet.enable": "selects network.mode (checked below)",
  "novanet.package": "the plugin linked into cni.binDir",
  "novanet.ovn.enable": "adds network.novanet.ovn and ovn-controller (checked below)",
  "novanet.ovn.package": "ovn-controller's ExecStart (checked below)",
  "novanet.ovn.southboundRemote": "ovn-controller's Open_vSwitch external_ids (checked below)",
  "novanet.ovn.encapIP": "ovn-controller's Open_vSwitch external_ids",
  "novanet.ovn.encapType": "ovn-controller's Open_vSwitch external_ids",
  "novanet.ovn.systemId": "ovn-controller's Open_vSwitch external_ids",
  "lightningstor.enable": "the CSI driver's unit",
  "lightningstor.package": "the CSI driver's unit",
  "lightningstor.address": "the CSI driver's flags (checked below)",
  "lightningstor.tokenFile": "the CSI driver's flags",
  "lightningstor.orgId": "the CSI driver's flags",
  "lightningstor.projectId": "the CSI driver's flags",
  "lightningstor.extraFlags": "the CSI driver's flags",
};
/** Options whose value is an attribute set, yet one option. */
const ATTRSET_OPTIONS = new Set(["nodeLabels", "nodeTaints", "settings"]);

function optionPaths(): string[] {
  return nixEval<string[][]>("(import ./nix/test/option-paths.nix { }).paths").map((p) => p.join("."));
}

function settingsFor(cfg: Record<string, Json>): Record<string, Json> {
  return nixEval<Record<string, Json>>(`import ./nix/lib/agent-settings.nix { cfg = ${nixJson(cfg)}; }`);
}

test("module options: the fixture has a value for exactly the options the module declares", () => {
  const declared = optionPaths().sort();
  assert.ok(declared.length > 30, `only ${declared.length} options found`);
  assert.deepEqual([...leaves(fixture, ATTRSET_OPTIONS).keys()].sort(), declared);
  for (const p of Object.keys(MODULE_ONLY)) assert.ok(declared.includes(p), `MODULE_ONLY names '${p}', which the module does not declare`);
});

test("module options -> agent settings: the agent's own schema accepts them, and every mapped option lands in them", () => {
  const settings = settingsFor(fixture);
  // Unknown keys and wrong types throw, naming the field.
  const cfg = buildConfig(settings);
  assert.equal(cfg.network.mode, "novanet");
  assert.equal(cfg.network.novanet.pluginPath, `${(fixture.cni as Record<string, Json>).binDir}/novanet`);

  // Each mapped option's (distinct) value is somewhere in the settings: as a
  // whole value, or, for a directory, as the start of a path below it.
  const options = leaves(fixture, ATTRSET_OPTIONS);
  const values = subtrees(settings);
  const found = (v: Json): boolean =>
    values.has(canonical(v)) || (typeof v === "string" && v.startsWith("/") && [...values].some((s) => s.startsWith(JSON.stringify(`${v}/`).slice(0, -1))));
  // nodeTaints changes shape (an attrset, as services.kubernetes.kubelet.taints, becomes the agent's list): checked below.
  const unmapped = [...options.keys()].filter((p) => !(p in MODULE_ONLY) && p !== "nodeTaints" && !found(options.get(p)!));
  assert.deepEqual(unmapped, [], "options neither in the agent's settings nor listed as module-only");

  // nodeIP -> node.ip (null: "", the agent's default-route address); nodeTaints -> node.taints, every field kept.
  assert.equal(cfg.node.ip, fixture.nodeIP);
  assert.equal(buildConfig(settingsFor({ ...fixture, nodeIP: null })).node.ip, defaultConfig().node.ip);
  const taints = Object.values(fixture.nodeTaints as Record<string, Record<string, Json>>);
  assert.ok(taints.length >= 2);
  assert.deepEqual(new Set(cfg.node.taints.map((t) => JSON.stringify(t))), new Set(taints.map((t) => JSON.stringify({ key: t.key, value: t.value, effect: t.effect }))));
  assert.deepEqual(buildConfig(settingsFor({ ...fixture, nodeTaints: {} })).node.taints, []);

  // With novanet off the agent uses the runtime's network.
  const off = settingsFor({ ...fixture, novanet: { ...(fixture.novanet as Record<string, Json>), enable: false } });
  assert.equal(buildConfig(off).network.mode, "runtime");
});

test("module options -> agent settings: `k8shost-agent config check` (the module's build-time check) accepts the rendered YAML", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "k8shost-agent.yaml");
  writeFileSync(file, stringify(settingsFor(fixture)));
  const r = spawnSync(join(repo, "agent/bin/k8shost-agent"), ["config", "check", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "ok");
});

test("module defaults and the keys the mapping writes itself are the agent's defaults", () => {
  const d = defaultConfig();
  const pairs: [string[], unknown][] = [
    [["maxPods"], d.maxPods],
    [["reserved", "cpu"], d.reserved.cpu],
    [["reserved", "memory"], d.reserved.memory],
    [["reserved", "ephemeralStorage"], d.reserved.ephemeralStorage],
    [["clusterDNS", "servers"], d.clusterDNS.servers],
    [["clusterDNS", "domain"], d.clusterDNS.domain],
    [["address"], d.server.address],
    [["port"], d.server.port],
    [["controlPlane", "tokenFile"], d.controlPlane.tokenFile],
    [["novanet", "mode"], d.network.novanet.mode],
    [["cni", "binDir"], d.network.novanet.pluginPath.replace(/\/novanet$/, "")],
    [["novanet", "ovn", "installedTimeoutMs"], defaultOvnSettings().installedTimeoutMs],
    [["novanet", "ovn", "management", "ifname"], defaultOvnManagement().ifname],
  ];
  const got = nixEval<{ defaults: { path: string[]; value: Json }[] }>(
    `import ./nix/test/option-paths.nix { defaultsOf = ${nixJson(pairs.map(([p]) => p))}; }`,
  ).defaults;
  for (const [i, [path, want]] of pairs.entries()) assert.deepEqual(got[i]!.value, want, `default of services.k8shost-node.${path.join(".")}`);
  const s = settingsFor(fixture);
  const novanet = (s.network as Record<string, Json>).novanet as Record<string, Json>;
  assert.equal(s.rootDir, d.rootDir);
  assert.equal(novanet.networkName, d.network.novanet.networkName);
  assert.equal(novanet.timeoutSeconds, d.network.novanet.timeoutSeconds);
});

// --- containerd's conflist ---------------------------------------------------

const fixtureNovanet = fixture.novanet as Record<string, Json>;
const fixtureOvn = fixtureNovanet.ovn as Record<string, Json>;

for (const [mode, ovn] of [["ovs", true], ["ovs", false], ["bridge", false]] as const) {
  test(`novanet conflist (${mode}${ovn ? " on OVN" : ""}): the plugin's parser accepts it, and it says what the agent's own CHECK/GC calls say`, async (t) => {
    const cfg = { ...fixture, novanet: { ...fixtureNovanet, mode, ovn: { ...fixtureOvn, enable: ovn } } };
    const settings = settingsFor(cfg);
    const novanetSettings = (settings.network as Record<string, Json>).novanet;
    const conflist = nixEval<{ cniVersion: string; name: string; plugins: Record<string, Json>[] }>(
      `import ./nix/lib/novanet-conflist.nix { novanet = ${nixJson(novanetSettings)}; }`,
    );
    assert.deepEqual(conflist.plugins.map((p) => p.type), ["novanet", "portmap"]);
    const entry = conflist.plugins[0]!;
    // The runtime hands each plugin its entry with the list's name and cniVersion.
    const netconf = { cniVersion: conflist.cniVersion, name: conflist.name, ...entry };
    const parsed = parseNetConf(JSON.stringify(netconf), []);
    assert.equal(parsed.mode, mode);
    // On OVN the plugin waits for ovn-installed and binds the node's management port, as the options say.
    const m = fixtureOvn.management as Record<string, Json>;
    assert.deepEqual(parsed.ovn, ovn ? { installedTimeoutMs: fixtureOvn.installedTimeoutMs, management: m } : undefined);

    // What the agent sends novanet itself: capture a GC call's stdin.
    const dir = tempDir(t);
    const captured = join(dir, "stdin.json");
    const plugin = join(dir, "novanet");
    writeFileSync(plugin, `#!/bin/sh\ncat > '${captured}'\n`);
    chmodSync(plugin, 0o755);
    const agentCfg = buildConfig(settings);
    await new NovanetNetwork({ ...agentCfg.network.novanet, pluginPath: plugin }).gc([]);
    const sent = JSON.parse(readFileSync(captured, "utf8")) as Record<string, Json>;
    const perCall = new Set(["cniVersion", "cni.dev/valid-attachments", "runtimeConfig", "prevResult"]);
    const runtimeOnly = new Set(["capabilities"]);
    const ours = Object.fromEntries(Object.entries(netconf).filter(([k]) => !perCall.has(k) && !runtimeOnly.has(k)));
    const theirs = Object.fromEntries(Object.entries(sent).filter(([k]) => !perCall.has(k)));
    assert.deepEqual(ours, theirs, "containerd's conflist and the agent's CHECK/GC config differ");
  });
}

// --- ovn-controller (novanet.ovn) ---------------------------------------------

type OvnSpec = {
  assertions: { assertion: boolean; message: string }[];
  service: { after: string[]; requires: string[]; before: string[]; wantedBy: string[]; environment: Record<string, string>; externalIds: string[]; controller: string[]; serviceConfig: Record<string, Json> };
};
const VSWITCH = "/nix/store/00000000000000000000000000000000-openvswitch-3.4.1";

function ovnSpec(cfg: Record<string, Json>): OvnSpec {
  return nixEval<OvnSpec>(`import ./nix/lib/novanet-ovn.nix { cfg = ${nixJson(cfg)}; vswitchPackage = ${JSON.stringify(VSWITCH)}; }`);
}
const withNovanet = (novanet: Record<string, Json>, ovn: Record<string, Json> = {}): Record<string, Json> => ({ ...fixture, novanet: { ...fixtureNovanet, ...novanet, ovn: { ...fixtureOvn, ...ovn } } });
const failed = (spec: OvnSpec): string[] => spec.assertions.filter((a) => !a.assertion).map((a) => a.message);

test("novanet.ovn: refused without novanet's ovs mode or without its required options, with a message naming them", () => {
  assert.deepEqual(failed(ovnSpec(fixture)), []);
  assert.deepEqual(failed(ovnSpec(withNovanet({ mode: "bridge" }, { enable: false }))), [], "off, nothing is asked of bridge mode");
  for (const [why, cfg, pattern] of [
    ["bridge mode", withNovanet({ mode: "bridge" }), /novanet\.ovn needs novanet\.enable and novanet\.mode = "ovs".*mode is "bridge"/],
    ["novanet off", withNovanet({ enable: false }), /novanet\.ovn needs novanet\.enable and novanet\.mode = "ovs"/],
    ["no southbound db", withNovanet({}, { southboundRemote: "" }), /needs southboundRemote/],
    ["no tunnel address (nodeIP, its default, is null)", withNovanet({}, { encapIP: null }), /encapIP/],
    ["no management subnet", withNovanet({}, { management: { ...(fixtureOvn.management as Record<string, Json>), subnetId: "" } }), /management\.subnetId must be set/],
  ] as const) {
    const messages = failed(ovnSpec(cfg));
    assert.equal(messages.length, 1, `${why}: ${messages.join("; ")}`);
    assert.match(messages[0]!, pattern, why);
  }
});

test("ovn-controller unit: after OVS and br-int, before the agent; the chassis' external_ids from the options; the agent's OVS db", () => {
  const { service } = ovnSpec(fixture);
  for (const dep of ["ovs-vswitchd.service", "k8shost-br-int.service"]) {
    assert.ok(service.after.includes(dep) && service.requires.includes(dep), `ovn-controller after and requiring ${dep}`);
  }
  assert.ok(service.before.includes("k8shost-agent.service"));
  assert.ok(service.wantedBy.includes("multi-user.target"));
  assert.equal(service.serviceConfig.Restart, "always");
  // The br-int oneshot it requires is the module's.
  assert.match(readFileSync(join(repo, "nix/modules/k8shost-node.nix"), "utf8"), /systemd\.services\.k8shost-br-int = \{/);

  const settings = buildConfig(settingsFor(fixture));
  const ovsdb = settings.network.novanet.ovsdb;
  assert.equal(ovsdb, "unix:/run/openvswitch/db.sock");
  // ExecStart: ovn-controller of the option's package against the db the plugin uses.
  assert.deepEqual(service.controller, [`${fixtureOvn.package as string}/bin/ovn-controller`, ovsdb]);
  assert.equal(service.environment.OVS_RUNDIR, "/run/openvswitch", "where ovn-controller finds br-int.mgmt");

  // ExecStartPre: ovs-vsctl set Open_vSwitch . external_ids:... (as scripts/node-stack/ovn.sh, on the kernel datapath).
  const [vsctl, db, , ...rest] = service.externalIds;
  assert.equal(vsctl, `${VSWITCH}/bin/ovs-vsctl`);
  assert.equal(db, `--db=${ovsdb}`);
  assert.deepEqual(rest.slice(0, 3), ["set", "Open_vSwitch", "."]);
  const ids = Object.fromEntries(rest.slice(3).map((a) => {
    const m = /^external_ids:([^=]+)=(.*)$/.exec(a);
    assert.ok(m, a);
    return [m[1]!, m[2]!];
  }));
  const plugin = parseNetConf(JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "novanet", novanet: { server_addr: "x:1" } }), []);
  assert.deepEqual(ids, {
    "system-id": fixtureOvn.systemId,
    "ovn-remote": fixtureOvn.southboundRemote,
    "ovn-encap-type": fixtureOvn.encapType,
    "ovn-encap-ip": fixtureOvn.encapIP,
    "ovn-bridge": plugin.bridge,
    "ovn-bridge-datapath-type": "system",
  });
});

test("novanet-ovn module (its config, with a stub lib): the unit runs the spec's commands, the agent is ordered after it, nothing without novanet.ovn", () => {
  type Services = Record<string, { after?: string[]; wants?: string[]; requires?: string[]; serviceConfig?: Record<string, Json> }>;
  const moduleConfig = (cfg: Record<string, Json>) =>
    nixEval<{ assertions?: { assertion: boolean }[]; systemd?: { services: Services } }>(`
      (import ./nix/modules/novanet-ovn.nix {
        lib = { mkIf = c: v: if c then v else { }; mkOption = o: o; mkEnableOption = d: { }; types = throw "no types"; literalExpression = t: t; };
        config = { services.k8shost-node = ${nixJson(cfg)}; virtualisation.vswitch.package = ${JSON.stringify(VSWITCH)}; };
        pkgs = throw "no pkgs";
        utils.escapeSystemdExecArgs = args: args;
      }).config`);
  const { service } = ovnSpec(fixture);
  const on = moduleConfig(fixture);
  const unit = on.systemd!.services["ovn-controller"]!;
  assert.deepEqual(unit.serviceConfig!.ExecStartPre, service.externalIds);
  assert.deepEqual(unit.serviceConfig!.ExecStart, service.controller);
  assert.deepEqual(unit.after, service.after);
  assert.deepEqual(unit.requires, service.requires);
  const agent = on.systemd!.services["k8shost-agent"]!;
  assert.ok(agent.after?.includes("ovn-controller.service") && agent.wants?.includes("ovn-controller.service"), "the agent after (and wanting) ovn-controller");
  assert.equal(on.assertions?.length, ovnSpec(fixture).assertions.length);
  assert.deepEqual(moduleConfig(withNovanet({}, { enable: false })), {});
});

// --- the CSI driver ----------------------------------------------------------

test("lightningstor-csi flags: the driver's parser accepts them; node id and registry are the agent's", () => {
  const settings = settingsFor(fixture);
  const args = nixEval<string[]>(`import ./nix/lib/csi-args.nix { settings = ${nixJson(settings)}; lightningstor = ${nixJson(fixture.lightningstor)}; }`);
  const { config } = parseCsiFlags(args, {});
  const agent = buildConfig(settings);
  assert.equal(config.nodeId, agent.nodeName);
  // Where the agent watches for plugins (agent/src/volumes/manager.ts).
  assert.equal(config.registryDir, agent.volumes.pluginsRegistryDir || join(agent.rootDir, "plugins_registry"));
  assert.ok(config.endpoint.startsWith(`${agent.rootDir}/plugins/`), config.endpoint);
  const ls = fixture.lightningstor as Record<string, Json>;
  assert.equal(config.lightningstor.address, ls.address);
  assert.equal(config.lightningstor.tokenFile, ls.tokenFile);
  assert.deepEqual(config.lightningstor.tenant, { orgId: ls.orgId, projectId: ls.projectId });
  assert.equal(config.maxVolumesPerNode, 64);
  // With the agent's default layout these are the driver's own defaults.
  const defaults = parseCsiFlags(["--lightningstor-address", "x:1", "--token-file", "/t", "--org-id", "o", "--project-id", "p"], {}).config;
  assert.equal(config.endpoint, defaults.endpoint);
  assert.equal(config.registryDir, defaults.registryDir);
  assert.equal(config.stateDir, defaults.stateDir);
});

// --- systemd units -----------------------------------------------------------

type UnitSpec = { description?: string; after?: string[]; wants?: string[]; before?: string[]; wantedBy?: string[]; unitConfig?: Record<string, Json>; serviceConfig: Record<string, Json> };

/** packaging/systemd's unit file, as section -> directive -> values. */
function readUnit(file: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = new Map();
      sections.set(s[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (!current || eq < 0) continue;
    const k = line.slice(0, eq).trim();
    current.set(k, [...(current.get(k) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const norm = (v: Json | undefined): string => {
  const s = Array.isArray(v) ? v.join(" ") : String(v);
  return /^(yes|true|on)$/i.test(s) ? "true" : /^(no|false|off)$/i.test(s) ? "false" : s;
};

/** Where the NixOS units differ from packaging/systemd on purpose. */
const DEVIATIONS: Record<string, Record<string, string>> = {
  "k8shost-agent.service": {
    ExecStart: "store paths; the module's unit adds it",
    Environment: "NODE_OPTIONS=--max-semi-space-size=4, MALLOC_ARENA_MAX=2: the package runs agent/bin/k8shost-agent, which sets both",
  },
  "lightningstor-csi.service": {
    ExecStart: "store paths and flags; the module's unit adds it",
    EnvironmentFile: "the module passes the same settings as flags (nix/lib/csi-args.nix)",
    StateDirectory: "systemd makes /var/lib/lightningstor-csi (0700) for the driver",
    StateDirectoryMode: "with StateDirectory",
  },
  "k8shost-netns.service": {
    ExecStart: "one `script` (mkdir, bind mount if not a mount point, make-shared)",
  },
};

test("systemd units: the module's services keep packaging/systemd's directives", (t) => {
  const units = nixEval<Record<string, UnitSpec>>("import ./nix/lib/units.nix { }");
  const byFile: Record<string, UnitSpec> = { "k8shost-agent.service": units.agent!, "lightningstor-csi.service": units.csi!, "k8shost-netns.service": units.netns! };
  // The policy the node relies on, whatever packaging says.
  assert.equal(units.agent!.serviceConfig.Type, "notify");
  assert.equal(units.agent!.serviceConfig.NotifyAccess, "all");
  assert.equal(units.agent!.serviceConfig.KillMode, "process");
  assert.equal(units.agent!.serviceConfig.Restart, "always");
  assert.ok(units.agent!.after?.includes("containerd.service") && units.agent!.after.includes("network-online.target"));
  assert.ok(units.netns!.before?.includes("containerd.service"));
  for (const u of Object.values(byFile)) {
    for (const k of ["ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateMounts", "ReadWritePaths", "PrivateDevices", "MemoryDenyWriteExecute"]) {
      assert.equal(u.serviceConfig[k], undefined, `${k} would break mounts (or V8); see nix/lib/units.nix`);
    }
  }

  const dir = join(repo, "packaging/systemd");
  assert.ok(existsSync(dir), "packaging/systemd is missing");
  for (const [file, ours] of Object.entries(byFile)) {
    const path = join(dir, file);
    if (!existsSync(path)) {
      t.diagnostic(`packaging/systemd/${file} is missing: not compared`);
      continue;
    }
    const theirs = readUnit(path);
    const deviations = DEVIATIONS[file] ?? {};
    const ourDirectives = new Map<string, string>([
      ...Object.entries(ours.serviceConfig).map(([k, v]) => [`Service.${k}`, norm(v)] as [string, string]),
      ...Object.entries(ours.unitConfig ?? {}).map(([k, v]) => [`Unit.${k}`, norm(v)] as [string, string]),
      ...(ours.description ? [["Unit.Description", ours.description] as [string, string]] : []),
      ...(["after", "wants", "before"] as const).filter((k) => ours[k]).map((k) => [`Unit.${k[0]!.toUpperCase()}${k.slice(1)}`, norm(ours[k])] as [string, string]),
      ...(ours.wantedBy ? [["Install.WantedBy", norm(ours.wantedBy)] as [string, string]] : []),
    ]);
    const theirDirectives = new Map<string, string>();
    for (const [section, kv] of theirs) for (const [k, vs] of kv) theirDirectives.set(`${section}.${k}`, norm(vs.join(" ")));
    const differences: string[] = [];
    for (const [k, v] of theirDirectives) {
      const name = k.slice(k.indexOf(".") + 1);
      if (name in deviations) continue;
      if (ourDirectives.get(k) !== v) differences.push(`${k}: packaging '${v}', module '${ourDirectives.get(k) ?? "(unset)"}'`);
    }
    for (const [k, v] of ourDirectives) {
      const name = k.slice(k.indexOf(".") + 1);
      if (!theirDirectives.has(k) && !(name in deviations)) differences.push(`${k}: module '${v}', packaging (unset)`);
    }
    assert.deepEqual(differences, [], `${file}: the module and packaging/systemd differ (list a deliberate difference in DEVIATIONS with its reason)`);
  }
});
