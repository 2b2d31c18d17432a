using System.Text;
using Cnr.Cgroups;

namespace Cnr.Linux;

/// <summary>The cgroup steps (mechanism "cgroup"): the cgroupfs directories and files of a container's cgroup,
/// the kill of what is left in it, and its device program (bpf(2)).</summary>
public static partial class Sys
{
    private const string CgroupStep = "cgroup";

    /// <summary>mkdir(2) of a cgroup directory, mode 0755; 0 or the errno (EEXIST and ENOENT are answers
    /// the caller handles). Reported once made: a directory that was there is no step.</summary>
    public static Error TryMakeCgroup(string dir)
    {
        if (Libc.mkdir(dir, 0x1ed /* 0755 */) != 0) return Errno.Last;
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CgroupStep, $"mkdir {dir}", $"mkdir {dir}");
        return 0;
    }

    /// <summary>rmdir(2) of an empty cgroup; 0 or the errno (EBUSY while the kernel still frees it, ENOTEMPTY
    /// for a parent another container shares). Reported once removed.</summary>
    public static Error TryRemoveCgroup(string dir)
    {
        if (Libc.rmdir(dir) != 0) return Errno.Last;
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CgroupStep, $"rmdir {dir}", $"rmdir {dir}");
        return 0;
    }

    /// <summary>One write(2) of <paramref name="value"/> to the cgroup file <paramref name="path"/>, as the
    /// kernel parses it; throws naming the file and <paramref name="purpose"/> (what the write is for:
    /// "linux.resources.memory.limit = 1048576", "pause").</summary>
    public static void WriteCgroupFile(string path, string value, string purpose)
    {
        var rc = TryWriteCgroupFile(path, value);
        if (rc != 0) throw new SyscallException("write", rc, $"{path} ({purpose})");
    }

    /// <summary><see cref="WriteCgroupFile"/> returning 0 or the errno, for a caller that has an answer to some
    /// (EBUSY: "no internal processes"). <paramref name="note"/> says in the step why this file.</summary>
    public static unsafe Error TryWriteCgroupFile(string path, string value, string? note = null)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report(CgroupStep, $"write {path} = {value}{(note is null ? "" : $" ({note})")}", $"echo {value} > {path}");
        using var fd = Libc.open(path, Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
        if (fd.IsInvalid) return Errno.Last;
        var bytes = Encoding.UTF8.GetBytes(value);
        fixed (byte* p = bytes)
            return Libc.write(fd, p, bytes.Length) == bytes.Length ? 0 : Errno.Last;
    }

    /// <summary>kill(2) SIGKILL of a process left in a cgroup without cgroup.kill; one that is gone
    /// meanwhile is fine (the caller waits for the cgroup to empty).</summary>
    public static void KillCgroupProcess(int pid)
    {
        const int SIGKILL = 9;
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CgroupStep, $"kill({pid}, SIGKILL)", $"kill -KILL {pid}");
        Libc.kill(pid, SIGKILL);
    }

    /// <summary>bpf(BPF_PROG_LOAD) of the cgroup device program <paramref name="insns"/>, compiled from
    /// <paramref name="rules"/> (which the step lists: the program itself says little).</summary>
    public static SafeFd LoadDeviceProgram(ulong[] insns, IReadOnlyList<DeviceRule> rules)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report(CgroupStep, $"bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, {insns.Length} insns: {string.Join("; ", rules)})");
        return Libc.BpfProgLoadCgroupDevice(insns, DeviceFilter.License);
    }

    /// <summary>bpf(BPF_PROG_ATTACH) of a device program to the cgroup <paramref name="dir"/>
    /// (<paramref name="cgroupDir"/>), beside the programs already there (BPF_F_ALLOW_MULTI).</summary>
    public static void AttachDeviceProgram(SafeFd dir, SafeFd prog, string cgroupDir)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report(CgroupStep, $"bpf(BPF_PROG_ATTACH, {cgroupDir}, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)");
        Libc.BpfProgAttach(dir, prog, Libc.BPF_CGROUP_DEVICE, Libc.BPF_F_ALLOW_MULTI, cgroupDir);
    }

    /// <summary>bpf(BPF_PROG_DETACH) of the device program <paramref name="prog"/> (id <paramref name="id"/>)
    /// from the cgroup <paramref name="dir"/>.</summary>
    public static void DetachDeviceProgram(SafeFd dir, SafeFd prog, uint id, string cgroupDir)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CgroupStep, $"bpf(BPF_PROG_DETACH, {cgroupDir}, prog id {id})");
        Libc.BpfProgDetach(dir, prog, Libc.BPF_CGROUP_DEVICE, cgroupDir);
    }
}
