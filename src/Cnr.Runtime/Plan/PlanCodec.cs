using System.Buffers.Binary;
using System.Text;
using Cnr.Capabilities;
using Cnr.Lsm;
using Cnr.Rootfs;
using Cnr.Seccomp;

namespace Cnr.Plan;

/// <summary>The plan's wire form, parent → init: little-endian integers, strings as an int32 byte count (-1:
/// null) and UTF-8, arrays as an int32 count and their elements, after a magic and a version byte. Hand-written
/// rather than System.Text.Json: the init then builds no serializer metadata (reflection, allocations) on every
/// start, and both ends are built together from this source (cnr and cnr-init, its init image), so there is no
/// schema to evolve: a plan from another build is refused with the fix (install both from one build).</summary>
public static class PlanCodec
{
    private static ReadOnlySpan<byte> Magic => "CNRP"u8;
    private const byte Version = 3;

    public static byte[] Encode(LaunchPlan plan)
    {
        var w = new PlanWriter();
        w.Raw(Magic);
        w.Byte(Version);
        Write(w, plan);
        return w.ToArray();
    }

    /// <summary>What the user can do about a plan the init cannot read: cnr-init is a file of its own.</summary>
    private const string SkewFix = "cnr and cnr-init must come from the same build: install both (make install)";

    /// <summary>The plan in <paramref name="data"/>; a truncated or foreign message is an <see cref="InvalidDataException"/>.</summary>
    public static LaunchPlan Decode(ReadOnlySpan<byte> data)
    {
        var r = new PlanReader(data);
        if (!r.Raw(Magic.Length).SequenceEqual(Magic) || r.Byte() != Version)
            throw new InvalidDataException($"launch plan: not a plan of this cnr-init (bad magic or version): {SkewFix}");
        try
        {
            var plan = Read(ref r);
            r.End();
            return plan;
        }
        catch (InvalidDataException e)
        {
            // Same version, other layout: an init image from a build that did not bump Version.
            throw new InvalidDataException($"{e.Message} ({SkewFix})");
        }
    }

    private static void Write(PlanWriter w, LaunchPlan p)
    {
        w.Bool(p.Exec);
        w.String(p.ContainerId);
        w.String(p.Bundle);
        w.Int(p.FifoFd);
        w.Bool(p.ReportSteps);
        w.Int(p.PreserveFds);
        if (w.Has(p.Rootfs)) Write(w, p.Rootfs!);
        w.String(p.Hostname);
        w.String(p.Domainname);
        w.Bool(p.LoopbackUp);
        w.Array(p.Sysctls, (w, s) => { w.String(s.Key); w.String(s.ProcPath); w.String(s.Value); });
        Write(w, p.Process);
        if (w.Has(p.Seccomp))
        {
            w.Bytes(p.Seccomp!.Bpf);
            w.UInt(p.Seccomp.Flags);
            w.Int(p.Seccomp.Rules);
            w.String(p.Seccomp.DefaultAction);
        }
        if (w.Has(p.Lsm)) { w.String(p.Lsm!.AppArmorProfile); w.String(p.Lsm.SelinuxLabel); }
        w.Bool(p.RuntimeHooks);
        w.Array(p.CreateContainerHooks, Write);
        w.Array(p.StartContainerHooks, Write);
        Write(w, p.CreateContainerState);
        Write(w, p.StartContainerState);
    }

    private static LaunchPlan Read(ref PlanReader r) => new()
    {
        Exec = r.Bool(),
        ContainerId = r.String()!,
        Bundle = r.String()!,
        FifoFd = r.Int(),
        ReportSteps = r.Bool(),
        PreserveFds = r.Int(),
        Rootfs = r.Bool() ? ReadRootfs(ref r) : null,
        Hostname = r.String(),
        Domainname = r.String(),
        LoopbackUp = r.Bool(),
        Sysctls = r.Array(static (ref PlanReader r) => new Sysctl(r.String()!, r.String()!, r.String()!)),
        Process = ReadProcess(ref r),
        Seccomp = r.Bool() ? new CompiledFilter { Bpf = r.Bytes(), Flags = r.UInt(), Rules = r.Int(), DefaultAction = r.String()! } : null,
        Lsm = r.Bool() ? new ExecLabels { AppArmorProfile = r.String(), SelinuxLabel = r.String() } : null,
        RuntimeHooks = r.Bool(),
        CreateContainerHooks = r.Array(ReadHook),
        StartContainerHooks = r.Array(ReadHook),
        CreateContainerState = ReadHookState(ref r),
        StartContainerState = ReadHookState(ref r),
    };

    private static void Write(PlanWriter w, RootfsPlan p)
    {
        w.String(p.Path);
        w.Bool(p.Readonly);
        w.Bool(p.NoPivot);
        w.Bool(p.SharedMountNamespace);
        w.ULong(p.Propagation);
        w.Array(p.Mounts, Write);
        w.Bool(p.MakeDevices);
        w.Array(p.Devices, (w, d) =>
        {
            w.String(d.Path); w.UInt(d.Mode); w.UInt(d.Major); w.UInt(d.Minor); w.UInt(d.Uid); w.UInt(d.Gid);
        });
        w.Bool(p.ProcMounted);
        w.Bool(p.Console);
        w.Bool(p.ReadonlyDev);
        w.Array(p.MaskedPaths, (w, s) => w.String(s));
        w.Array(p.ReadonlyPaths, (w, s) => w.String(s));
    }

    private static RootfsPlan ReadRootfs(ref PlanReader r) => new()
    {
        Path = r.String()!,
        Readonly = r.Bool(),
        NoPivot = r.Bool(),
        SharedMountNamespace = r.Bool(),
        Propagation = r.ULong(),
        Mounts = r.Array(ReadMount),
        MakeDevices = r.Bool(),
        Devices = r.Array(static (ref PlanReader r) => new DeviceNode(r.String()!, r.UInt(), r.UInt(), r.UInt(), r.UInt(), r.UInt())),
        ProcMounted = r.Bool(),
        Console = r.Bool(),
        ReadonlyDev = r.Bool(),
        MaskedPaths = r.Array(static (ref PlanReader r) => r.String()!),
        ReadonlyPaths = r.Array(static (ref PlanReader r) => r.String()!),
    };

    private static void Write(PlanWriter w, MountStep m)
    {
        w.Int(m.Index);
        w.Byte((byte)m.Kind);
        w.String(m.Source);
        w.String(m.Destination);
        w.String(m.Type);
        var o = m.Options;
        w.ULong(o.Flags);
        w.ULong(o.ClearFlags);
        w.Array(o.Propagation, (w, p) => w.ULong(p));
        w.String(o.Data);
        w.ULong(o.RecursiveSet);
        w.ULong(o.RecursiveClear);
        w.Bool(o.TmpCopyUp);
        w.Int(m.SourceFd);
    }

    private static MountStep ReadMount(ref PlanReader r)
        => new(r.Int(), (MountKind)r.Byte(), r.String()!, r.String()!, r.String()!,
            new ParsedMountOptions(r.ULong(), r.ULong(), r.Array(static (ref PlanReader r) => r.ULong()), r.String(), r.ULong(), r.ULong(), r.Bool()))
        { SourceFd = r.Int() };

    private static void Write(PlanWriter w, ProcessPlan p)
    {
        w.Array(p.Args, (w, s) => w.String(s));
        w.Array(p.Env, (w, s) => w.String(s));
        w.String(p.Cwd);
        w.Bool(p.Terminal);
        w.UInt(p.ConsoleHeight);
        w.UInt(p.ConsoleWidth);
        w.UInt(p.Uid);
        w.UInt(p.Gid);
        w.Array(p.AdditionalGids, (w, g) => w.UInt(g));
        w.UInt(p.Umask);
        var c = p.Capabilities;
        w.ULong(c.Bounding); w.ULong(c.Effective); w.ULong(c.Inheritable); w.ULong(c.Permitted); w.ULong(c.Ambient);
        w.Array(p.Rlimits, (w, l) => { w.Int(l.Resource); w.ULong(l.Soft); w.ULong(l.Hard); });
        w.Bool(p.NoNewPrivileges);
        if (w.Has(p.OomScoreAdj)) w.Int(p.OomScoreAdj!.Value);
        if (w.Has(p.Scheduler))
        {
            var s = p.Scheduler!.Value;
            w.UInt(s.Policy); w.ULong(s.Flags); w.Int(s.Nice); w.UInt(s.Priority); w.ULong(s.Runtime); w.ULong(s.Deadline); w.ULong(s.Period);
        }
        if (w.Has(p.IoPriority)) w.Int(p.IoPriority!.Value);
        if (w.Has(p.Personality)) w.UInt(p.Personality!.Value);
        if (w.Has(p.CpuAffinityInitial)) w.Array(p.CpuAffinityInitial!, (w, m) => w.ULong(m));
        if (w.Has(p.CpuAffinityFinal)) w.Array(p.CpuAffinityFinal!, (w, m) => w.ULong(m));
    }

    private static ProcessPlan ReadProcess(ref PlanReader r) => new()
    {
        Args = r.Array(static (ref PlanReader r) => r.String()!),
        Env = r.Array(static (ref PlanReader r) => r.String()!),
        Cwd = r.String()!,
        Terminal = r.Bool(),
        ConsoleHeight = r.UInt(),
        ConsoleWidth = r.UInt(),
        Uid = r.UInt(),
        Gid = r.UInt(),
        AdditionalGids = r.Array(static (ref PlanReader r) => r.UInt()),
        Umask = r.UInt(),
        Capabilities = new CapabilitySets(r.ULong(), r.ULong(), r.ULong(), r.ULong(), r.ULong()),
        Rlimits = r.Array(static (ref PlanReader r) => new Rlimit(r.Int(), r.ULong(), r.ULong())),
        NoNewPrivileges = r.Bool(),
        OomScoreAdj = r.Bool() ? r.Int() : null,
        Scheduler = r.Bool() ? new SchedulerPlan(r.UInt(), r.ULong(), r.Int(), r.UInt(), r.ULong(), r.ULong(), r.ULong()) : null,
        IoPriority = r.Bool() ? r.Int() : null,
        Personality = r.Bool() ? r.UInt() : null,
        CpuAffinityInitial = r.Bool() ? r.Array(static (ref PlanReader r) => r.ULong()) : null,
        CpuAffinityFinal = r.Bool() ? r.Array(static (ref PlanReader r) => r.ULong()) : null,
    };

    private static void Write(PlanWriter w, HookPlan h)
    {
        w.String(h.Path);
        w.Array(h.Args, (w, s) => w.String(s));
        if (w.Has(h.Env)) w.Array(h.Env!, (w, s) => w.String(s));
        w.Int(h.Timeout);
    }

    private static HookPlan ReadHook(ref PlanReader r)
        => new(r.String()!, r.Array(static (ref PlanReader r) => r.String()!), r.Bool() ? r.Array(static (ref PlanReader r) => r.String()!) : null, r.Int());

    private static void Write(PlanWriter w, HookState? s)
    {
        if (w.Has(s)) { w.Bytes(s!.Head); w.Bytes(s.Tail); }
    }

    private static HookState? ReadHookState(ref PlanReader r) => r.Bool() ? new HookState(r.Bytes(), r.Bytes()) : null;
}

/// <summary>Appends the primitive values of <see cref="PlanCodec"/>'s format.</summary>
public sealed class PlanWriter
{
    private byte[] _buf = new byte[1024];
    private int _length;

    public byte[] ToArray() => _buf.AsSpan(0, _length).ToArray();

    private Span<byte> Take(int n)
    {
        if (_length + n > _buf.Length) System.Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _length + n));
        var span = _buf.AsSpan(_length, n);
        _length += n;
        return span;
    }

    public void Raw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));
    public void Byte(byte value) => Take(1)[0] = value;
    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);
    public void Int(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);
    public void UInt(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
    public void ULong(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

    /// <summary>Writes whether an optional value is present; the caller writes the value when it is.</summary>
    public bool Has(object? value)
    {
        Bool(value is not null);
        return value is not null;
    }

    public void String(string? value)
    {
        if (value is null) { Int(-1); return; }
        int n = Encoding.UTF8.GetByteCount(value);
        Int(n);
        Encoding.UTF8.GetBytes(value, Take(n));
    }

    public void Bytes(byte[] value)
    {
        Int(value.Length);
        Raw(value);
    }

    public void Array<T>(IReadOnlyList<T> items, Action<PlanWriter, T> write)
    {
        Int(items.Count);
        foreach (var item in items) write(this, item);
    }
}

/// <summary>Reads what <see cref="PlanWriter"/> wrote, in the same order; every read checks what is left.</summary>
public ref struct PlanReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _at;

    public delegate T ReadItem<T>(ref PlanReader r);

    public ReadOnlySpan<byte> Raw(int n)
    {
        if (n < 0 || n > _data.Length - _at)
            throw new InvalidDataException($"launch plan: truncated: {n} bytes wanted at offset {_at} of {_data.Length}");
        var span = _data.Slice(_at, n);
        _at += n;
        return span;
    }

    public byte Byte() => Raw(1)[0];
    public bool Bool() => Byte() != 0;
    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Raw(4));
    public uint UInt() => BinaryPrimitives.ReadUInt32LittleEndian(Raw(4));
    public ulong ULong() => BinaryPrimitives.ReadUInt64LittleEndian(Raw(8));

    public string? String()
    {
        int n = Int();
        return n == -1 ? null : Encoding.UTF8.GetString(Raw(n));
    }

    public byte[] Bytes() => Raw(Int()).ToArray();

    public T[] Array<T>(ReadItem<T> read)
    {
        int count = Int();
        // Every element takes at least one byte: a count beyond what is left is a damaged message, not an allocation.
        if (count < 0 || count > _data.Length - _at)
            throw new InvalidDataException($"launch plan: an array of {count} items at offset {_at} of {_data.Length}");
        var items = new T[count];
        for (int i = 0; i < count; i++) items[i] = read(ref this);
        return items;
    }

    /// <summary>Nothing may follow the plan: trailing bytes mean the two ends disagree on the format.</summary>
    public readonly void End()
    {
        if (_at != _data.Length) throw new InvalidDataException($"launch plan: {_data.Length - _at} bytes left over at offset {_at}");
    }
}
