using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>bundles/net: its hooks (`cnr hook cni add|del`) give the container an address with Debian's CNI
/// plugins. The "host" side (the bridge, the veth's host end, the IPAM leases, the result records) lives in a
/// network namespace and a directory of the test's own: cnr runs under nsenter into a namespace held by an
/// `unshare -n sleep` the test started, so no interface is made in, and no packet reaches, the machine's own.</summary>
public sealed class NetworkTests : IDisposable
{
    private const string CniDir = "/usr/lib/cni";
    private readonly System.Diagnostics.Process? _holder;
    private readonly string _dir = Path.Combine(Repo.Scratch, $"cni-{Guid.NewGuid():N}"[..16]);
    private readonly string _conf;
    private readonly string _leases;
    private readonly string _cache;
    private readonly List<TestBundle> _bundles = [];

    public NetworkTests()
    {
        _conf = Path.Combine(_dir, "net.conflist");
        _leases = Path.Combine(_dir, "leases");
        _cache = Path.Combine(_dir, "cache");
        if (new CniFactAttribute().Skip is not null) return;
        Directory.CreateDirectory(_dir);
        // The lab's own network configuration, its leases kept here instead of /var/lib/cni/networks.
        var conf = JsonNode.Parse(File.ReadAllText(Path.Combine(LabBundle.DirOf("net"), "cnr-net.conflist")))!;
        conf["plugins"]![0]!["ipam"]!["dataDir"] = _leases;
        File.WriteAllText(_conf, conf.ToJsonString());
        _holder = System.Diagnostics.Process.Start("unshare", ["-n", "--", "sleep", "600"]);
        // unshare(1) execs sleep in the same process once the namespace is made.
        var own = Host.Namespace("net");
        for (int i = 0; i < 500 && (new FileInfo($"/proc/{_holder.Id}/ns/net").LinkTarget == own || ReadComm() != "sleep"); i++) Thread.Sleep(10);
        Assert.NotEqual(own, new FileInfo($"/proc/{_holder.Id}/ns/net").LinkTarget);
    }

    private string ReadComm() { try { return File.ReadAllText($"/proc/{_holder!.Id}/comm").Trim(); } catch (IOException) { return ""; } }

    public void Dispose()
    {
        foreach (var b in _bundles)
        {
            InNetns(b, "delete", "--force", b.Id);
            b.Dispose();
        }
        if (_holder is not null)
        {
            _holder.Kill();
            _holder.WaitForExit();
            _holder.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    /// <summary>bundles/net's config, its hooks running this cnr with the test's conflist and record directory.</summary>
    private TestBundle Bundle(params string[] args)
    {
        var lab = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(LabBundle.DirOf("net"), "config.json")), SpecJson.Default.RuntimeSpec)!;
        var b = LabBundle.Open("net", lab, args);
        _bundles.Add(b);
        b.Spec.Hooks = new global::Cnr.Spec.Hooks
        {
            CreateRuntime = [.. lab.Hooks!.CreateRuntime!.Select(Retarget)],
            Poststop = [.. lab.Hooks!.Poststop!.Select(Retarget)],
        };
        b.Write();
        return b;
    }

    private Hook Retarget(Hook h)
    {
        var args = h.Args!.ToList();
        args[args.IndexOf("--conf") + 1] = _conf;
        return new Hook { Path = Repo.CnrBinary, Args = [.. args, "--cache-dir", _cache] };
    }

    /// <summary>`cnr --root STATE ARGS…` in the test's network namespace (stdio in files: see <see cref="Detached"/>).</summary>
    private CnrResult InNetns(TestBundle b, params string[] args)
        => Detached.Exec(["nsenter", $"--net=/proc/{_holder!.Id}/ns/net", "--", Repo.CnrBinary, "--root", b.StateRoot, .. args], TimeSpan.FromSeconds(60));

    /// <summary>A command in the test's network namespace (ip link…).</summary>
    private CnrResult HostSide(params string[] command)
        => Harness.Cnr.Exec("nsenter", [$"--net=/proc/{_holder!.Id}/ns/net", "--", .. command]);

    private TestBundle Start()
    {
        var b = Bundle("sleep", "600");
        var r = InNetns(b, "run", "--detach", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        return b;
    }

    private static JsonNode InspectJson(TestBundle b)
    {
        var r = b.Cnr("inspect", "--format", "json", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonNode.Parse(r.Stdout)!;
    }

    private static string AddressOf(JsonNode view) => ((string)view["networks"]![0]!["addresses"]![0]!["address"]!).Split('/')[0];

    private string[] LeaseFiles() => Directory.Exists(_leases)
        ? [.. Directory.EnumerateFiles(_leases, "*", SearchOption.AllDirectories).Where(f => IPAddress.TryParse(Path.GetFileName(f), out _))]
        : [];

    /// <summary>The veths of the test's namespace: after a delete the kernel destroys the container's
    /// namespace, and with it the pair, in a work queue of its own, so a veth may stay a moment.</summary>
    private string VethsAfterTeardown()
    {
        string veths = "";
        for (int i = 0; i < 200; i++)
        {
            veths = HostSide("ip", "-o", "link", "show", "type", "veth").Stdout;
            if (veths.Trim().Length == 0) break;
            Thread.Sleep(50);
        }
        return veths;
    }

    /// <summary>A root fact for hosts with the CNI plugins.</summary>
    public sealed class CniFactAttribute : FactAttribute
    {
        public CniFactAttribute()
        {
            if (new RootFactAttribute().Skip is { } reason) Skip = reason;
            else if (!File.Exists(Path.Combine(CniDir, "bridge")))
                Skip = $"needs Debian's containernetworking-plugins in {CniDir} (make deps, or tests/install-deps.sh containernetworking-plugins)";
        }
    }

    [CniFact]
    public void Net_ReadmeCommand_Eth0HasAnAddress_AndTheBridgePings_WhereMyboxHasOnlyLo()
    {
        using var mybox = LabBundle.Open("mybox", "ip", "-o", "link");
        var m = mybox.Run();
        Assert.True(m.ExitCode == 0, m.ToString());
        Assert.Matches(@"^1: lo: <LOOPBACK,UP,LOWER_UP> ", m.Stdout.Trim());              // up, as runc brings it up
        Assert.Single(m.Stdout.Trim().Split('\n'));

        // The README's command, in the foreground: cnr deletes the container when it exits (poststop → del).
        var b = Bundle("sh", "-c", "ip a; ping -c 1 -W 5 10.99.0.1");
        var r = InNetns(b, "run", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP", r.Stdout);
        Assert.Matches(@"inet 10\.99\.0\.\d+/24 ", r.Stdout);
        Assert.Matches(@"lo: <LOOPBACK,UP,LOWER_UP>", r.Stdout);                        // the loopback plugin
        Assert.Contains("1 packets transmitted, 1 packets received", r.Stdout);
        Assert.Empty(LeaseFiles());
        Assert.Empty(Directory.Exists(Path.Combine(_cache, "results")) ? Directory.GetFiles(Path.Combine(_cache, "results")) : []);
    }

    [CniFact]
    public void Net_Inspect_ShowsTheVethHostEndAndTheAddress_AndDeleteLeavesNoVethNoLeaseNoRecord()
    {
        var b = Start();
        var inside = b.Cnr("exec", b.Id, "ip", "-4", "-o", "addr", "show", "eth0");
        Assert.True(inside.ExitCode == 0, inside.ToString());

        var view = InspectJson(b);
        var address = AddressOf(view);
        Assert.Contains($"inet {address}/24", inside.Stdout);
        Assert.Equal("eth0", (string)view["networks"]![0]!["addresses"]![0]!["interface"]!);
        Assert.Equal("10.99.0.1", (string)view["networks"]![0]!["addresses"]![0]!["gateway"]!);
        Assert.Contains("eth0", view["netDevices"]!.AsArray().Select(n => (string)n!));
        var interfaces = view["networks"]![0]!["interfaces"]!.AsArray();
        var veth = (string)interfaces.Single(i => (string)i!["role"]! == "veth host end")!["name"]!;
        Assert.Equal("cnr0", (string)interfaces.Single(i => (string)i!["role"]! == "host")!["name"]!);
        var text = b.Cnr("inspect", b.Id);
        Assert.Contains("veth host end", text.Stdout);
        Assert.Contains(veth, text.Stdout);
        Assert.Contains($"{address}/24 on eth0 inside, gateway 10.99.0.1", text.Stdout);

        // The host end is in the test's namespace, on the bridge; never in the machine's own.
        Assert.Contains("master cnr0", HostSide("ip", "-o", "link", "show", veth).Stdout);
        Assert.DoesNotContain(veth, Harness.Cnr.Exec("ip", ["-o", "link"]).Stdout);
        Assert.Single(LeaseFiles());

        var del = InNetns(b, "delete", "--force", b.Id);
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Empty(LeaseFiles());
        Assert.Empty(Directory.GetFiles(Path.Combine(_cache, "results")));
        Assert.Equal("", VethsAfterTeardown().Trim());
    }

    [CniFact]
    public void Net_TwoContainersOnOneBridge_ReachEachOther()
    {
        var a = Start();
        var b = Start();
        var addressA = AddressOf(InspectJson(a));
        var addressB = AddressOf(InspectJson(b));
        Assert.NotEqual(addressA, addressB);
        var ping = a.Cnr("exec", a.Id, "ping", "-c", "1", "-W", "5", addressB);
        Assert.True(ping.ExitCode == 0, ping.ToString());
        Assert.Contains("1 packets transmitted, 1 packets received", ping.Stdout);
        Assert.Equal(2, LeaseFiles().Length);

        foreach (var x in new[] { a, b })
            Assert.True(InNetns(x, "delete", "--force", x.Id) is { ExitCode: 0 } d, $"delete {x.Id}");
        Assert.Empty(LeaseFiles());
        Assert.Equal("", VethsAfterTeardown().Trim());
    }

    [CniFact]
    public void Net_HookOnAContainerWithoutItsOwnNetworkNamespace_FailsNamingTheField_AndLeavesNothing()
    {
        var b = Bundle("true");
        b.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "network");
        b.Write();
        var r = InNetns(b, "run", "--bundle", b.Dir, b.Id);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("linux.namespaces has no \"network\" entry", r.Stderr);
        Assert.Empty(LeaseFiles());
        Assert.Equal("", HostSide("ip", "-o", "link", "show", "type", "bridge").Stdout.Trim());
        Assert.NotEqual(0, b.Cnr("state", b.Id).ExitCode);
    }
}
