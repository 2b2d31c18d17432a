using System.Buffers;
using System.Text.Json;
using Cnr.Spec;

namespace Cnr.State;

/// <summary>What cnr keeps about a container in ROOT/ID/state.json. The status is never stored: it is
/// derived from the kernel each time (see <see cref="Containers.Container.Load"/>). The config is not in it:
/// ROOT/ID/config.json keeps the validated bytes, parsed only by the verbs that need more than these fields
/// (<see cref="ContainerStore.LoadConfig"/>), so that `state`, `list`, `kill` and `pause` read one small file.
/// Written and read by hand (<see cref="Write"/>, <see cref="Parse"/>): every verb pays for it, and
/// System.Text.Json's serializer would first build its type metadata at run time.</summary>
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
    /// <summary>A container without a mount namespace mounts in the caller's: the mount id at the rootfs before it
    /// did (statx), down to which `delete` unmounts (RootfsSetup.Unmount). Null with a mount namespace.</summary>
    public ulong? RootfsMountId { get; set; }
    /// <summary>Set until the init reports Created: a record saved by a `create` still under way (or killed).</summary>
    public bool Creating { get; set; }
    /// <summary>From the config, for the OCI state that `state`, `list` and the hooks show.</summary>
    public string OciVersion { get; set; } = "";
    public Dictionary<string, string>? Annotations { get; set; }
    /// <summary>Whether the config has poststart / poststop hooks: `start` and `delete` parse it only then.</summary>
    public bool HasPoststartHooks { get; set; }
    public bool HasPoststopHooks { get; set; }

    /// <summary>The parsed config once someone needed it (or `create`, which had it already); never saved.</summary>
    public RuntimeSpec? LoadedConfig { get; set; }

    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = AsciiJsonEncoder.Instance }))
        {
            w.WriteStartObject();
            w.WriteString("id"u8, Id);
            w.WriteNumber("pid"u8, Pid);
            w.WriteNumber("initStartTime"u8, InitStartTime);
            w.WriteString("bundle"u8, Bundle);
            w.WriteString("rootfs"u8, Rootfs);
            w.WriteString("created"u8, Created);
            w.WriteString("owner"u8, Owner);
            if (CgroupPath is not null) w.WriteString("cgroupPath"u8, CgroupPath);
            if (SystemdUnit is not null) w.WriteString("systemdUnit"u8, SystemdUnit);
            w.WriteBoolean("newPidNamespace"u8, NewPidNamespace);
            if (RootfsMountId is { } mountId) w.WriteNumber("rootfsMountId"u8, mountId);
            if (Creating) w.WriteBoolean("creating"u8, true);
            w.WriteString("ociVersion"u8, OciVersion);
            if (Annotations is not null)
            {
                w.WriteStartObject("annotations"u8);
                foreach (var (key, value) in Annotations) w.WriteString(key, value);
                w.WriteEndObject();
            }
            if (HasPoststartHooks) w.WriteBoolean("poststartHooks"u8, true);
            if (HasPoststopHooks) w.WriteBoolean("poststopHooks"u8, true);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote; unknown fields are skipped. Only cnr writes the file
    /// (root-only directory): a record it cannot read is damaged, and says so with the field.</summary>
    public static ContainerRecord Parse(ReadOnlySpan<byte> json, string file)
    {
        var r = new ContainerRecord();
        var reader = new Utf8JsonReader(json);
        string field = "";
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidDataException($"{file}: not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                field = reader.GetString()!;
                reader.Read();
                switch (field)
                {
                    case "id": r.Id = reader.GetString()!; break;
                    case "pid": r.Pid = reader.GetInt32(); break;
                    case "initStartTime": r.InitStartTime = reader.GetUInt64(); break;
                    case "bundle": r.Bundle = reader.GetString()!; break;
                    case "rootfs": r.Rootfs = reader.GetString()!; break;
                    case "created": r.Created = reader.GetDateTime(); break;
                    case "owner": r.Owner = reader.GetString()!; break;
                    case "cgroupPath": r.CgroupPath = reader.GetString(); break;
                    case "systemdUnit": r.SystemdUnit = reader.GetString(); break;
                    case "newPidNamespace": r.NewPidNamespace = reader.GetBoolean(); break;
                    case "rootfsMountId": r.RootfsMountId = reader.GetUInt64(); break;
                    case "creating": r.Creating = reader.GetBoolean(); break;
                    case "ociVersion": r.OciVersion = reader.GetString()!; break;
                    case "annotations": r.Annotations = ReadStrings(ref reader); break;
                    case "poststartHooks": r.HasPoststartHooks = reader.GetBoolean(); break;
                    case "poststopHooks": r.HasPoststopHooks = reader.GetBoolean(); break;
                    default: reader.Skip(); break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{file}: damaged state record{(field.Length > 0 ? $" at \"{field}\"" : "")} (only cnr writes this file: was it edited by hand?)");
        }
        return r;
    }

    private static Dictionary<string, string> ReadStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new FormatException();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            map[key] = reader.GetString() ?? throw new FormatException();
        }
        return map;
    }
}
