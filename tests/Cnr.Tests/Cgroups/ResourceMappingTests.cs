using Cnr.Cgroups;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Cgroups;

public class ResourceMappingTests
{
    private static Dictionary<string, string> Files(LinuxResources r, bool bfq = false)
        => ResourceMapping.Map(r, bfq).GroupBy(w => w.File).ToDictionary(g => g.Key, g => string.Join("|", g.Select(w => w.Value)));

    [Theory]
    [InlineData(2UL, 1UL)]
    [InlineData(1024UL, 39UL)]
    [InlineData(262144UL, 10000UL)]
    [InlineData(0UL, 0UL)]
    public void CpuShares_ConvertToWeightLikeRunc(ulong shares, ulong weight)
        => Assert.Equal(weight, ResourceMapping.CpuSharesToWeight(shares));

    [Theory]
    [InlineData(10, 1UL)]
    [InlineData(500, 4950UL)]
    [InlineData(1000, 10000UL)]
    public void BlkioWeight_ConvertsToIoWeightRange(ushort w, ulong expected)
        => Assert.Equal(expected, ResourceMapping.BlkioToIoWeight(w));

    [Fact]
    public void Memory_LimitReservationSwap_MapToV2Files()
    {
        var f = Files(new LinuxResources { Memory = new LinuxMemory { Limit = 100 << 20, Reservation = 50 << 20, Swap = 300 << 20 } });
        Assert.Equal("104857600", f["memory.max"]);
        Assert.Equal("52428800", f["memory.low"]);
        Assert.Equal((200 << 20).ToString(), f["memory.swap.max"]);  // v2 swap is swap alone
    }

    [Fact]
    public void Memory_SwapEqualToLimit_DisablesSwap()
        => Assert.Equal("0", Files(new LinuxResources { Memory = new LinuxMemory { Limit = 1 << 20, Swap = 1 << 20 } })["memory.swap.max"]);

    [Fact]
    public void Memory_Unlimited_MeansUnlimitedSwapToo()
    {
        var w = ResourceMapping.Map(new LinuxResources { Memory = new LinuxMemory { Limit = -1 } }, false);
        Assert.Equal([("memory.swap.max", "max"), ("memory.max", "max")], w.Select(x => (x.File, x.Value)));
        Assert.True(w[0].Optional);  // no swap accounting: not an error to skip "max"
    }

    [Fact]
    public void Memory_SwapBelowLimit_IsRejectedNamingTheField()
    {
        var e = Assert.Throws<CgroupException>(() => CgroupManager.Validate(new LinuxResources { Memory = new LinuxMemory { Limit = 200, Swap = 100 } }));
        Assert.StartsWith("linux.resources.memory.swap: 100 is memory+swap and must be at least memory.limit (200)", e.Message);
    }

    [Fact]
    public void Memory_SwapWithoutLimit_IsRejected()
        => Assert.Contains("needs memory.limit", Assert.Throws<CgroupException>(
            () => CgroupManager.Validate(new LinuxResources { Memory = new LinuxMemory { Swap = 100 } })).Message);

    [Theory]
    [InlineData(50000L, 100000UL, "50000 100000")]
    [InlineData(-1L, 100000UL, "max 100000")]
    [InlineData(20000L, 0UL, "20000")]
    [InlineData(0L, 250000UL, "max 250000")]
    public void Cpu_QuotaAndPeriod_MapToCpuMax(long quota, ulong period, string expected)
        => Assert.Equal(expected, Files(new LinuxResources { Cpu = new LinuxCpu { Quota = quota, Period = period } })["cpu.max"]);

    [Fact]
    public void Cpu_Everything_MapsToItsFile_BurstAfterMax()
    {
        var w = ResourceMapping.Map(new LinuxResources
        {
            Cpu = new LinuxCpu { Shares = 1024, Quota = 50000, Period = 100000, Burst = 10000, Idle = 1, Cpus = "0-1", Mems = "0" },
        }, false).Select(x => $"{x.File}={x.Value}");
        Assert.Equal(["cpu.idle=1", "cpu.weight=39", "cpu.max=50000 100000", "cpu.max.burst=10000", "cpuset.cpus=0-1", "cpuset.mems=0"], w);
    }

    [Theory]
    [InlineData(100L, "100")]
    [InlineData(0L, "max")]
    [InlineData(-1L, "max")]
    public void Pids_LimitOfZeroOrLess_IsMax(long limit, string expected)
        => Assert.Equal(expected, Files(new LinuxResources { Pids = new LinuxPids { Limit = limit } })["pids.max"]);

    [Fact]
    public void BlockIO_WithoutBfq_UsesIoWeightConverted_AndIoMax()
    {
        var f = Files(new LinuxResources
        {
            BlockIO = new LinuxBlockIO
            {
                Weight = 500,
                WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 1000 }],
                ThrottleReadBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 0, Rate = 1048576 }],
                ThrottleWriteIOPSDevice = [new LinuxThrottleDevice { Major = 8, Minor = 16, Rate = 100 }],
            },
        });
        Assert.Equal("4950|8:0 10000", f["io.weight"]);
        Assert.Equal("8:0 rbps=1048576|8:16 wiops=100", f["io.max"]);
    }

    [Fact]
    public void BlockIO_WithBfq_UsesBfqWeightAsIs()
        => Assert.Equal("500|8:0 300", Files(new LinuxResources
        {
            BlockIO = new LinuxBlockIO { Weight = 500, WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 300 }] },
        }, bfq: true)["io.bfq.weight"]);

    [Fact]
    public void Hugepages_Rdma_Unified_MapToTheirFiles_UnifiedLast()
    {
        var w = ResourceMapping.Map(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 1000000 },
            HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 4194304 }],
            Rdma = new() { ["mlx5_1"] = new LinuxRdma { HcaHandles = 3, HcaObjects = 10000 } },
            Unified = new() { ["memory.max"] = "2000000" },
        }, false).Select(x => $"{x.File}={x.Value}").ToList();
        Assert.Equal(["memory.max=1000000", "hugetlb.2MB.max=4194304", "rdma.max=mlx5_1 hca_handle=3 hca_object=10000", "memory.max=2000000"], w);
    }

    [Theory]
    [InlineData("../memory.max")]
    [InlineData("memory/max")]
    [InlineData("nodot")]
    public void Unified_BadKey_IsRejected(string key)
        => Assert.StartsWith($"linux.resources.unified[\"{key}\"]: is not a cgroup v2 interface file name",
            Assert.Throws<CgroupException>(() => CgroupManager.Validate(new LinuxResources { Unified = new() { [key] = "1" } })).Message);

    [Fact]
    public void Validate_NamesTheJsonPathAndTheRange()
    {
        string Msg(LinuxResources r) => Assert.Throws<CgroupException>(() => CgroupManager.Validate(r)).Message;
        Assert.Equal("linux.resources.cpu.shares: 1 is out of range (2–262144; 1024 is the default weight)", Msg(new() { Cpu = new() { Shares = 1 } }));
        Assert.StartsWith("linux.resources.cpu.quota: 10 is out of range", Msg(new() { Cpu = new() { Quota = 10 } }));
        Assert.StartsWith("linux.resources.cpu.period: 5000000 is out of range", Msg(new() { Cpu = new() { Period = 5000000 } }));
        Assert.StartsWith("linux.resources.cpu.realtimeRuntime: real-time CPU bandwidth does not exist in cgroup v2", Msg(new() { Cpu = new() { RealtimeRuntime = 950000 } }));
        Assert.StartsWith("linux.resources.cpu.cpus: \"0-a\" is not a CPU list", Msg(new() { Cpu = new() { Cpus = "0-a" } }));
        Assert.StartsWith("linux.resources.blockIO.weight: 5 is out of range (10–1000)", Msg(new() { BlockIO = new() { Weight = 5 } }));
        Assert.StartsWith("linux.resources.memory.limit: -5 is not a byte count", Msg(new() { Memory = new() { Limit = -5 } }));
        Assert.StartsWith("linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size", Msg(new() { HugepageLimits = [new() { PageSize = "2M" }] }));
        Assert.StartsWith("linux.resources.devices[1].access: \"rx\"", Msg(new() { Devices = [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Access = "rx" }] }));
        Assert.StartsWith("linux.resources.devices[0].type: \"z\"", Msg(new() { Devices = [new() { Type = "z" }] }));
    }

    [Fact]
    public void Validate_AcceptsTheDefaultsAndNull()
    {
        CgroupManager.Validate(null);
        CgroupManager.Validate(new LinuxResources { Devices = [new() { Allow = false, Access = "rwm" }] });
        Assert.Empty(ResourceMapping.Map(new LinuxResources { Devices = [new() { Allow = false, Access = "rwm" }] }, false));
    }
}
