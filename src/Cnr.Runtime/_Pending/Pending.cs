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
