using Cnr.Cgroups;
using Cnr.Linux;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Cgroups;

/// <summary>A fact that loads a cgroup program into this kernel: BPF_PROG_LOAD of one needs
/// CAP_BPF/CAP_SYS_ADMIN, so it is skipped, saying so, when not root (`make test` runs as root).</summary>
public sealed class BpfProgLoadFactAttribute : FactAttribute
{
    public BpfProgLoadFactAttribute()
    {
        if (Libc.geteuid() != 0) Skip = "needs root: BPF_PROG_LOAD of a cgroup device program needs CAP_BPF/CAP_SYS_ADMIN";
    }
}

public class DeviceFilterTests
{
    private const uint Block = 1, Char = 2, Mknod = 1, Read = 2, Write = 4;

    /// <summary>Runs the generated program on one access the way the kernel would (only the opcodes the
    /// generator emits), so the rule semantics are tested without a kernel.</summary>
    private static ulong Run(ulong[] prog, uint type, uint access, uint major, uint minor)
    {
        var ctx = new uint[] { (access << 16) | type, major, minor };
        var r = new ulong[11];
        for (int pc = 0; pc < prog.Length; pc++)
        {
            var i = prog[pc];
            byte op = (byte)i; int dst = (int)(i >> 8) & 0xf, src = (int)(i >> 12) & 0xf;
            short off = (short)(i >> 16); int imm = (int)(i >> 32);
            switch (op)
            {
                case DeviceFilter.LdxMemW: Assert.Equal(1, src); r[dst] = ctx[off / 4]; break;
                case DeviceFilter.And32K: r[dst] = (uint)r[dst] & (uint)imm; break;
                case DeviceFilter.Rsh32K: r[dst] = (uint)r[dst] >> imm; break;
                case DeviceFilter.Mov32X: r[dst] = (uint)r[src]; break;
                case DeviceFilter.Mov64K: r[dst] = (ulong)(long)imm; break;
                case DeviceFilter.JneK: if (r[dst] != (ulong)(long)imm) pc += off; break;
                case DeviceFilter.JneX: if (r[dst] != r[src]) pc += off; break;
                case DeviceFilter.Exit: return r[0];
                default: throw new InvalidOperationException($"unexpected opcode 0x{op:x2} at {pc}");
            }
            Assert.InRange(pc, 0, prog.Length - 1);
        }
        throw new InvalidOperationException("fell off the end of the program");
    }

    private static ulong[] ForConfig(params LinuxDeviceCgroup[] devices)
        => DeviceFilter.Compile(DeviceRules.For(new Cnr.Spec.Linux { Resources = new LinuxResources { Devices = [.. devices] } }));

    [Fact]
    public void Insn_EncodesLikeStructBpfInsn()
    {
        // r2 = *(u32 *)(r1 + 4): code 0x61, dst 2 / src 1 in one byte (dst low), off 4, imm 0
        Assert.Equal(0x0000_0000_0004_1261UL, DeviceFilter.Insn(DeviceFilter.LdxMemW, 2, 1, 4, 0));
        // if r4 != 136 goto +2
        Assert.Equal(0x0000_0088_0002_0455UL, DeviceFilter.Insn(DeviceFilter.JneK, 4, 0, 2, 136));
        Assert.Equal(0x0000_0001_0000_00b7UL, DeviceFilter.Insn(DeviceFilter.Mov64K, 0, 0, 0, 1));
        Assert.Equal(0x95UL, DeviceFilter.Insn(DeviceFilter.Exit, 0, 0, 0, 0));
    }

    [Fact]
    public void DefaultSpec_DenyAll_StillAllowsTheStandardDevices()
    {
        var p = ForConfig(new LinuxDeviceCgroup { Allow = false, Access = "rwm" });
        Assert.Equal(1UL, Run(p, Char, Read | Write, 1, 3));    // /dev/null
        Assert.Equal(1UL, Run(p, Char, Read, 1, 9));            // /dev/urandom
        Assert.Equal(1UL, Run(p, Char, Read | Write, 136, 7));  // /dev/pts/7
        Assert.Equal(1UL, Run(p, Char, Read | Write, 5, 2));    // /dev/ptmx
        Assert.Equal(1UL, Run(p, Block, Mknod, 8, 0));          // mknod is allowed; using the node is not
        Assert.Equal(0UL, Run(p, Block, Read, 8, 0));           // /dev/sda
        Assert.Equal(0UL, Run(p, Char, Read | Write, 10, 229));  // /dev/fuse
        Assert.Equal(0UL, Run(p, Char, Mknod | Read, 4, 1));     // mknod+read of a tty: read is not allowed
    }

    [Fact]
    public void LastMatchingRuleWins()
    {
        var p = ForConfig(
            new LinuxDeviceCgroup { Allow = false, Access = "rwm" },
            new LinuxDeviceCgroup { Allow = true, Type = "b", Major = 8, Access = "r" },
            new LinuxDeviceCgroup { Allow = false, Type = "b", Major = 8, Minor = 1, Access = "r" });
        Assert.Equal(1UL, Run(p, Block, Read, 8, 0));
        Assert.Equal(0UL, Run(p, Block, Read, 8, 1));   // the later deny wins
        Assert.Equal(0UL, Run(p, Block, Write, 8, 0));  // "r" does not cover a write
        Assert.Equal(0UL, Run(p, Char, Read, 8, 0));    // type must match
    }

    [Fact]
    public void AllowAll_EndsTheProgram_SoNothingIsUnreachable()
    {
        var p = DeviceFilter.Compile([new DeviceRule('a', -1, -1, "rwm", true)]);
        Assert.Equal(6 + 2, p.Length);
        Assert.Equal(1UL, Run(p, Block, Read | Write | Mknod, 259, 0));
    }

    /// <summary>runc: linux.devices makes nodes, linux.resources.devices decides access; a redefined standard
    /// node (here /dev/null as 1:7) loses its standard allow rule.</summary>
    [Fact]
    public void LinuxDevices_AreNotAllowedByThemselves()
    {
        var linux = new Cnr.Spec.Linux
        {
            Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }] },
            Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 }, new LinuxDevice { Path = "/dev/null", Type = "c", Major = 1, Minor = 7 }],
        };
        var p = DeviceFilter.Compile(DeviceRules.For(linux));
        Assert.Equal(0UL, Run(p, Char, Read | Write, 10, 229));
        Assert.Equal(0UL, Run(p, Char, Read | Write, 1, 3));
        Assert.Equal(1UL, Run(p, Char, Read | Write, 1, 5));
    }

    [Fact]
    public void NoRules_DenyAllButTheDefaults()
    {
        var p = DeviceFilter.Compile(DeviceRules.For(null));
        Assert.Equal(0UL, Run(p, Block, Read, 8, 0));
        Assert.Equal(1UL, Run(p, Char, Read, 1, 5));
    }

    [BpfProgLoadFact]
    public void Kernel_VerifierAcceptsTheProgram()
    {
        foreach (var p in new[]
        {
            ForConfig(new LinuxDeviceCgroup { Allow = false, Access = "rwm" }),
            ForConfig(new LinuxDeviceCgroup { Allow = true, Access = "rwm" }),
            ForConfig(new LinuxDeviceCgroup { Allow = true, Type = "b", Major = 8, Access = "rw" }, new LinuxDeviceCgroup { Allow = false, Type = "c", Minor = 3, Access = "m" }),
        })
        {
            using var fd = Libc.BpfProgLoadCgroupDevice(p, DeviceFilter.License);
            // the kernel's own account of the fd: a loaded program of the cgroup device type
            Assert.Equal("anon_inode:bpf-prog", new FileInfo($"/proc/self/fd/{fd.Fd}").LinkTarget);
            Assert.Contains($"prog_type:\t{Libc.BPF_PROG_TYPE_CGROUP_DEVICE}\n", File.ReadAllText($"/proc/self/fdinfo/{fd.Fd}"));
        }
    }

    [BpfProgLoadFact]
    public void Kernel_RejectsABadProgram_WithTheVerifierLog()
    {
        // reads r0 before writing it: the verifier must refuse, and the message must say so
        var e = Assert.Throws<SyscallException>(() => Libc.BpfProgLoadCgroupDevice([DeviceFilter.Insn(DeviceFilter.Exit, 0, 0, 0, 0)], DeviceFilter.License));
        Assert.Contains("BPF_PROG_LOAD", e.Message);
        Assert.Contains("R0 !read_ok", e.Message);
    }

    /// <summary>runc takes the letters in any order and repeated (its emulator folds them into a set), as callers
    /// write them: "mrw", "rrw", "wm".</summary>
    [Theory]
    [InlineData("rwm", Read | Write | Mknod)]
    [InlineData("mwr", Read | Write | Mknod)]
    [InlineData("rwmrwm", Read | Write | Mknod)]
    [InlineData("rrw", Read | Write)]
    [InlineData("wm", Write | Mknod)]
    public void Access_AnyOrderAndRepeats_AreAccepted(string access, uint bits)
    {
        var rules = DeviceRules.For(new Cnr.Spec.Linux { Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = access }] } });
        Assert.Equal(bits, DeviceFilter.AccessBits(rules[0].Access));
    }
}
