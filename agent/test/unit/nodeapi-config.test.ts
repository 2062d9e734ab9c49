// The node API's config block: off by default (no certificate, no server), and
// a half-given TLS pair or a bad value is refused by field name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildConfig } from "../../src/config/schema";

test("server: off without a certificate; both files or neither; bad values named", () => {
  const d = buildConfig({});
  assert.deepEqual(d.server, { address: "0.0.0.0", port: 10250, certFile: "", keyFile: "", tokenReviewCacheSeconds: 120 });
  assert.equal(buildConfig({ server: { certFile: "/c.pem", keyFile: "/k.pem", port: 0 } }).server.port, 0);
  const refused: [unknown, RegExp][] = [
    [{ server: { certFile: "/c.pem" } }, /'server\.keyFile': must be set with the other/],
    [{ server: { keyFile: "/k.pem" } }, /'server\.certFile': must be set with the other/],
    [{ server: { port: 70000 } }, /'server\.port': must be 0-65535/],
    [{ server: { address: "" } }, /'server\.address': must not be empty/],
    [{ server: { tokenReviewCacheSeconds: -1 } }, /'server\.tokenReviewCacheSeconds': must be >= 0/],
    [{ server: { insecure: true } }, /'server\.insecure': unknown field/],
  ];
  for (const [input, msg] of refused) assert.throws(() => buildConfig(input), msg, JSON.stringify(input));
});
