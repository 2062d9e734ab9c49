// Not a bench part: the program _svc-poll.ts starts inside the client pod's
// network namespace (nsenter), so its connections leave from the pod's address
// through the pod's routes, as the pod's own would. It polls IP:PORT with a new
// non-blocking connect every millisecond, each abandoned after 200 ms, until
// one completes. Not one connect waiting on the last: an address without rules
// is refused with an ICMP error, and the kernel sends those to one host at most
// once a second after a burst of 6 (net.ipv4.icmp_ratelimit), so a loop that
// waits for each refusal (busybox `nc` in a shell loop) polls once a second.
// Commands on stdin, one JSON line per answer on stdout:
//   poll IP PORT MS  -> {"started":T} at the first attempt, then {"done":T|null,"attempts":N,"refused":R}
//   absent IP PORT   -> {"absent":true|false}: none of 100 attempts over 100 ms completed
// Times are process.hrtime in ms: CLOCK_MONOTONIC, the bench process's clock too.
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const say = (o: object): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);

interface Result { done: number | null; attempts: number; refused: number }

function hammer(ip: string, port: number, forMs: number, onFirst: (t: number) => void): Promise<Result> {
  return new Promise((resolve) => {
    const open = new Map<Socket, number>();
    let attempts = 0;
    let refused = 0;
    let finished = false;
    const start = now();
    const finish = (done: number | null): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      for (const s of open.keys()) s.destroy();
      resolve({ done, attempts, refused });
    };
    const timer = setInterval(() => {
      const t = now();
      if (t - start > forMs) return finish(null);
      for (const [s, at] of open) if (t - at > 200) (s.destroy(), open.delete(s));
      const s = connect({ host: ip, port });
      open.set(s, t);
      if (++attempts === 1) onFirst(t);
      s.once("connect", () => finish(now()));
      s.once("error", (e: NodeJS.ErrnoException) => {
        open.delete(s);
        s.destroy();
        if (e.code === "ECONNREFUSED") refused++;
      });
    }, 1);
  });
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  const [cmd, ip = "", port = "", ms = "8000"] = line.trim().split(" ");
  queue = queue.then(async () => {
    if (cmd === "poll") say(await hammer(ip, Number(port), Number(ms), (t) => say({ started: t })));
    else if (cmd === "absent") say({ absent: (await hammer(ip, Number(port), 100, () => undefined)).done === null });
    else say({ error: `unknown command: ${line}` });
  });
});
lines.on("close", () => process.exit(0));
