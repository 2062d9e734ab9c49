// The HTTP/1.1 upgrade to SPDY/3.1 that Kubernetes' httpstream/spdy makes:
// `Connection: Upgrade`, `Upgrade: SPDY/3.1` and the stream protocol wanted in
// X-Stream-Protocol-Version; the server answers 101 with the protocol it chose.
// Anything else is a refusal, whose body says why.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { SpdyConnection } from "./connection";

export const SPDY_31 = "SPDY/3.1";

async function body(res: IncomingMessage): Promise<string> {
  let text = "";
  res.setEncoding("utf8");
  for await (const chunk of res) if (text.length < 1024) text += chunk as string;
  return text.trim().slice(0, 1024);
}

/** Dials `url` (http or https; an https runtime's certificate is its own, self-signed) and upgrades to SPDY/3.1. */
export function dialSpdy(url: string, protocol: string, timeoutMs: number): Promise<SpdyConnection> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = request(url, {
      method: "POST",
      headers: { connection: "Upgrade", upgrade: SPDY_31, "x-stream-protocol-version": protocol, "content-length": "0" },
      timeout: timeoutMs,
      rejectUnauthorized: false,
    });
    req.on("upgrade", (res: IncomingMessage, socket: Socket, head: Buffer) => {
      const chosen = res.headers["x-stream-protocol-version"];
      if ((res.headers.upgrade ?? "").toLowerCase() !== SPDY_31.toLowerCase() || chosen !== protocol) {
        socket.destroy();
        return reject(new Error(`the runtime's streaming server upgraded to '${res.headers.upgrade ?? ""}' with protocol '${String(chosen ?? "")}', not ${SPDY_31} with ${protocol}`));
      }
      socket.setTimeout(0);
      socket.setNoDelay(true);
      resolve(new SpdyConnection(socket, head));
    });
    req.on("response", (res: IncomingMessage) => {
      void body(res).then((text) => reject(new Error(`the runtime's streaming server answered HTTP ${res.statusCode ?? "?"}${text ? `: ${text}` : ""}`)), reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to the SPDY upgrade within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
