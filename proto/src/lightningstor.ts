// Package entry for the LightningStor volume API. Import from
// "@plasmacloud/proto/lightningstor", never from proto/gen directly.
export * from "../gen/lightningstor/v1/lightningstor";
