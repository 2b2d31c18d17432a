using System.CommandLine;
using System.Text.Json;
using Cnr.Network;
using Cnr.Spec;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr hook cni add|del --conf FILE`: hook programs shipped with cnr, for a config's hooks (not typed
/// by hand). `cni add` as a createRuntime hook gives the container a network with Debian's CNI plugins, the way
/// Kubernetes and Podman do; `cni del` as a poststop hook releases it. Each reads the OCI state on stdin.</summary>
internal static class HookCommand
{
    private const string DefaultCacheDir = "/var/lib/cni";
    private const string DefaultCniPath = "/usr/lib/cni:/opt/cni/bin";

    /// <summary>The flags `cni add` and `cni del` share; also what `cnr inspect` reads back from a recorded
    /// createRuntime hook, to find its result.</summary>
    private sealed class CniOptions
    {
        public readonly Option<string> Conf = new("--conf")
        {
            Description = "the network's CNI configuration list (.conflist) or .conf; a relative path is taken from the bundle directory",
            Required = true,
        };
        public readonly Option<string> CacheDir = new("--cache-dir")
        {
            Description = "where the ADD result is recorded (DIR/results/NETWORK-ID-IFNAME, as libcni), for the DEL and `cnr inspect`",
            DefaultValueFactory = _ => DefaultCacheDir,
        };
        public readonly Option<string> CniPath = new("--cni-path")
        {
            Description = "the directories of the plugin programs, separated by ':' (CNI_PATH)",
            DefaultValueFactory = _ => DefaultCniPath,
        };
        public readonly Option<string> IfName = new("--ifname")
        {
            Description = "the interface's name inside the container (CNI_IFNAME)",
            DefaultValueFactory = _ => "eth0",
        };

        public Command Verb(string name, string description, Func<ParseResult, int> body)
        {
            var cmd = new Command(name, description) { Conf, CacheDir, CniPath, IfName };
            Verbs.SetAction(cmd, body);
            return cmd;
        }

        public string ConfPath(ParseResult r, string bundle) => Path.GetFullPath(r.GetValue(Conf)!, bundle);

        public string RecordPath(ParseResult r, CniNetwork net, string containerId)
            => CniRecord.PathOf(r.GetValue(CacheDir)!, net.Name, containerId, r.GetValue(IfName)!);

        public CniRuntime Runtime(ParseResult r, string containerId, string? netns)
            => new(containerId, netns, r.GetValue(IfName)!, r.GetValue(CniPath)!.Split(':', StringSplitOptions.RemoveEmptyEntries));
    }

    public static Command Create() => Create(new CniOptions());

    private static Command Create(CniOptions o)
    {
        var add = o.Verb("add", "createRuntime hook: run the network's plugins (CNI ADD) for the container's network namespace, record the result", r =>
        {
            var state = ReadState();
            var net = CniNetwork.Load(o.ConfPath(r, state.Bundle));
            var netns = NetnsOf(state);
            var result = CniRunner.Add(net, o.Runtime(r, state.Id, netns));
            try
            {
                new CniRecord
                {
                    ContainerId = state.Id, NetworkName = net.Name, IfName = r.GetValue(o.IfName)!, Netns = netns,
                    NetnsIdentity = CniRecord.IdentityOf(netns) ?? "", Result = result,
                }.Write(o.RecordPath(r, net, state.Id));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                try { CniRunner.Del(net, o.Runtime(r, state.Id, netns), result); } catch (CniException) { }
                throw new CniException($"--cache-dir {r.GetValue(o.CacheDir)}: cannot record the result there ({e.Message}); the network was released");
            }
            return 0;
        });
        var del = o.Verb("del", "poststop hook: release what `cni add` made (CNI DEL), then its record", r =>
        {
            var state = ReadState();
            var net = CniNetwork.Load(o.ConfPath(r, state.Bundle));
            var path = o.RecordPath(r, net, state.Id);
            var record = CniRecord.Read(path);
            CniRunner.Del(net, o.Runtime(r, state.Id, LiveNetns(record, state)), record?.Result);
            File.Delete(path);
            return 0;
        });
        var cni = new Command("cni", "give a container a network with CNI plugins (/usr/lib/cni)") { add, del };
        // Hidden: a config names it; nobody types it.
        return new Command("hook", "hook programs for a config's hooks (reads the OCI state on stdin)") { Hidden = true, Subcommands = { cni } };
    }

    /// <summary>The OCI state a hook gets on stdin.</summary>
    private static ContainerState ReadState()
    {
        var text = Console.In.ReadToEnd();
        ContainerState? state = null;
        try { state = JsonSerializer.Deserialize(text, SpecJson.Default.ContainerState); }
        catch (JsonException) { }
        if (state is not { Id.Length: > 0, Bundle.Length: > 0 })
            throw new UsageException("hook: stdin holds no OCI state ({\"id\", \"pid\", \"bundle\", …}): run it from a config's hooks, which pass one");
        return state;
    }

    /// <summary>The container's network namespace for an ADD: the path the config joins, else the init's own
    /// (/proc/PID/ns/net). A container without one of its own would have the host's network configured: refused.</summary>
    private static string NetnsOf(ContainerState state)
    {
        var spec = SpecLoader.Load(state.Bundle);
        var network = spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == "network")
            ?? throw new CniException($"{Path.Combine(state.Bundle, SpecLoader.ConfigFile)}: linux.namespaces has no \"network\" entry: the container "
                                      + "shares the host's network namespace, which CNI must not configure (add {\"type\": \"network\"})");
        if (network.Path is { Length: > 0 } path) return path;
        if (state.Pid <= 0) throw new CniException($"hook: the state of {state.Id} has no pid (run cni add as a createRuntime hook, when the container's process exists)");
        return $"/proc/{state.Pid}/ns/net";
    }

    /// <summary>The namespace a DEL may enter: the ADD's, while its file still names that namespace (a /proc/PID
    /// path only while the container lives: after it, the pid may be someone else's). Null when it is gone: the
    /// kernel removed the container's interfaces with it, and the plugins then release only the rest (the lease).</summary>
    private static string? LiveNetns(CniRecord? record, ContainerState state)
    {
        if (record is not { Netns.Length: > 0 }) return null;
        if (record.Netns.StartsWith("/proc/", StringComparison.Ordinal) && state.Status == ContainerStatus.Stopped.Name()) return null;
        var identity = CniRecord.IdentityOf(record.Netns);
        return identity is not null && identity == record.NetnsIdentity ? record.Netns : null;
    }

    /// <summary>The records of the `cnr hook cni add` hooks in a container's createRuntime hooks (whichever path
    /// the cnr binary has there), read with the hook's own parser; those not recorded (yet) are left out.</summary>
    public static List<(string Path, CniRecord Record)> RecordsOf(RuntimeSpec spec, string bundle, string containerId)
    {
        var found = new List<(string, CniRecord)>();
        foreach (var hook in spec.Hooks?.CreateRuntime ?? [])
        {
            // From the verb on: cnr's global flags before it say nothing about the network.
            int verb = hook.Args?.IndexOf("hook") ?? -1;
            if (verb < 1) continue;
            var o = new CniOptions();
            var parse = CommandLine.Parse(new RootCommand { Create(o) }, [.. hook.Args!.Skip(verb)]);
            if (parse.Errors.Count > 0 || parse.CommandResult.Command is not { Name: "add", Parents: var parents }
                || !parents.OfType<Command>().Any(p => p.Name == "cni")) continue;
            try
            {
                var net = CniNetwork.Load(o.ConfPath(parse, bundle));
                var path = o.RecordPath(parse, net, containerId);
                if (CniRecord.Read(path) is { } record) found.Add((path, record));
            }
            catch (CniException) { }  // a conf edited or removed since: nothing to show for it
        }
        return found;
    }
}
