using System.Text.Json.Serialization;
using Cnr.Linux;
using Cnr.Process;
using Cnr.Spec;

namespace Cnr.Seccomp;

/// <summary>linux.seccomp as a kernel filter, like crun does it: the parent validates and compiles the profile
/// with libseccomp (on the host, before anything exists, so bad input leaves nothing behind); init receives the
/// BPF and loads it with seccomp() itself, last, on the thread that calls execve. Init never opens libseccomp:
/// after pivot_root (or setns, for exec) a library lookup would search the container's root, and init still
/// holds every capability then.</summary>
public static class SeccompFilter
{
    /// <summary>seccomp() returns a listener fd for the filter's SCMP_ACT_NOTIFY rules.</summary>
    internal const uint SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

    /// <summary>Checks everything that needs no libseccomp: actions, errnoRet, comparisons, argument indexes,
    /// architectures and flags. Errors name the JSON path and the accepted words.</summary>
    public static void Validate(LinuxSeccomp seccomp) => SeccompProgram.Translate(seccomp);

    /// <summary>Validates and compiles the profile to BPF with libseccomp, without loading anything.</summary>
    public static CompiledFilter Compile(LinuxSeccomp seccomp)
    {
        var program = SeccompProgram.Translate(seccomp);
        using var builder = SeccompBuilder.Build(program);
        return new CompiledFilter
        {
            Bpf = builder.ExportBpf(),
            Flags = program.Flags | (program.Notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0),
            Rules = builder.RuleCount,
            DefaultAction = program.DefaultActionText,
        };
    }

    /// <summary>seccomp(SECCOMP_SET_MODE_FILTER) on the calling thread (on all threads with
    /// SECCOMP_FILTER_FLAG_TSYNC). Without no_new_privs the caller must still hold CAP_SYS_ADMIN. Nothing may be
    /// logged afterwards: the filter can forbid the very write that logging needs. A filter with SCMP_ACT_NOTIFY
    /// rules gets a listener fd, which goes to the parent over <paramref name="sync"/> (it hands it to
    /// linux.seccomp.listenerPath, as runc does) and is closed here.</summary>
    public static void Load(CompiledFilter filter, SyncSocket sync)
    {
        using var listener = Sys.LoadSeccompFilter(filter);
        if (listener is not null) sync.SendFd(listener, SyncMessage.SeccompListener);
    }
}

/// <summary>A compiled filter, as the parent sends it to init (JSON inside the init config).</summary>
public sealed class CompiledFilter
{
    /// <summary>struct sock_filter[]: 8 bytes per BPF instruction.</summary>
    public byte[] Bpf { get; set; } = [];
    /// <summary>SECCOMP_FILTER_FLAG_* bits for seccomp().</summary>
    public uint Flags { get; set; }
    /// <summary>For the steps view: how many rules libseccomp compiled, and the default action.</summary>
    public int Rules { get; set; }
    public string DefaultAction { get; set; } = "";
    /// <summary>SCMP_ACT_NOTIFY rules: loading returns a listener fd for the parent.</summary>
    [JsonIgnore] public bool NewListener => (Flags & SeccompFilter.SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
}
