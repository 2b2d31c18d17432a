using System.Text.Json;

namespace Cnr.Spec;

/// <summary>Binds a parsed config.json to <see cref="RuntimeSpec"/> field by field. Written by hand because
/// System.Text.Json's deserializer builds its type metadata at run time even from a source-generated context
/// (converters that ask for their assembly, custom attributes searched for polymorphism): on every `create`
/// that cost more than the rest of the parse. Every value that cannot be bound is one error naming its JSON
/// path: a wrong type (the value found), null where the field takes none, a NUL character, a \u escape that
/// is half a surrogate pair. Unknown fields are ignored, as the runtime-spec says; names match exactly.</summary>
internal static class SpecReader
{
    public static RuntimeSpec Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TopLevelException(Found(root));
        return RuntimeSpec(root, "");
    }

    /// <summary>A process.json (`exec --process`): the same binding as config.json's "process".</summary>
    public static Process ReadProcess(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TopLevelException(Found(root));
        return Process(root, "");
    }

    /// <summary>The document is not an object: the loader words this one for the whole file.</summary>
    internal sealed class TopLevelException(string found) : Exception(found)
    {
        public string Found { get; } = found;
    }

    private static RuntimeSpec RuntimeSpec(JsonElement v, string path) => Fields<RuntimeSpec>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "ociVersion": o.OciVersion = Text(v, p); break;
            case "process": o.Process = Optional(v, p, Process); break;
            case "root": o.Root = Optional(v, p, Root); break;
            case "hostname": o.Hostname = TextOrNull(v, p); break;
            case "domainname": o.Domainname = TextOrNull(v, p); break;
            case "mounts": o.Mounts = ListOf(v, p, ObjectKind, Mount); break;
            case "hooks": o.Hooks = Optional(v, p, Hooks); break;
            case "annotations": o.Annotations = MapOf(v, p, StringKind, Text); break;
            case "linux": o.Linux = Optional(v, p, Linux); break;
        }
    });

    private static Process Process(JsonElement v, string path) => Fields<Process>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "terminal": o.Terminal = Bool(v, p); break;
            case "consoleSize": o.ConsoleSize = Optional(v, p, Box); break;
            case "user": o.User = Required(v, p, ObjectKind, User); break;
            case "args": o.Args = ListOf(v, p, StringKind, Text); break;
            case "commandLine": o.CommandLine = TextOrNull(v, p); break;
            case "env": o.Env = ListOf(v, p, StringKind, Text); break;
            case "cwd": o.Cwd = Text(v, p); break;
            case "capabilities": o.Capabilities = Optional(v, p, Capabilities); break;
            case "rlimits": o.Rlimits = ListOf(v, p, ObjectKind, Rlimit); break;
            case "noNewPrivileges": o.NoNewPrivileges = Bool(v, p); break;
            case "apparmorProfile": o.ApparmorProfile = TextOrNull(v, p); break;
            case "oomScoreAdj": o.OomScoreAdj = NumberOrNull(v, p, Int32Kind, Int32); break;
            case "scheduler": o.Scheduler = Optional(v, p, Scheduler); break;
            case "selinuxLabel": o.SelinuxLabel = TextOrNull(v, p); break;
            case "ioPriority": o.IoPriority = Optional(v, p, IoPriority); break;
            case "execCPUAffinity": o.ExecCPUAffinity = Optional(v, p, ExecCpuAffinity); break;
        }
    });

    private static ExecCpuAffinity ExecCpuAffinity(JsonElement v, string path) => Fields<ExecCpuAffinity>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "initial": o.Initial = TextOrNull(v, p); break;
            case "final": o.Final = TextOrNull(v, p); break;
        }
    });

    private static Box Box(JsonElement v, string path) => Fields<Box>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "height": o.Height = Number(v, p, UInt32Kind, UInt32); break;
            case "width": o.Width = Number(v, p, UInt32Kind, UInt32); break;
        }
    });

    private static User User(JsonElement v, string path) => Fields<User>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "uid": o.Uid = Number(v, p, UInt32Kind, UInt32); break;
            case "gid": o.Gid = Number(v, p, UInt32Kind, UInt32); break;
            case "umask": o.Umask = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "additionalGids": o.AdditionalGids = ListOf(v, p, UInt32Kind, (v, p) => Number(v, p, UInt32Kind, UInt32)); break;
            case "username": o.Username = TextOrNull(v, p); break;
        }
    });

    private static LinuxCapabilities Capabilities(JsonElement v, string path) => Fields<LinuxCapabilities>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "bounding": o.Bounding = ListOf(v, p, StringKind, Text); break;
            case "effective": o.Effective = ListOf(v, p, StringKind, Text); break;
            case "inheritable": o.Inheritable = ListOf(v, p, StringKind, Text); break;
            case "permitted": o.Permitted = ListOf(v, p, StringKind, Text); break;
            case "ambient": o.Ambient = ListOf(v, p, StringKind, Text); break;
        }
    });

    private static PosixRlimit Rlimit(JsonElement v, string path) => Fields<PosixRlimit>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "type": o.Type = Text(v, p); break;
            case "hard": o.Hard = Number(v, p, UInt64Kind, UInt64); break;
            case "soft": o.Soft = Number(v, p, UInt64Kind, UInt64); break;
        }
    });

    private static Scheduler Scheduler(JsonElement v, string path) => Fields<Scheduler>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "policy": o.Policy = Text(v, p); break;
            case "nice": o.Nice = NumberOrNull(v, p, Int32Kind, Int32); break;
            case "priority": o.Priority = NumberOrNull(v, p, Int32Kind, Int32); break;
            case "flags": o.Flags = ListOf(v, p, StringKind, Text); break;
            case "runtime": o.Runtime = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "deadline": o.Deadline = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "period": o.Period = NumberOrNull(v, p, UInt64Kind, UInt64); break;
        }
    });

    private static IoPriority IoPriority(JsonElement v, string path) => Fields<IoPriority>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "class": o.Class = Text(v, p); break;
            case "priority": o.Priority = Number(v, p, Int32Kind, Int32); break;
        }
    });

    private static Root Root(JsonElement v, string path) => Fields<Root>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "path": o.Path = Text(v, p); break;
            case "readonly": o.Readonly = Bool(v, p); break;
        }
    });

    private static Mount Mount(JsonElement v, string path) => Fields<Mount>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "destination": o.Destination = Text(v, p); break;
            case "type": o.Type = TextOrNull(v, p); break;
            case "source": o.Source = TextOrNull(v, p); break;
            case "options": o.Options = ListOf(v, p, StringKind, Text); break;
            case "uidMappings": o.UidMappings = ListOf(v, p, ObjectKind, IdMapping); break;
            case "gidMappings": o.GidMappings = ListOf(v, p, ObjectKind, IdMapping); break;
        }
    });

    private static Hooks Hooks(JsonElement v, string path) => Fields<Hooks>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "prestart": o.Prestart = ListOf(v, p, ObjectKind, Hook); break;
            case "createRuntime": o.CreateRuntime = ListOf(v, p, ObjectKind, Hook); break;
            case "createContainer": o.CreateContainer = ListOf(v, p, ObjectKind, Hook); break;
            case "startContainer": o.StartContainer = ListOf(v, p, ObjectKind, Hook); break;
            case "poststart": o.Poststart = ListOf(v, p, ObjectKind, Hook); break;
            case "poststop": o.Poststop = ListOf(v, p, ObjectKind, Hook); break;
        }
    });

    private static Hook Hook(JsonElement v, string path) => Fields<Hook>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "path": o.Path = Text(v, p); break;
            case "args": o.Args = ListOf(v, p, StringKind, Text); break;
            case "env": o.Env = ListOf(v, p, StringKind, Text); break;
            case "timeout": o.Timeout = NumberOrNull(v, p, Int32Kind, Int32); break;
        }
    });

    private static Linux Linux(JsonElement v, string path) => Fields<Linux>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "uidMappings": o.UidMappings = ListOf(v, p, ObjectKind, IdMapping); break;
            case "gidMappings": o.GidMappings = ListOf(v, p, ObjectKind, IdMapping); break;
            case "sysctl": o.Sysctl = MapOf(v, p, StringKind, Text); break;
            case "resources": o.Resources = Optional(v, p, Resources); break;
            case "cgroupsPath": o.CgroupsPath = TextOrNull(v, p); break;
            case "namespaces": o.Namespaces = ListOf(v, p, ObjectKind, Namespace); break;
            case "devices": o.Devices = ListOf(v, p, ObjectKind, Device); break;
            case "seccomp": o.Seccomp = Optional(v, p, Seccomp); break;
            case "rootfsPropagation": o.RootfsPropagation = TextOrNull(v, p); break;
            case "maskedPaths": o.MaskedPaths = ListOf(v, p, StringKind, Text); break;
            case "readonlyPaths": o.ReadonlyPaths = ListOf(v, p, StringKind, Text); break;
            case "mountLabel": o.MountLabel = TextOrNull(v, p); break;
            case "intelRdt": o.IntelRdt = Optional(v, p, IntelRdt); break;
            case "personality": o.Personality = Optional(v, p, Personality); break;
            case "timeOffsets": o.TimeOffsets = MapOf(v, p, ObjectKind, TimeOffset); break;
        }
    });

    private static LinuxIdMapping IdMapping(JsonElement v, string path) => Fields<LinuxIdMapping>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "containerID": o.ContainerID = Number(v, p, UInt32Kind, UInt32); break;
            case "hostID": o.HostID = Number(v, p, UInt32Kind, UInt32); break;
            case "size": o.Size = Number(v, p, UInt32Kind, UInt32); break;
        }
    });

    private static LinuxNamespace Namespace(JsonElement v, string path) => Fields<LinuxNamespace>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "type": o.Type = Text(v, p); break;
            case "path": o.Path = TextOrNull(v, p); break;
        }
    });

    private static LinuxDevice Device(JsonElement v, string path) => Fields<LinuxDevice>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "path": o.Path = Text(v, p); break;
            case "type": o.Type = Text(v, p); break;
            case "major": o.Major = Number(v, p, Int64Kind, Int64); break;
            case "minor": o.Minor = Number(v, p, Int64Kind, Int64); break;
            case "fileMode": o.FileMode = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "uid": o.Uid = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "gid": o.Gid = NumberOrNull(v, p, UInt32Kind, UInt32); break;
        }
    });

    private static LinuxTimeOffset TimeOffset(JsonElement v, string path) => Fields<LinuxTimeOffset>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "secs": o.Secs = Number(v, p, Int64Kind, Int64); break;
            case "nanosecs": o.Nanosecs = Number(v, p, UInt32Kind, UInt32); break;
        }
    });

    private static LinuxPersonality Personality(JsonElement v, string path) => Fields<LinuxPersonality>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "domain": o.Domain = Text(v, p); break;
            case "flags": o.Flags = ListOf(v, p, StringKind, Text); break;
        }
    });

    private static LinuxIntelRdt IntelRdt(JsonElement v, string path) => Fields<LinuxIntelRdt>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "closID": o.ClosID = TextOrNull(v, p); break;
            case "l3CacheSchema": o.L3CacheSchema = TextOrNull(v, p); break;
            case "memBwSchema": o.MemBwSchema = TextOrNull(v, p); break;
        }
    });

    internal static LinuxResources Resources(JsonElement v, string path) => Fields<LinuxResources>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "devices": o.Devices = ListOf(v, p, ObjectKind, DeviceRule); break;
            case "memory": o.Memory = Optional(v, p, Memory); break;
            case "cpu": o.Cpu = Optional(v, p, Cpu); break;
            case "pids": o.Pids = Optional(v, p, Pids); break;
            case "blockIO": o.BlockIO = Optional(v, p, BlockIO); break;
            case "hugepageLimits": o.HugepageLimits = ListOf(v, p, ObjectKind, HugepageLimit); break;
            case "network": o.Network = Optional(v, p, Network); break;
            case "rdma": o.Rdma = MapOf(v, p, ObjectKind, Rdma); break;
            case "unified": o.Unified = MapOf(v, p, StringKind, Text); break;
        }
    });

    private static LinuxDeviceCgroup DeviceRule(JsonElement v, string path) => Fields<LinuxDeviceCgroup>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "allow": o.Allow = Bool(v, p); break;
            case "type": o.Type = TextOrNull(v, p); break;
            case "major": o.Major = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "minor": o.Minor = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "access": o.Access = TextOrNull(v, p); break;
        }
    });

    private static LinuxMemory Memory(JsonElement v, string path) => Fields<LinuxMemory>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "limit": o.Limit = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "reservation": o.Reservation = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "swap": o.Swap = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "kernel": o.Kernel = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "kernelTCP": o.KernelTCP = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "swappiness": o.Swappiness = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "disableOOMKiller": o.DisableOOMKiller = BoolOrNull(v, p); break;
            case "useHierarchy": o.UseHierarchy = BoolOrNull(v, p); break;
            case "checkBeforeUpdate": o.CheckBeforeUpdate = BoolOrNull(v, p); break;
        }
    });

    private static LinuxCpu Cpu(JsonElement v, string path) => Fields<LinuxCpu>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "shares": o.Shares = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "quota": o.Quota = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "burst": o.Burst = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "period": o.Period = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "realtimeRuntime": o.RealtimeRuntime = NumberOrNull(v, p, Int64Kind, Int64); break;
            case "realtimePeriod": o.RealtimePeriod = NumberOrNull(v, p, UInt64Kind, UInt64); break;
            case "cpus": o.Cpus = TextOrNull(v, p); break;
            case "mems": o.Mems = TextOrNull(v, p); break;
            case "idle": o.Idle = NumberOrNull(v, p, Int64Kind, Int64); break;
        }
    });

    private static LinuxPids Pids(JsonElement v, string path) => Fields<LinuxPids>(v, path, static (o, name, v, p) =>
    {
        if (name == "limit") o.Limit = NumberOrNull(v, p, Int64Kind, Int64);
    });

    private static LinuxBlockIO BlockIO(JsonElement v, string path) => Fields<LinuxBlockIO>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "weight": o.Weight = NumberOrNull(v, p, UInt16Kind, UInt16); break;
            case "leafWeight": o.LeafWeight = NumberOrNull(v, p, UInt16Kind, UInt16); break;
            case "weightDevice": o.WeightDevice = ListOf(v, p, ObjectKind, WeightDevice); break;
            case "throttleReadBpsDevice": o.ThrottleReadBpsDevice = ListOf(v, p, ObjectKind, ThrottleDevice); break;
            case "throttleWriteBpsDevice": o.ThrottleWriteBpsDevice = ListOf(v, p, ObjectKind, ThrottleDevice); break;
            case "throttleReadIOPSDevice": o.ThrottleReadIOPSDevice = ListOf(v, p, ObjectKind, ThrottleDevice); break;
            case "throttleWriteIOPSDevice": o.ThrottleWriteIOPSDevice = ListOf(v, p, ObjectKind, ThrottleDevice); break;
        }
    });

    private static LinuxWeightDevice WeightDevice(JsonElement v, string path) => Fields<LinuxWeightDevice>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "major": o.Major = Number(v, p, Int64Kind, Int64); break;
            case "minor": o.Minor = Number(v, p, Int64Kind, Int64); break;
            case "weight": o.Weight = NumberOrNull(v, p, UInt16Kind, UInt16); break;
            case "leafWeight": o.LeafWeight = NumberOrNull(v, p, UInt16Kind, UInt16); break;
        }
    });

    private static LinuxThrottleDevice ThrottleDevice(JsonElement v, string path) => Fields<LinuxThrottleDevice>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "major": o.Major = Number(v, p, Int64Kind, Int64); break;
            case "minor": o.Minor = Number(v, p, Int64Kind, Int64); break;
            case "rate": o.Rate = Number(v, p, UInt64Kind, UInt64); break;
        }
    });

    private static LinuxHugepageLimit HugepageLimit(JsonElement v, string path) => Fields<LinuxHugepageLimit>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "pageSize": o.PageSize = Text(v, p); break;
            case "limit": o.Limit = Number(v, p, UInt64Kind, UInt64); break;
        }
    });

    private static LinuxNetwork Network(JsonElement v, string path) => Fields<LinuxNetwork>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "classID": o.ClassID = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "priorities": o.Priorities = ListOf(v, p, ObjectKind, InterfacePriority); break;
        }
    });

    private static LinuxInterfacePriority InterfacePriority(JsonElement v, string path) => Fields<LinuxInterfacePriority>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "name": o.Name = Text(v, p); break;
            case "priority": o.Priority = Number(v, p, UInt32Kind, UInt32); break;
        }
    });

    private static LinuxRdma Rdma(JsonElement v, string path) => Fields<LinuxRdma>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "hcaHandles": o.HcaHandles = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "hcaObjects": o.HcaObjects = NumberOrNull(v, p, UInt32Kind, UInt32); break;
        }
    });

    private static LinuxSeccomp Seccomp(JsonElement v, string path) => Fields<LinuxSeccomp>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "defaultAction": o.DefaultAction = Text(v, p); break;
            case "defaultErrnoRet": o.DefaultErrnoRet = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "architectures": o.Architectures = ListOf(v, p, StringKind, Text); break;
            case "flags": o.Flags = ListOf(v, p, StringKind, Text); break;
            case "listenerPath": o.ListenerPath = TextOrNull(v, p); break;
            case "listenerMetadata": o.ListenerMetadata = TextOrNull(v, p); break;
            case "syscalls": o.Syscalls = ListOf(v, p, ObjectKind, Syscall); break;
        }
    });

    private static LinuxSyscall Syscall(JsonElement v, string path) => Fields<LinuxSyscall>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "names": o.Names = Required(v, p, ArrayKind, (v, p) => ListOf(v, p, StringKind, Text)!); break;
            case "action": o.Action = Text(v, p); break;
            case "errnoRet": o.ErrnoRet = NumberOrNull(v, p, UInt32Kind, UInt32); break;
            case "args": o.Args = ListOf(v, p, ObjectKind, SeccompArg); break;
        }
    });

    private static LinuxSeccompArg SeccompArg(JsonElement v, string path) => Fields<LinuxSeccompArg>(v, path, static (o, name, v, p) =>
    {
        switch (name)
        {
            case "index": o.Index = Number(v, p, UInt32Kind, UInt32); break;
            case "value": o.Value = Number(v, p, UInt64Kind, UInt64); break;
            case "valueTwo": o.ValueTwo = Number(v, p, UInt64Kind, UInt64); break;
            case "op": o.Op = Text(v, p); break;
        }
    });

    // What a message says a field takes.
    private const string StringKind = "a string", ObjectKind = "an object", ArrayKind = "an array", BoolKind = "true or false";
    private const string UInt16Kind = "a number from 0 to 65535", UInt32Kind = "a number from 0 to 4294967295",
        UInt64Kind = "a number from 0 to 18446744073709551615", Int32Kind = "a number from -2147483648 to 2147483647",
        Int64Kind = "a number from -9223372036854775808 to 9223372036854775807";

    private delegate bool TryNumber<T>(JsonElement value, out T number);
    private static readonly TryNumber<ushort> UInt16 = (JsonElement v, out ushort n) => v.TryGetUInt16(out n);
    private static readonly TryNumber<uint> UInt32 = (JsonElement v, out uint n) => v.TryGetUInt32(out n);
    private static readonly TryNumber<ulong> UInt64 = (JsonElement v, out ulong n) => v.TryGetUInt64(out n);
    private static readonly TryNumber<int> Int32 = (JsonElement v, out int n) => v.TryGetInt32(out n);
    private static readonly TryNumber<long> Int64 = (JsonElement v, out long n) => v.TryGetInt64(out n);

    /// <summary>An object of known fields; <paramref name="field"/> binds one (and ignores names it does not know).</summary>
    private static T Fields<T>(JsonElement v, string path, Action<T, string, JsonElement, string> field) where T : new()
    {
        if (v.ValueKind != JsonValueKind.Object) throw Mismatch(v, path, ObjectKind);
        var o = new T();
        foreach (var property in v.EnumerateObject())
        {
            var name = Key(property, path);
            field(o, name, property.Value, path.Length == 0 ? name : $"{path}.{name}");
        }
        return o;
    }

    /// <summary>A field whose type takes no null.</summary>
    private static T Required<T>(JsonElement v, string path, string kind, Func<JsonElement, string, T> read)
        => v.ValueKind == JsonValueKind.Null ? throw NullField(path, kind) : read(v, path);

    private static T? Optional<T>(JsonElement v, string path, Func<JsonElement, string, T> read) where T : class
        => v.ValueKind == JsonValueKind.Null ? null : read(v, path);

    private static List<T>? ListOf<T>(JsonElement v, string path, string itemKind, Func<JsonElement, string, T> item)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Mismatch(v, path, ArrayKind);
        var list = new List<T>(v.GetArrayLength());
        int i = 0;
        foreach (var element in v.EnumerateArray())
        {
            var itemPath = $"{path}[{i++}]";
            if (element.ValueKind == JsonValueKind.Null)
                throw new SpecException(itemPath, $"expected {itemKind}, found null", "remove the entry");
            list.Add(item(element, itemPath));
        }
        return list;
    }

    private static Dictionary<string, T>? MapOf<T>(JsonElement v, string path, string valueKind, Func<JsonElement, string, T> value)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Mismatch(v, path, ObjectKind);
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var entry in v.EnumerateObject())
        {
            var key = Key(entry, path);
            var entryPath = $"{path}[{SpecException.Show(key)}]";
            if (entry.Value.ValueKind == JsonValueKind.Null)
                throw new SpecException(entryPath, $"expected {valueKind}, found null", "give a value, or remove the entry");
            map[key] = value(entry.Value, entryPath);
        }
        return map;
    }

    private static string Text(JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.Null) throw NullField(path, StringKind);
        if (v.ValueKind != JsonValueKind.String) throw Mismatch(v, path, StringKind);
        string text;
        try { text = v.GetString()!; }
        catch (InvalidOperationException) { throw BadEscape(path); }
        if (text.Contains('\0'))
            throw new SpecException(path, "contains a NUL character (\\u0000)", "remove it: no path, name or value can hold one");
        return text;
    }

    private static string? TextOrNull(JsonElement v, string path) => v.ValueKind == JsonValueKind.Null ? null : Text(v, path);

    private static bool Bool(JsonElement v, string path) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => throw NullField(path, BoolKind),
        _ => throw Mismatch(v, path, BoolKind),
    };

    private static bool? BoolOrNull(JsonElement v, string path) => v.ValueKind == JsonValueKind.Null ? null : Bool(v, path);

    private static T Number<T>(JsonElement v, string path, string kind, TryNumber<T> read)
    {
        if (v.ValueKind == JsonValueKind.Null) throw NullField(path, kind);
        return v.ValueKind == JsonValueKind.Number && read(v, out var n) ? n : throw Mismatch(v, path, kind);
    }

    private static T? NumberOrNull<T>(JsonElement v, string path, string kind, TryNumber<T> read) where T : struct
        => v.ValueKind == JsonValueKind.Null ? null : Number(v, path, kind, read);

    /// <summary>An object's key, checked as a string value is (unknown fields' keys too).</summary>
    private static string Key(JsonProperty property, string path)
    {
        string key;
        try { key = property.Name; }
        catch (InvalidOperationException) { throw BadEscape(path.Length == 0 ? "a key at the top level" : $"a key in {path}"); }
        if (key.Contains('\0'))
            throw new SpecException(path.Length == 0 ? "a key at the top level" : $"a key in {path}", $"{SpecException.Show(key)} contains a NUL character", "remove it: no name can hold one");
        return key;
    }

    private static SpecException NullField(string path, string kind)
        => new(path, $"expected {kind}, found null", "give a value, or leave the field out");

    private static SpecException BadEscape(string path)
        => new(path, "holds a \\u escape that is half of a UTF-16 surrogate pair (\\uD800–\\uDFFF alone)", "write the character itself, or both halves of the pair");

    private static SpecException Mismatch(JsonElement v, string path, string kind)
    {
        var message = $"{path}: expected {kind}, found {Found(v)}";
        return new SpecException(v.ValueKind == JsonValueKind.String && kind.Contains("number") ? message + " (write the number without quotes)" : message);
    }

    internal static string Found(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {SpecException.Shorten(value.GetRawText())}",
        JsonValueKind.Number => $"the number {SpecException.Shorten(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };
}
