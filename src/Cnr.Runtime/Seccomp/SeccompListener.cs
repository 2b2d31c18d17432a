using System.Text.Json;
using System.Text.Json.Serialization;
using Cnr.Linux;
using Cnr.Spec;
using Cnr.Terminal;

namespace Cnr.Seccomp;

/// <summary>linux.seccomp.listenerPath: the agent that answers SCMP_ACT_NOTIFY listens on a unix socket there and
/// receives, as runc sends it, one message: the OCI ContainerProcessState JSON with the filter's listener fd
/// (SCM_RIGHTS). Sent by the parent, which got the fd from the init right after it loaded the filter.</summary>
public static class SeccompListener
{
    /// <summary>The fd's name in ContainerProcessState.fds (runtime-spec's SeccompFdName).</summary>
    private const string SeccompFdName = "seccompFd";

    /// <param name="pid">the process the filter belongs to: the init for create, the new process for exec</param>
    /// <param name="state">the container's state (its init's pid)</param>
    public static void Send(LinuxSeccomp seccomp, int pid, ContainerState state, SafeFd listener)
    {
        var message = new ContainerProcessState
        {
            OciVersion = state.OciVersion,
            Fds = [SeccompFdName],
            Pid = pid,
            Metadata = string.IsNullOrEmpty(seccomp.ListenerMetadata) ? null : seccomp.ListenerMetadata,
            State = state,
        };
        using var socket = ConsoleSocket.Connect(seccomp.ListenerPath!, "linux.seccomp.listenerPath");
        socket.Send(listener, JsonSerializer.SerializeToUtf8Bytes(message, SeccompJson.Default.ContainerProcessState));
    }
}

/// <summary>runtime-spec's ContainerProcessState (config-linux.md, "Seccomp notify").</summary>
public sealed class ContainerProcessState
{
    public string OciVersion { get; set; } = "";
    public List<string> Fds { get; set; } = [];
    public int Pid { get; set; }
    public string? Metadata { get; set; }
    public ContainerState State { get; set; } = new();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerProcessState))]
internal partial class SeccompJson : JsonSerializerContext;
