// TEMPORARY stand-ins for APIs being written on other branches; removed as each branch merges.
using System.Text;
using System.Text.Json;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Seccomp
{
    public static class SeccompFilter
    {
        public static void Validate(LinuxSeccomp s) { }
        public static void Load(LinuxSeccomp s) { }
    }
}
namespace Cnr.Cgroups
{
    public sealed class CgroupManager
    {
        public static CgroupManager For(string id, Cnr.Spec.Linux? linux) => new();
        public static CgroupManager Load(string p) => new();
        public static void Validate(LinuxResources? r) { }
        public string? FullPath => null;
        public void Create() { }
        public void AddProcess(int pid) { }
        public void Destroy() { }
        public bool IsFrozen => false;
        public IReadOnlyList<int> Pids() => [];
        public void Freeze() { } public void Thaw() { } public void SetResources(LinuxResources r) { }
    }
}
namespace Cnr.Rootfs
{
    public static unsafe partial class RootfsSetup
    {
        [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
        private static partial int mount(string? src, string dst, string? type, ulong flags, string? data);
        [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
        private static partial int umount2(string dst, int flags);
        public static void Prepare(RuntimeSpec spec, string rootfs)
        {
            Errno.Check(mount(null, "/", null, 0x4000 | 0x80000, null), "mount", "/ rslave");
            Errno.Check(mount(rootfs, rootfs, null, 0x1000 | 0x4000, null), "mount", rootfs);
            foreach (var m in spec.Mounts ?? [])
            {
                var dst = rootfs + m.Destination;
                Directory.CreateDirectory(dst);
                if (m.Type is "proc" or "tmpfs" or "sysfs" or "devpts" or "mqueue")
                {
                    var data = string.Join(",", (m.Options ?? []).Where(o => o.Contains('=') || o is "newinstance"));
                    Errno.Check(mount(m.Source, dst, m.Type, 0, data.Length > 0 ? data : null), "mount", m.Destination);
                }
            }
            foreach (var d in new[] { "null", "zero", "tty", "urandom", "random", "full" })
            {
                var dst = rootfs + "/dev/" + d; File.WriteAllText(dst, "");
                Errno.Check(mount("/dev/" + d, dst, null, 0x1000, null), "mount", dst);
            }
            try { File.CreateSymbolicLink(rootfs + "/dev/ptmx", "pts/ptmx"); } catch { }
        }
        [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
        private static partial int chroot(string p);
        public static void EnterRoot(string rootfs, bool noPivot)
        {
            Errno.Check(Libc.chdir(rootfs), "chdir", rootfs);
            Errno.Check((int)Libc.syscall(Libc.SYS_pivot_root, (nint)Marshal("."), (nint)Marshal("."), 0, 0, 0, 0), "pivot_root");
            Errno.Check(mount(null, ".", null, 0x4000 | 0x80000, null), "mount", "old root rslave");
            Errno.Check(umount2(".", 2), "umount2");
            Errno.Check(Libc.chdir("/"), "chdir", "/");
        }
        private static byte* Marshal(string s) { var b = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(8); b[0] = (byte)'.'; b[1] = 0; return b; }
        public static void BindConsole(string slave) { }
        public static void Finish(RuntimeSpec spec) { }
    }
}
namespace Cnr.Process
{
    public static unsafe class ProcessAttributes
    {
        public static void ApplyEarly(Spec.Process p) { }
        public static void ApplyIdentity(Spec.Process p) { }
        public static void SetNoNewPrivileges() { }
        public static string ResolveExecutable(Spec.Process p)
        {
            var a = p.Args![0];
            if (a.Contains('/')) return a;
            foreach (var d in new[] { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" })
                if (File.Exists(d + "/" + a)) return d + "/" + a;
            throw new InvalidOperationException($"exec: \"{a}\": executable file not found in $PATH");
        }
        public static void MarkFdsCloseOnExec(ReadOnlySpan<int> keep) { Libc.syscall(Libc.SYS_close_range, 3, -1, 4, 0, 0, 0); }
        public static void Exec(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
        {
            byte* S(string s) { var b = Encoding.UTF8.GetBytes(s + "\0"); var p = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)b.Length); b.CopyTo(new Span<byte>(p, b.Length)); return p; }
            var av = (byte**)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)(args.Count + 1) * 8);
            for (int i = 0; i < args.Count; i++) av[i] = S(args[i]); av[args.Count] = null;
            var ev = (byte**)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)(env.Count + 1) * 8);
            for (int i = 0; i < env.Count; i++) ev[i] = S(env[i]); ev[env.Count] = null;
            Libc.execve(S(path), av, ev);
            throw new SyscallException("execve", Errno.Last, path);
        }
    }
}
