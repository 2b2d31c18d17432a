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
