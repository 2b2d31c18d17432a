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
