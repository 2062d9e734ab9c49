// Package entry for the NovaNET contract (ports and subnets). Import from
// "@plasmacloud/proto/novanet", never from proto/gen directly.
export * from "../gen/novanet/v1/novanet";
