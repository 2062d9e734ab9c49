// The kubelet's TCP socket probe: a connection that opens within the timeout
// is a success; it is closed at once, nothing is sent.
import { connect } from "node:net";
import type { ProbeOutcome } from "./spec";

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const finish = (o: ProbeOutcome): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ result: "failure", output: `dial tcp ${host}:${port}: i/o timeout` }), timeoutMs);
    sock.once("connect", () => finish({ result: "success", output: "" }));
    sock.once("error", (err) => finish({ result: "failure", output: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}
