// SHA-256 for the names of what the plugin creates (names.ts, bridge.ts).
// Under bun, Bun.CryptoHasher: loading node:crypto there costs ~2 ms, on
// every ADD and DEL. Same digest either way.
interface BunHasher { update(s: string): BunHasher; digest(): Uint8Array }
type BunCrypto = { CryptoHasher: new (alg: string) => BunHasher };

export function sha256(s: string): Buffer {
  const bun = (globalThis as { Bun?: BunCrypto }).Bun;
  if (bun) return Buffer.from(new bun.CryptoHasher("sha256").update(s).digest());
  const { createHash } = process.getBuiltinModule("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(s).digest();
}
