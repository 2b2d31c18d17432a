using System.CommandLine;
using System.Text.Json;
using Cnr.Capabilities;
using Cnr.Lsm;
using Cnr.Namespaces;

namespace Cnr.Cli;

/// <summary>`cnr features`: what this runtime implements, as the runtime-spec features.md document.</summary>
internal static class FeaturesCommand
{
    private static readonly string[] MountOptions =
    [
        "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime",
        "loud", "mand", "noacl", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand",
        "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate",
        "rshared", "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync",
        "unbindable",
    ];

    public static Command Create()
    {
        var cmd = new Command("features", "show the enabled features");
        Verbs.SetAction(cmd, _ =>
        {
            using var stdout = Console.OpenStandardOutput();
            using var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("ociVersionMin", "1.0.0");
            w.WriteString("ociVersionMax", VersionCommand.SpecVersion);
            Strings(w, "hooks", ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
            Strings(w, "mountOptions", MountOptions);
            w.WriteStartObject("linux");
            Strings(w, "namespaces", NamespaceType.All.Select(n => n.Type));
            Strings(w, "capabilities", CapabilityTable.AllNames);
            w.WriteStartObject("cgroup");
            w.WriteBoolean("v1", false); w.WriteBoolean("v2", true); w.WriteBoolean("systemd", true);
            w.WriteBoolean("systemdUser", true); w.WriteBoolean("rdma", true);
            w.WriteEndObject();
            w.WriteStartObject("seccomp");
            w.WriteBoolean("enabled", Cnr.Seccomp.LibSeccompVersion.Get() is not null);
            Strings(w, "actions", ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]);
            Strings(w, "operators", ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]);
            Strings(w, "archs", ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
            w.WriteEndObject();
            w.WriteStartObject("apparmor"); w.WriteBoolean("enabled", HostLsm.AppArmorEnabled); w.WriteEndObject();
            w.WriteStartObject("selinux"); w.WriteBoolean("enabled", HostLsm.SelinuxEnabled); w.WriteEndObject();
            w.WriteStartObject("intelRdt"); w.WriteBoolean("enabled", false); w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("annotations");
            w.WriteString("io.github.cnr.version", VersionCommand.RuntimeVersion);
            w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
            stdout.Write("\n"u8);
            return 0;
        });
        return cmd;
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
