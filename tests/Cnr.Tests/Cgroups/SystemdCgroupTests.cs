using Cnr.Cgroups;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Cgroups;

public class SystemdCgroupsPathTests
{
    [Theory]
    [InlineData("system.slice:docker:abc", false, "system.slice", "docker-abc.scope")]
    [InlineData(":cnr:abc", false, "system.slice", "cnr-abc.scope")]
    [InlineData(":cnr:abc", true, "user.slice", "cnr-abc.scope")]
    [InlineData("machine.slice:libpod:0123abc", false, "machine.slice", "libpod-0123abc.scope")]
    [InlineData("kubepods-besteffort-pod1.slice:cri-containerd:c1", false, "kubepods-besteffort-pod1.slice", "cri-containerd-c1.scope")]
    [InlineData("-:cnr:x", false, "-.slice", "cnr-x.scope")]
    [InlineData("system.slice::x", false, "system.slice", "x.scope")]
    [InlineData(null, false, "system.slice", "cnr-box.scope")]
    [InlineData("", true, "user.slice", "cnr-box.scope")]
    public void SliceAndUnit(string? cgroupsPath, bool user, string slice, string unit)
    {
        var p = SystemdCgroupsPath.Parse("box", cgroupsPath, user);
        Assert.Equal(slice, p.Slice);
        Assert.Equal(unit, p.Unit);
    }

    [Theory]
    [InlineData("foo", "is not in the systemd form \"slice:prefix:name\"")]
    [InlineData("a:b", "is not in the systemd form \"slice:prefix:name\"")]
    [InlineData("/sys/cnr", "is not in the systemd form \"slice:prefix:name\"")]
    [InlineData("a:b:c:d", "is not in the systemd form \"slice:prefix:name\"")]
    [InlineData("system:cnr:x", "\"system\" is not a systemd slice")]
    [InlineData("a/b.slice:cnr:x", "\"a/b.slice\" is not a systemd slice")]
    [InlineData("a--b.slice:cnr:x", "\"a--b.slice\" is not a systemd slice")]
    [InlineData("system.slice:cnr:", "names no unit")]
    [InlineData("system.slice:cnr:x.slice", "names a slice")]
    [InlineData("system.slice:cnr:a/b", "a systemd unit name")]
    [InlineData("system.slice:c n r:x", "a systemd unit name")]
    public void Malformed_OneLineNamingTheFieldAndTheForm(string cgroupsPath, string what)
    {
        var e = Assert.Throws<CgroupException>(() => SystemdCgroupsPath.Parse("box", cgroupsPath, false));
        Assert.StartsWith($"linux.cgroupsPath: \"{cgroupsPath}\"", e.Message);
        Assert.Contains(what, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("system.slice", "/system.slice")]
    [InlineData("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice")]
    [InlineData("-.slice", "")]
    public void SlicePath_NestsAsSystemdDoes(string slice, string path) => Assert.Equal(path, SystemdCgroupsPath.SlicePath(slice));
}

public class SystemdPropertiesTests
{
    private static Dictionary<string, object> Props(LinuxResources r) => SystemdProperties.ForResources(r).ToDictionary(p => p.Name, p => p.Value);

    [Fact]
    public void MemoryPidsCpu_AsRuncSetsThem()
    {
        var p = Props(new LinuxResources
        {
            Memory = new() { Limit = 33554432, Reservation = 16777216, Swap = 67108864 },
            Pids = new() { Limit = 64 },
            Cpu = new() { Shares = 1024, Quota = 50000, Period = 100000, Cpus = "0-2,9", Mems = "0" },
            BlockIO = new() { Weight = 500 },
        });
        Assert.Equal(33554432UL, p["MemoryMax"]);
        Assert.Equal(16777216UL, p["MemoryLow"]);
        Assert.Equal(33554432UL, p["MemorySwapMax"]);          // memory+swap 64M - memory 32M
        Assert.Equal(64UL, p["TasksMax"]);
        Assert.Equal(39UL, p["CPUWeight"]);                    // runc: 1 + (1024-2)*9999/262142
        Assert.Equal(100000UL, p["CPUQuotaPeriodUSec"]);
        Assert.Equal(500000UL, p["CPUQuotaPerSecUSec"]);        // half a CPU
        Assert.Equal(new byte[] { 0x07, 0x02 }, p["AllowedCPUs"]);
        Assert.Equal(new byte[] { 0x01 }, p["AllowedMemoryNodes"]);
        Assert.Equal(4950UL, p["IOWeight"]);                   // 1 + (500-10)*9999/990
    }

    [Fact]
    public void Unlimited_IsInfinity()
    {
        var p = Props(new LinuxResources { Memory = new() { Limit = -1, Swap = -1 }, Pids = new() { Limit = -1 }, Cpu = new() { Quota = -1 } });
        Assert.Equal(SystemdProperties.Infinity, p["MemoryMax"]);
        Assert.Equal(SystemdProperties.Infinity, p["MemorySwapMax"]);
        Assert.Equal(SystemdProperties.Infinity, p["TasksMax"]);
        Assert.Equal(SystemdProperties.Infinity, p["CPUQuotaPerSecUSec"]);
        Assert.False(p.ContainsKey("CPUQuotaPeriodUSec"));
    }

    [Fact]
    public void SwapEqualToLimit_IsNoSwap()
        => Assert.Equal(0UL, Props(new LinuxResources { Memory = new() { Limit = 1 << 20, Swap = 1 << 20 } })["MemorySwapMax"]);

    [Fact]
    public void Unset_SetsNothing() => Assert.Empty(SystemdProperties.ForResources(new LinuxResources { Memory = new(), Cpu = new() }));

    [Theory]
    [InlineData(50000, 100000, 500000)]
    [InlineData(12345, 100000, 130000)]    // 123450 µs/s rounded up to systemd's 10 ms
    [InlineData(20000, 0, 200000)]         // no period: the kernel's 100 ms
    [InlineData(1000, 1000000, 10000)]
    [InlineData(0, 100000, ulong.MaxValue)]
    public void QuotaPerSecond(long quota, ulong period, ulong perSec) => Assert.Equal(perSec, SystemdProperties.QuotaPerSecond(quota, period));

    [Theory]
    [InlineData("0", "01")]
    [InlineData("0-7", "FF")]
    [InlineData("8", "0001")]
    [InlineData("1,3,5-6", "6A")]
    [InlineData("0-3,6,16", "4F0001")]
    public void CpuList_ToSystemdBitmask(string list, string hex)
        => Assert.Equal(hex, Convert.ToHexString(SystemdProperties.ListToBits(list, "linux.resources.cpu.cpus")));

    [Fact]
    public void BackwardsRange_NamesTheField()
        => Assert.StartsWith("linux.resources.cpu.cpus:", Assert.Throws<CgroupException>(() => SystemdProperties.ForResources(new LinuxResources { Cpu = new() { Cpus = "3-1" } })).Message);

    [Fact]
    public void NewScope_DelegatedWithTheInitAndTheSlice()
    {
        // the last of a name is what systemd keeps (DeviceAllow comes twice: emptied, then the list)
        var p = SystemdProperties.ForNewScope("box", "system.slice", 4242, new Cnr.Spec.Linux { Resources = new() { Pids = new() { Limit = 10 } } })
            .GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.Last().Value);
        Assert.Equal(true, p["Delegate"]);
        Assert.Equal(new uint[] { 4242 }, p["PIDs"]);
        Assert.Equal("system.slice", p["Slice"]);
        Assert.Equal("cnr container box", p["Description"]);
        Assert.Equal(10UL, p["TasksMax"]);
        Assert.Equal("strict", p["DevicePolicy"]);  // no linux.resources.devices: cnr's defaults alone
        Assert.Contains(new SystemdDeviceAllow("/dev/char/1:3", "rwm"), (SystemdDeviceAllow[])p["DeviceAllow"]);
    }

    private static List<SystemdProperty> Devices(params LinuxDeviceCgroup[] config)
        => SystemdProperties.ForDevices(DeviceRules.For(new Cnr.Spec.Linux { Resources = new() { Devices = [.. config] } }));

    [Fact]
    public void Devices_DockersDenyAllThenAllows_StrictWithTheAllowList()
    {
        var p = Devices(new() { Allow = false, Access = "rwm" },
            new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
            new() { Allow = true, Type = "c", Major = 136, Access = "rwm" },
            new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "r" });
        Assert.Equal(["DevicePolicy", "DeviceAllow", "DeviceAllow"], p.Select(x => x.Name));
        Assert.Equal("strict", p[0].Value);
        Assert.Empty((SystemdDeviceAllow[])p[1].Value);  // empties what a running unit has
        var allow = (SystemdDeviceAllow[])p[2].Value;
        // one entry per device, in config order then cnr's defaults (runc's: "char-*" for "c *:* m")
        Assert.Equal(new SystemdDeviceAllow("/dev/char/1:3", "rwm"), allow[0]);
        Assert.Equal(new SystemdDeviceAllow("char-136", "rwm"), allow[1]);
        Assert.Equal(new SystemdDeviceAllow("char-*", "m"), allow[2]);
        Assert.Equal(new SystemdDeviceAllow("block-*", "m"), allow[3]);
        Assert.Contains(new SystemdDeviceAllow("/dev/char/5:2", "rwm"), allow);
        Assert.Single(allow, e => e.Path == "/dev/char/1:3");
    }

    [Fact]
    public void Devices_AllowAllLast_AutoWithNoList()
    {
        var p = Devices(new() { Allow = false, Access = "rwm" }, new() { Allow = true, Access = "rwm" },
            new() { Allow = false, Type = "c", Major = 1, Minor = 3, Access = "rwm" });
        // the deny after the allow-all cannot be said to systemd: its program allows all, cnr's denies 1:3
        Assert.Equal("auto", p.Single(x => x.Name == "DevicePolicy").Value);
        Assert.Empty((SystemdDeviceAllow[])p.Single(x => x.Name == "DeviceAllow").Value);
    }

    [Fact]
    public void Devices_WhatSystemdCannotSay_IsWidenedNeverNarrowed()
    {
        var allow = (SystemdDeviceAllow[])Devices(new() { Allow = false, Access = "rwm" },
            new() { Allow = true, Type = "a", Major = 4, Minor = 1, Access = "r" },
            new() { Allow = true, Type = "b", Minor = 7, Access = "w" },
            new() { Allow = false, Type = "c", Major = 4, Minor = 1, Access = "r" })[2].Value;
        Assert.Equal(new SystemdDeviceAllow("/dev/char/4:1", "r"), allow[0]);   // "a" is both types
        Assert.Equal(new SystemdDeviceAllow("/dev/block/4:1", "r"), allow[1]);
        Assert.Equal(new SystemdDeviceAllow("block-*", "wm"), allow[2]);        // "b *:7": all block devices
    }

    [Theory]
    [InlineData("memory.max", "33554432", "MemoryMax", 33554432UL)]
    [InlineData("memory.high", " max\n", "MemoryHigh", ulong.MaxValue)]
    [InlineData("memory.low", "1024", "MemoryLow", 1024UL)]
    [InlineData("memory.min", "4096", "MemoryMin", 4096UL)]
    [InlineData("memory.swap.max", "0", "MemorySwapMax", 0UL)]
    [InlineData("pids.max", "max", "TasksMax", ulong.MaxValue)]
    [InlineData("pids.max", "20", "TasksMax", 20UL)]
    [InlineData("cpu.weight", "250", "CPUWeight", 250UL)]
    public void Unified_ToTheSystemdProperty(string key, string value, string property, ulong expected)
    {
        var p = Props(new LinuxResources { Unified = new() { [key] = value } });
        Assert.Equal(property, Assert.Single(p).Key);
        Assert.Equal(expected, p[property]);
    }

    [Fact]
    public void UnifiedCpuMaxAndCpuset_AsRunc()
    {
        var p = Props(new LinuxResources { Unified = new() { ["cpu.max"] = "25000 50000", ["cpuset.cpus"] = "0-1", ["cpuset.mems"] = "0" } });
        Assert.Equal(50000UL, p["CPUQuotaPeriodUSec"]);
        Assert.Equal(500000UL, p["CPUQuotaPerSecUSec"]);
        Assert.Equal(new byte[] { 3 }, p["AllowedCPUs"]);
        Assert.Equal(new byte[] { 1 }, p["AllowedMemoryNodes"]);
        p = Props(new LinuxResources { Unified = new() { ["cpu.max"] = "max" } });
        Assert.Equal(100000UL, p["CPUQuotaPeriodUSec"]);
        Assert.Equal(SystemdProperties.Infinity, p["CPUQuotaPerSecUSec"]);
    }

    [Fact]
    public void Unified_WinsOverTheConvertedValue_AndFilesWithoutAPropertyAreLeftToTheFiles()
    {
        var p = SystemdProperties.ForResources(new LinuxResources { Memory = new() { Limit = 1 << 20 }, Unified = new() { ["memory.max"] = "2097152", ["io.max"] = "8:0 rbps=1", ["memory.oom.group"] = "1" } });
        Assert.Equal(["MemoryMax", "MemoryMax"], p.Select(x => x.Name));
        Assert.Equal(2097152UL, p[^1].Value);  // systemd keeps the last
    }

    [Theory]
    [InlineData("memory.max", "32M")]
    [InlineData("pids.max", "-1")]
    [InlineData("cpu.weight", "0")]
    [InlineData("cpu.max", "50000 100000 1")]
    [InlineData("cpu.max", "half")]
    [InlineData("cpuset.cpus", "0-")]
    public void Unified_AValueSystemdCannotTake_NamesTheKey(string key, string value)
    {
        var e = Assert.Throws<CgroupException>(() => SystemdProperties.ForResources(new LinuxResources { Unified = new() { [key] = value } }));
        Assert.StartsWith($"linux.resources.unified[\"{key}\"]: ", e.Message);
    }
}
