// A bearer token, read from a file and re-read when the file changes (a
// rotated token takes effect on the next call). Never logged.
import { statSync, readFileSync } from "node:fs";
import { CodedError, errorMessage } from "./errors";

export class TokenFile {
  private token = "";
  private stamp = "";
  private checkedAt = 0;

  constructor(readonly path: string, private readonly recheckMs = 1000) {}

  get(): string {
    const now = Date.now();
    if (this.token && now - this.checkedAt < this.recheckMs) return this.token;
    this.checkedAt = now;
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      throw new CodedError("Unauthenticated", `cannot read token file ${this.path}: ${errorMessage(err)}`, { file: this.path });
    }
    if (stamp !== this.stamp) {
      const t = readFileSync(this.path, "utf8").trim();
      if (!t) throw new CodedError("Unauthenticated", `token file ${this.path} is empty`, { file: this.path });
      this.token = t;
      this.stamp = stamp;
    }
    return this.token;
  }
}
