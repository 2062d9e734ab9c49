// CNI error codes (spec 1.1.0 "Error codes") and the one error type every
// layer throws. main.ts turns it into the spec's error JSON on stdout.

export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  // Plugin-specific (100+).
  UnknownSubnet: 101,
  SubnetExhausted: 102,
  NovanetAuth: 103,
  NovanetRejected: 104,
  PlumbingFailed: 105,
  CheckFailed: 106,
  Internal: 199,
} as const;

export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

export class CniError extends Error {
  constructor(readonly code: number, msg: string, readonly details = "") {
    super(msg);
  }
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function toErrorJson(e: unknown, cniVersion: string): CniErrorJson {
  if (e instanceof CniError) {
    return e.details ? { cniVersion, code: e.code, msg: e.message, details: e.details } : { cniVersion, code: e.code, msg: e.message };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { cniVersion, code: CniCode.Internal, msg: "internal error", details: err.stack ?? err.message };
}
