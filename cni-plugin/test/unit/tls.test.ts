// The plugin's gRPC transport over TLS against the grpc-js stand-in: a
// trusted CA works (by IP SAN and with a server_name override), an untrusted
// one is "unavailable", never a silent plaintext fallback. Under Node (the
// source) and in the built executable (bun's TLS, which ships).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../../stand-ins/src/iam/tokens.js";
import { startNovanetStandIn, type NovanetStandIn } from "../../../stand-ins/src/novanet/server.js";
import { GrpcCallError } from "@plasmacloud/common/grpc";
import { connectNovanet } from "../../src/novanet/client.js";
import { ensureBuilt } from "../helpers/build.js";
import { invoke } from "../helpers/plugin.js";

const dir = mkdtempSync(join(tmpdir(), "novanet-tls-"));
let s: NovanetStandIn;
const T = { orgId: "org-t", projectId: "proj-t" };

function selfSigned(name: string): void {
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=novanet.test",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:novanet.test", "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.crt`)], { stdio: "ignore" });
}

before(async () => {
  selfSigned("server");
  selfSigned("other");
  writeFileSync(join(dir, "token"), "tls-token");
  const tokens = new TokenStore().add("tls-token", { name: "system:node:t", kind: "node", orgId: "", projectId: "" });
  s = await startNovanetStandIn({
    tokens, subnets: [{ id: "t1", ...T, cidr: "10.3.0.0/24" }],
    tls: { certPem: readFileSync(join(dir, "server.crt")), keyPem: readFileSync(join(dir, "server.key")) },
  });
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("TLS with the right CA, by IP and by server_name", async () => {
  for (const serverName of [undefined, "novanet.test"]) {
    const c = connectNovanet({ server_addr: s.address, token_file: join(dir, "token"), timeout_ms: 3000, tls: { ca_file: join(dir, "server.crt"), server_name: serverName } });
    assert.equal((await c.getSubnet(T, "t1")).cidr, "10.3.0.0/24");
    c.close();
  }
});

test("an untrusted server certificate is unavailable; plaintext to a TLS port fails too", async () => {
  const bad = connectNovanet({ server_addr: s.address, token_file: join(dir, "token"), timeout_ms: 3000, tls: { ca_file: join(dir, "other.crt") } });
  await assert.rejects(bad.getSubnet(T, "t1"), (e: unknown) => e instanceof GrpcCallError && e.code === "Unavailable");
  bad.close();
  const plain = connectNovanet({ server_addr: s.address, token_file: join(dir, "token"), timeout_ms: 1500 });
  await assert.rejects(plain.getSubnet(T, "t1"), (e: unknown) => e instanceof GrpcCallError && e.code === "Unavailable");
  plain.close();
});

test("the built executable (its own runtime's TLS) trusts the right CA only, by IP and by server_name", async () => {
  const bin = ensureBuilt();
  const status = async (tls: Record<string, unknown>): Promise<Record<string, unknown> | undefined> => {
    const r = await invoke({
      bin, command: "STATUS",
      config: { cniVersion: "1.1.0", name: "tls-net", type: "novanet", org_id: T.orgId, project_id: T.projectId, subnet_id: "t1",
        novanet: { server_addr: s.address, token_file: join(dir, "token"), timeout_ms: 3000, tls } },
    });
    assert.equal(r.code === 0, r.json === undefined, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
    return r.json;
  };
  assert.equal(await status({ ca_file: join(dir, "server.crt") }), undefined);
  assert.equal(await status({ ca_file: join(dir, "server.crt"), server_name: "novanet.test" }), undefined);
  assert.equal((await status({ ca_file: join(dir, "other.crt") }))?.code, 50);
  assert.equal((await status({ ca_file: join(dir, "server.crt"), server_name: "elsewhere.test" }))?.code, 50);
});
