using System.Text.Json.Serialization;
using Cnr.Spec;

namespace Cnr.State;

/// <summary>What cnr keeps about a container in ROOT/ID/state.json. The status is never stored: it is
/// derived from the kernel each time (see <see cref="ContainerStore.StatusOf"/>).</summary>
public sealed class ContainerRecord
{
    public string Id { get; set; } = "";
    public int Pid { get; set; }
    public ulong InitStartTime { get; set; }      // field 22 of /proc/PID/stat: guards against pid reuse
    public string Bundle { get; set; } = "";
    public string Rootfs { get; set; } = "";
    public DateTime Created { get; set; }
    public string Owner { get; set; } = "";
    public string? CgroupPath { get; set; }       // full path of the container's cgroup, when it has one
    public string? SystemdUnit { get; set; }      // its transient scope, under --systemd-cgroup
    public bool NewPidNamespace { get; set; }
    /// <summary>Set until the init reports Created: a record saved by a `create` still under way (or killed).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Creating { get; set; }
    public RuntimeSpec Config { get; set; } = new();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(ContainerRecord))]
internal sealed partial class StateJson : JsonSerializerContext;
