// Keys that cross program boundaries as strings: the agent stamps them on
// sandboxes and volume contexts; novanet and lightningstor-csi read them.
// A wire contract like the protos: change both sides together, here.

/** A pod's tenant and subnet, as sandbox annotations (novanet) and volume_context keys (CSI). */
export const TenantKeys = {
  orgId: "plasmacloud.io/org-id",
  projectId: "plasmacloud.io/project-id",
  subnetId: "plasmacloud.io/subnet-id",
} as const;

/** The CNI capability through which containerd and CRI-O pass a sandbox's annotations to a plugin. */
export const POD_ANNOTATIONS_CAPABILITY = "io.kubernetes.cri.pod-annotations";
