using System.CommandLine;
using System.Text.Json;
using Cnr.Containers;
using Cnr.Inspect;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr inspect ID [--format text|json]`: what the kernel says about a live container, each
/// figure next to the host's, and the /proc or cgroup file it came from, so that a student can look there too.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var format = new Option<string>("--format", "-f") { Description = "text or json", DefaultValueFactory = _ => "text" };
        var cmd = new Command("inspect", "show the kernel's view of a running container: namespaces, ids, cgroup, capabilities, seccomp, mounts") { id, format };
        Verbs.SetAction(cmd, r =>
        {
            var fmt = r.GetValue(format);
            if (fmt is not ("text" or "json")) throw new UsageException($"--format: \"{fmt}\" is not a format (text, json)");
            var store = CommonOptions.Store(r);
            ContainerView view;
            using (var c = Container.Load(store, r.GetValue(id)!))
            {
                if (c.Status is ContainerStatus.Stopped)
                    throw new InvalidOperationException($"container {c.Id} is stopped: the kernel keeps this view only while its process lives");
                var config = c.Config;
                view = Inspector.Read(c.Record, config, HookCommand.RecordsOf(config, c.Record.Bundle, c.Id));
            }
            if (fmt == "json") Console.WriteLine(JsonSerializer.Serialize(view, InspectJson.Default.ContainerView));
            else Print(view);
            return 0;
        });
        return cmd;
    }

    private static void Print(ContainerView v)
    {
        var o = Console.Out;
        o.WriteLine($"container {v.Id}");
        o.WriteLine($"  pid          {v.ContainerPid} inside, {v.HostPid} on the host   (NSpid: {string.Join(' ', v.NsPids)} in /proc/{v.HostPid}/status)");

        o.WriteLine();
        o.WriteLine($"namespaces     (/proc/{v.HostPid}/ns/* against the host's /proc/self/ns/*)");
        var rows = new List<string[]> { new[] { "  TYPE", "CONTAINER", "HOST", "" } };
        rows.AddRange(v.Namespaces.Select(n => new[] { "  " + n.Type, n.Container ?? "?", n.Host ?? "?", n.Shared ? "same (shared with the host)" : "different (its own)" }));
        Table.Print(rows);

        o.WriteLine();
        o.WriteLine("user ids       (inside outside count; no user namespace = the identity map 0 0 4294967295)");
        o.WriteLine($"  uid_map      {string.Join(" | ", v.UidMap)}");
        o.WriteLine($"  gid_map      {string.Join(" | ", v.GidMap)}");
        if (v.HostUids.Count > 0)
            o.WriteLine($"  uid          {InsideId(v.HostUids[1], v.UidMap)} inside = {v.HostUids[1]} on the host (effective)");
        if (v.HostGids.Count > 0)
            o.WriteLine($"  gid          {InsideId(v.HostGids[1], v.GidMap)} inside = {v.HostGids[1]} on the host (effective)");

        o.WriteLine();
        o.WriteLine($"cgroup         {string.Join(" | ", v.Cgroup.Membership)}");
        foreach (var f in v.Cgroup.Figures)
            o.WriteLine($"  {f.Resource,-12} {Describe(f)}   ({f.CurrentFile}, {f.LimitFile})");
        foreach (var resource in v.Cgroup.Unavailable)
            o.WriteLine($"  {resource,-12} n/a   (no {resource} controller in the container's cgroup: {v.Cgroup.UnavailableWhy})");

        o.WriteLine();
        o.WriteLine($"capabilities   (/proc/{v.HostPid}/status, decoded)");
        o.WriteLine($"  effective    {Names(v.Capabilities.Effective)}");
        o.WriteLine($"  permitted    {Names(v.Capabilities.Permitted)}");
        o.WriteLine($"  bounding     {Names(v.Capabilities.Bounding)}");
        if (v.Capabilities.Inheritable.Count > 0) o.WriteLine($"  inheritable  {Names(v.Capabilities.Inheritable)}");
        if (v.Capabilities.Ambient.Count > 0) o.WriteLine($"  ambient      {Names(v.Capabilities.Ambient)}");
        o.WriteLine($"  no_new_privs {(v.NoNewPrivs ? "1 (execve cannot gain privileges: setuid bits and file capabilities are ignored)" : "0")}");
        o.WriteLine($"  seccomp      {v.SeccompMode switch { 0 => "0 (off)", 1 => "1 (strict)", _ => $"{v.SeccompMode} (filter)" }}"
                    + (v.SeccompFilters is { } n ? $", {n} filter(s)" : ""));
        o.WriteLine($"  lsm label    {v.LsmLabel ?? "none (no LSM label on this host)"}   (/proc/{v.HostPid}/attr/current)");

        o.WriteLine();
        if (v.Hostname is not null) o.WriteLine($"hostname       {v.Hostname}   (as configured; inside: cat /proc/sys/kernel/hostname)");
        if (v.Root is { } root)
            o.WriteLine($"root           / is {root.FsType} {root.Source}, directory {root.FsRoot} of that filesystem, {root.Options}");
        o.WriteLine($"mounts         (/proc/{v.HostPid}/mountinfo: as the container sees them)");
        var mounts = new List<string[]> { new[] { "  MOUNT POINT", "TYPE", "SOURCE", "OPTIONS" } };
        mounts.AddRange(v.Mounts.Select(m => new[] { "  " + m.MountPoint, m.FsType, m.Source, m.Options }));
        Table.Print(mounts);

        o.WriteLine();
        o.WriteLine($"network        interfaces {string.Join(' ', v.NetDevices)}   (/proc/{v.HostPid}/net/dev: the container's network namespace)");
        if (v.Networks.Count == 0)
            o.WriteLine("  no CNI network (a `cnr hook cni add` createRuntime hook gives one: see bundles/net)");
        foreach (var net in v.Networks)
        {
            o.WriteLine($"  {net.Network,-12} (CNI result: {net.ResultFile})");
            foreach (var a in net.Addresses)
                o.WriteLine($"    address       {a.Address} on {a.Interface ?? "?"} inside{(a.Gateway is null ? "" : $", gateway {a.Gateway}")}");
            foreach (var i in net.Interfaces)
                o.WriteLine($"    {i.Role,-13} {i.Name} {i.Mac}{(i.Sandbox is null ? "" : $"   (in {i.Sandbox})")}");
        }
    }

    private static string Names(List<string> caps) => caps.Count == 0 ? "(none)" : string.Join(' ', caps);

    /// <summary>The id a host id has inside, through "inside outside count" map lines; "unmapped" (the kernel shows 65534) otherwise.</summary>
    private static string InsideId(uint hostId, List<string> map)
    {
        foreach (var line in map)
        {
            var f = line.Split(' ');
            if (f.Length == 3 && uint.TryParse(f[0], out var inside) && uint.TryParse(f[1], out var outside) && uint.TryParse(f[2], out var count)
                && hostId >= outside && hostId - outside < count)
                return (inside + (hostId - outside)).ToString();
        }
        return "unmapped";
    }

    /// <summary>"3.2 MiB of 64.0 MiB": the cgroup files' raw words made readable, "max" kept as "no limit".</summary>
    private static string Describe(ResourceFigure f)
    {
        switch (f.Resource)
        {
            case "memory":
                return $"{Bytes(f.Current)} of {(f.Limit == "max" ? "no limit" : Bytes(f.Limit))}";
            case "pids":
                return $"{f.Current} of {(f.Limit == "max" ? "no limit" : f.Limit)}";
            default:
                var usage = f.Current.StartsWith("usage_usec ", StringComparison.Ordinal) ? $"{f.Current[11..]} µs used" : f.Current;
                return $"{usage}, quota {CpuQuota(f.Limit)}";
        }
    }

    private static string Bytes(string s)
        => ulong.TryParse(s, out var n) ? (n >= 1 << 20 ? $"{n / 1048576.0:0.0} MiB" : $"{n / 1024.0:0.0} KiB") : s;

    /// <summary>cpu.max "50000 100000" is 50% of one CPU.</summary>
    private static string CpuQuota(string limit)
    {
        var f = limit.Split(' ');
        if (f[0] == "max") return "none";
        return f.Length == 2 && double.TryParse(f[0], out var q) && double.TryParse(f[1], out var p) && p > 0
            ? $"{limit} ({q / p * 100:0.#}% of one CPU)"
            : limit;
    }
}
