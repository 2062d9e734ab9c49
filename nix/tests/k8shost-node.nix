# A k8shost worker node in a VM, in the style of nixpkgs' k3s single-node
# test (nixos/tests/k3s/single-node.nix): the module's units reach active, the
# agent registers with the control-plane stand-in, a pod from an image built
# with dockerTools (seeded into containerd, no registry) runs on the novanet
# network and answers over HTTP, an agent restart leaves it running, and it is
# deleted cleanly even after an operator's `ip netns add`.
#
# The remote services are this repository's stand-ins (stand-ins/: control
# plane, NovaNET, LightningStor) running on the node itself. Run it with
#   nix build .#checks.x86_64-linux.vm-test
# (needs KVM; it cannot run on machines without nixpkgs or /dev/kvm).
{
  pkgs,
  module,
  standIns,
}:
let
  org = "test-org";
  project = "test-project";
  subnet = "test-subnet";
  # Test-only secrets, in the store on purpose.
  tokens = {
    node = "node-token-0123456789";
    user = "user-token-0123456789";
    novanet = "novanet-token-0123456789";
    lightningstor = "lightningstor-token-0123456789";
  };

  imageRoot = pkgs.buildEnv {
    name = "k8shost-test-image-root";
    paths = [ pkgs.busybox ];
    pathsToLink = [ "/bin" ];
  };
  # The sandbox image: anything that stays up.
  pauseImage = pkgs.dockerTools.buildImage {
    name = "test.local/pause";
    tag = "1.0";
    copyToRoot = imageRoot;
    config.Entrypoint = [
      "/bin/sleep"
      "2147483647"
    ];
  };
  helloImage = pkgs.dockerTools.buildImage {
    name = "test.local/hello";
    tag = "1.0";
    copyToRoot = imageRoot;
    extraCommands = "mkdir -p tmp && chmod 1777 tmp";
    config.Cmd = [
      "/bin/sh"
      "-c"
      "echo hello-from-k8shost > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"
    ];
  };

  # A non-latest tag: the agent pulls IfNotPresent, and the image is seeded.
  helloPod = pkgs.writeText "hello.yaml" ''
    apiVersion: v1
    kind: Pod
    metadata:
      name: hello
      labels: { app: hello }
    spec:
      containers:
        - name: web
          image: test.local/hello:1.0
          ports: [{ containerPort: 8080 }]
          resources: { requests: { cpu: 50m, memory: 16Mi }, limits: { cpu: 200m, memory: 64Mi } }
  '';
in
pkgs.testers.runNixOSTest {
  name = "k8shost-node";

  nodes.machine =
    { config, pkgs, ... }:
    {
      imports = [ module ];

      # containerd, the agent, three stand-ins and a pod.
      virtualisation.memorySize = 2048;
      virtualisation.diskSize = 4096;

      environment.systemPackages = [
        standIns
        pkgs.cri-tools
        pkgs.curl
        pkgs.jq
      ];

      environment.etc = {
        # Copies (mode set), not store links: as a token file on a node is.
        "k8shost-test/node.token" = {
          text = tokens.node;
          mode = "0400";
        };
        "k8shost-test/user.token" = {
          text = tokens.user;
          mode = "0400";
        };
        "k8shost-test/novanet.token" = {
          text = tokens.novanet;
          mode = "0400";
        };
        "k8shost-test/lightningstor.token" = {
          text = tokens.lightningstor;
          mode = "0400";
        };
        "k8shost-test/tokens.json".text = builtins.toJSON {
          ${tokens.user} = {
            name = "user:test";
            kind = "user";
            orgId = org;
            projectId = project;
          };
          ${tokens.node} = {
            name = "system:node:machine";
            kind = "node";
            orgId = "";
            projectId = "";
            nodeName = "machine";
          };
        };
        "k8shost-test/novanet.json".text = builtins.toJSON {
          tokens = [
            {
              token = tokens.novanet;
              name = "system:node:machine:cni";
              kind = "node";
            }
          ];
          subnets = [
            {
              id = subnet;
              orgId = org;
              projectId = project;
              cidr = "10.88.0.0/24";
              gatewayIp = "10.88.0.1";
              mtu = 1450;
            }
          ];
        };
      };

      systemd.services = {
        k8shost-controlplane-stand-in = {
          wantedBy = [ "multi-user.target" ];
          before = [ "k8shost-agent.service" ];
          serviceConfig.ExecStart = "${standIns}/bin/k8shost-controlplane-stand-in --listen 127.0.0.1:6443 --tokens /etc/k8shost-test/tokens.json";
        };
        novanet-stand-in = {
          wantedBy = [ "multi-user.target" ];
          before = [ "k8shost-agent.service" ];
          serviceConfig = {
            ExecStart = "${standIns}/bin/novanet-stand-in --listen 127.0.0.1:9696 --config /etc/k8shost-test/novanet.json --state /var/lib/novanet-stand-in/state.json";
            StateDirectory = "novanet-stand-in";
          };
        };
        lightningstor-stand-in = {
          wantedBy = [ "multi-user.target" ];
          before = [ "lightningstor-csi.service" ];
          serviceConfig = {
            ExecStart = "${standIns}/bin/lightningstor-stand-in --listen 127.0.0.1:7080 --data-dir /var/lib/lightningstor-stand-in --token ${tokens.lightningstor}=node:machine:${org}:${project}";
            StateDirectory = "lightningstor-stand-in";
          };
        };
      };

      services.k8shost-node = {
        enable = true;
        controlPlane = {
          address = "127.0.0.1:6443";
          tokenFile = "/etc/k8shost-test/node.token";
        };
        containerd = {
          sandboxImage = "test.local/pause:1.0";
          seedImages = [
            pauseImage
            helloImage
          ];
        };
        # Bridge mode: the per-subnet bridge holds the gateway address, so the
        # host reaches pods (ovs mode needs OVN for that).
        novanet = {
          enable = true;
          mode = "bridge";
          serverAddress = "127.0.0.1:9696";
          tokenFile = "/etc/k8shost-test/novanet.token";
          defaultSubnetId = subnet;
        };
        lightningstor = {
          enable = true;
          address = "127.0.0.1:7080";
          tokenFile = "/etc/k8shost-test/lightningstor.token";
          orgId = org;
          projectId = project;
        };
      };
    };

  testScript = ''
    def cli(args):
        return f"k8shost-agent {args} --server 127.0.0.1:6443 --token-file /etc/k8shost-test/user.token"

    start_all()

    with subtest("/run/netns is a shared mount point before containerd starts"):
        machine.wait_for_unit("k8shost-netns.service")
        machine.succeed("findmnt -n -o PROPAGATION /run/netns | grep -q shared")

    with subtest("units reach active"):
        machine.wait_for_unit("containerd.service")
        machine.wait_for_unit("k8shost-seed-images.service")
        machine.wait_for_unit("k8shost-controlplane-stand-in.service")
        # Type=notify: active only once the agent sent READY=1.
        machine.wait_for_unit("k8shost-agent.service")
        machine.wait_for_unit("lightningstor-csi.service")
        machine.succeed("test -x /opt/cni/bin/novanet && test -x /opt/cni/bin/portmap && test -x /opt/cni/bin/loopback")
        machine.succeed("jq -e '.plugins[0].type == \"novanet\"' /etc/cni/net.d/10-novanet.conflist")
        machine.succeed("sysctl -n net.ipv4.ip_forward | grep -qx 1")
        machine.succeed("sysctl -n net.bridge.bridge-nf-call-iptables | grep -qx 1")

    with subtest("the agent registers the node"):
        machine.wait_until_succeeds(cli("nodes list") + " | grep -E '^machine +Ready'", timeout=120)

    with subtest("the CSI driver registers with the agent"):
        machine.wait_until_succeeds(
            "test -S /var/lib/k8shost-agent/plugins_registry/csi.lightningstor.plasmacloud.io-reg.sock"
        )

    with subtest("a pod runs and answers"):
        machine.succeed(cli("create -f ${helloPod}"))
        machine.wait_until_succeeds(cli("pods get hello") + " | grep -q Running", timeout=180)
        ip = machine.succeed(cli("pods get hello -o json") + " | jq -r .status.podIp").strip()
        assert ip.startswith("10.88.0."), f"pod IP {ip} is not in the test subnet"
        machine.wait_until_succeeds(f"curl -sf --max-time 3 http://{ip}:8080/ | grep -q hello-from-k8shost")

    with subtest("an agent restart never kills pods"):
        machine.succeed("systemctl restart k8shost-agent.service")
        machine.wait_for_unit("k8shost-agent.service")
        machine.succeed(f"curl -sf --max-time 3 http://{ip}:8080/ | grep -q hello-from-k8shost")

    with subtest("pods are deleted after an operator's ip netns add"):
        machine.succeed("ip netns add operator-ns")
        machine.succeed(cli("pods delete hello --grace-period 5"))
        machine.wait_until_fails(cli("pods get hello"), timeout=120)
        machine.wait_until_succeeds(
            "[ -z \"$(crictl --runtime-endpoint unix:///run/containerd/containerd.sock pods -q)\" ]", timeout=60
        )
        machine.succeed("ip netns delete operator-ns")
  '';
}
