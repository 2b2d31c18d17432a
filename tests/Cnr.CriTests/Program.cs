// cri-check: what a kubelet does with a pod, through containerd's CRI plugin with cnr as the runtime handler,
// checked against cnr's own state, the cgroup files and the processes of the node it runs on. Run by
// tests/vm/check-cri.sh inside the cgroup v2 guest, after containerd has started there. Settings (environment):
//   CRI_SOCKET (/run/containerd/containerd.sock)  CRI_HANDLER (cnr)  CNR_BINARY (cnr)
//   CRI_SHIM_ROOT (/run/containerd/runc/k8s.io): the --root the runc shim gives its BinaryName
//   CRI_CGROUP_DRIVER (cgroupfs | systemd: containerd's SystemdCgroup)  CRI_LOG_DIR (/tmp/cri-logs)
//   CRI_PAUSE_IMAGE, CRI_BUSYBOX_IMAGE (cnr.test/pause:1, cnr.test/busybox:1)
// Output: PASS/FAIL/SKIP lines, "time" lines, and "N passed, N failed, N skipped"; exit 1 when a check failed.
using System.Net.Sockets;
using Cnr.CriTests;
using Cnr.CriTests.Cri;
using Grpc.Net.Client;

static string Setting(string name, string fallback) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

var socket = Setting("CRI_SOCKET", "/run/containerd/containerd.sock");
var settings = new Settings(
    Handler: Setting("CRI_HANDLER", "cnr"),
    SystemdCgroup: Setting("CRI_CGROUP_DRIVER", "cgroupfs") == "systemd",
    LogRoot: Setting("CRI_LOG_DIR", "/tmp/cri-logs"),
    PauseImage: Setting("CRI_PAUSE_IMAGE", "cnr.test/pause:1"),
    BusyboxImage: Setting("CRI_BUSYBOX_IMAGE", "cnr.test/busybox:1"));

// gRPC over containerd's unix socket: HTTP/2 without TLS to a placeholder host, the socket chosen on connect
var http = new SocketsHttpHandler
{
    ConnectCallback = async (_, ct) =>
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
            return new NetworkStream(s, ownsSocket: true);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    },
};
using var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = http });
var report = new Report();
var scenario = new Scenario(
    new RuntimeService.RuntimeServiceClient(channel),
    new ImageService.ImageServiceClient(channel),
    new Node(Setting("CNR_BINARY", "cnr"), Setting("CRI_SHIM_ROOT", "/run/containerd/runc/k8s.io")),
    report, settings);
await scenario.RunAsync();
report.Close();
return report.Failed ? 1 : 0;
