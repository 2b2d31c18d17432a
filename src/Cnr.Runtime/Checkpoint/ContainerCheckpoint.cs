using System.Text.Json;
using Cnr.Checkpoint.Rpc;
using Cnr.Containers;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;
using Cnr.State;

namespace Cnr.Checkpoint;

/// <summary>`checkpoint`: CRIU dumps the container's process tree, its namespaces and mounts into the image
/// directory; the container is then gone (as runc destroys it), unless --leave-running or --pre-dump.</summary>
public static class ContainerCheckpoint
{
    /// <summary>The stdio of the container's init at dump time (runc's file name and format): `restore` hands
    /// its own pipes to CRIU in their place (inherit_fd), so the restored process writes where restore's caller reads.</summary>
    public const string DescriptorsFile = "descriptors.json";

    public static void Checkpoint(ContainerStore store, string id, CheckpointOptions o)
    {
        using var c = Container.Load(store, id);
        var record = c.Record;
        o.Validate();
        if (c.Status is not (ContainerStatus.Running or ContainerStatus.Paused))
            throw new InvalidOperationException($"cannot checkpoint container {record.Id}: it is {c.Status.Name()} (only a running container can be checkpointed)");
        var criuPath = Criu.Require("checkpoint");
        var spec = c.Config;

        var imageDir = Path.GetFullPath(o.ImagePath);
        Directory.CreateDirectory(imageDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var workDir = Path.GetFullPath(o.WorkPath ?? imageDir);
        Directory.CreateDirectory(workDir);
        using var images = OpenDir(imageDir, "--image-path");
        using var work = OpenDir(workDir, "--work-path");

        var opts = new criu_opts
        {
            ImagesDirFd = images.Fd,  // numbers in the RPC: CRIU opens them as /proc/PID/fd/N of this process
            WorkDirFd = work.Fd,
            LogFile = o.PreDump ? "predump.log" : "dump.log",
            Root = record.Rootfs,
            Pid = record.Pid,
            LeaveRunning = o.LeaveRunning,
            AutoDedup = o.AutoDedup,
        };
        o.Apply(opts);
        if (o.ParentPath is { Length: > 0 } parent)
        {
            // CRIU wants the parent's images relative to the new ones.
            opts.ParentImg = Path.IsPathRooted(parent) ? Path.GetRelativePath(imageDir, parent) : parent;
            opts.TrackMem = true;
        }
        if (o.PreDump) opts.TrackMem = true;
        if (record.CgroupPath is { Length: > 0 } cgroup) opts.FreezeCgroup = cgroup;
        foreach (var m in CriuMounts.Binds(spec))
            opts.ExtMnt.Add(new ext_mount_map { Key = m.Destination, Val = m.Destination });
        foreach (var (type, path) in CriuMounts.JoinedNamespaces(spec))
            opts.External.Add($"{type}[{CriuMounts.NamespaceInode(path)}]:{CriuMounts.ExternalKey(type)}");

        if (!o.PreDump) WriteDescriptors(imageDir, record.Pid);
        using (var criu = Criu.Start(criuPath, [], Path.Combine(workDir, opts.LogFile)))
            criu.Call(new criu_req { Type = o.PreDump ? criu_req_type.PreDump : criu_req_type.Dump, Opts = opts });
        if (o.LeaveRunning || o.PreDump) return;

        // CRIU killed the tree after dumping it: what is left is the container's record, cgroup and hooks.
        ContainerDelete.WaitGone(record);
        ContainerDelete.Destroy(c);
    }

    private static SafeFd OpenDir(string path, string flag)
    {
        var fd = Libc.open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd.IsInvalid) throw new InvalidOperationException($"{flag} {path}: {Errno.Name(Errno.Last)} ({Errno.Describe(Errno.Last)})");
        return fd;
    }

    /// <summary>runc's descriptors.json: a JSON array of the targets of the init's fds 0, 1 and 2.</summary>
    private static void WriteDescriptors(string imageDir, int pid)
    {
        var targets = new List<string>();
        for (int fd = 0; fd < 3; fd++) targets.Add(ProcFs.Link($"{pid}/fd/{fd}") ?? "/dev/null");
        using var stream = File.Create(Path.Combine(imageDir, DescriptorsFile));
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartArray();
        foreach (var t in targets) w.WriteStringValue(t);
        w.WriteEndArray();
    }

    internal static List<string> ReadDescriptors(string imageDir)
    {
        var path = Path.Combine(imageDir, DescriptorsFile);
        var list = new List<string>();
        var reader = new Utf8JsonReader(File.ReadAllBytes(path));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) throw new JsonException();
            while (reader.Read() && reader.TokenType == JsonTokenType.String) list.Add(reader.GetString()!);
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"{path}: not a JSON array of strings (written by cnr or runc checkpoint)");
        }
        return list;
    }
}

/// <summary>What CRIU must be told about a container's mounts and namespaces, on both sides.</summary>
internal static class CriuMounts
{
    /// <summary>Bind mounts from the config: their sources are outside the container, so CRIU records them as
    /// external (key = destination) and restore says where each source is.</summary>
    public static IEnumerable<Mount> Binds(RuntimeSpec spec)
        => (spec.Mounts ?? []).Where(m => m.Type == "bind" || (m.Options ?? []).Any(o => o is "bind" or "rbind"));

    /// <summary>Namespaces the container joined by path (linux.namespaces[].path) that CRIU can leave outside:
    /// network and pid, as runc.</summary>
    public static IEnumerable<(string Type, string Path)> JoinedNamespaces(RuntimeSpec spec)
        => (spec.Linux?.Namespaces ?? []).Where(n => n.Path is { Length: > 0 } && n.Type is "network" or "pid")
            .Select(n => (n.Type == "network" ? "net" : "pid", n.Path!));

    public static string ExternalKey(string type) => type == "net" ? "extRootNetNS" : "extRootPidNS";

    /// <summary>CRIU names an external namespace by its inode ("net[4026532008]:extRootNetNS").</summary>
    public static ulong NamespaceInode(string path)
    {
        if (Libc.fstatat(SafeFd.AtCwd, path, out var st, 0) < 0)
            throw new InvalidOperationException($"linux.namespaces: {path}: {Errno.Name(Errno.Last)} ({Errno.Describe(Errno.Last)})");
        return st.Ino;
    }
}
