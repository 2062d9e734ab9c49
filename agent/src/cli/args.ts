// Flag value parsers shared by the commands.
import { InvalidArgumentError } from "commander";

export function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`'${v}' is not a non-negative integer`);
  return n;
}
