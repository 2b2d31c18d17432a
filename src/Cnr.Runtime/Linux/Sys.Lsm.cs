namespace Cnr.Linux;

/// <summary>The LSM labels of the container's process, left in the calling thread's attr files for its execve
/// (<see cref="Lsm.ExecLabelWriter"/> says why there and how they are reached).</summary>
public static partial class Sys
{
    /// <summary>The AppArmor profile for the next execve (process.apparmorProfile).</summary>
    public static void SetAppArmorExecProfile(string profile)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("apparmor", $"write thread-self/attr/apparmor/exec = exec {profile}", $"aa-exec -p {profile} --");
        // attr/apparmor/ is where AppArmor is reached beside other LSMs (5.8+); attr/exec before that.
        ProcFs.WriteAttr("thread-self/attr/apparmor/exec", "thread-self/attr/exec", "exec " + profile);
    }

    /// <summary>The SELinux label for the next execve and the keys it creates (process.selinuxLabel).</summary>
    public static void SetSelinuxExecLabel(string label)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("selinux", $"write thread-self/attr/exec, keycreate = {label}", $"runcon {label}");
        ProcFs.WriteAttr("thread-self/attr/exec", null, label);
        ProcFs.WriteAttr("thread-self/attr/keycreate", null, label);
    }
}
