using System.Text.Json.Serialization;
using Cnr.Spec;

namespace Cnr.Process;

/// <summary>What the parent tells the re-executed init, sent as JSON over the sync socket: the init never
/// reads the bundle itself, so a bundle changed after validation cannot change what runs.</summary>
public sealed class InitConfig
{
    public bool Exec { get; set; }                // join a running container (cnr exec) instead of creating one
    public string ContainerId { get; set; } = "";
    public RuntimeSpec Spec { get; set; } = new();
    public string Bundle { get; set; } = "";
    public string Rootfs { get; set; } = "";      // absolute host path of root.path
    public bool NoPivot { get; set; }
    public int FifoFd { get; set; } = -1;         // O_PATH fd of the exec fifo (create only)
    public bool ReportSteps { get; set; }
    public int PreserveFds { get; set; }
    public bool SendTerminal { get; set; }        // process.terminal: send the pty master to the parent
    public Cnr.Seccomp.CompiledFilter? Seccomp { get; set; }
    public Cnr.Lsm.ExecLabels? Lsm { get; set; }   // decided by the parent from the host's LSMs (null: none) // linux.seccomp compiled by the parent (init never opens libseccomp)
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InitConfig))]
internal sealed partial class InitJson : JsonSerializerContext;
