// Package entry for our CSI v1 subset. Import from "@plasmacloud/proto/csi".
export * from "../gen/csi/v1/csi";
