using System.Text.Json;
using Cnr.Cgroups;
using Xunit;

namespace Cnr.Tests.Cgroups;

public sealed class CgroupStatsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-stats-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Put(string file, string text) => File.WriteAllText(Path.Combine(_dir, file), text);

    [Fact]
    public void Read_ConvertsV2FilesToRuncUnits()
    {
        Put("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 250\n");
        Put("memory.stat", "anon 4096\nfile 8192\n");
        Put("memory.current", "12288\n");
        Put("memory.max", "max\n");
        Put("memory.peak", "20000\n");
        Put("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        Put("memory.swap.current", "100\n");
        Put("memory.swap.max", "0\n");
        Put("pids.current", "2\n");
        Put("pids.max", "max\n");
        Put("io.stat", "8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n");
        Put("hugetlb.2MB.current", "4194304\n");
        Put("hugetlb.2MB.max", "8388608\n");
        Put("hugetlb.2MB.events", "max 2\n");
        Put("hugetlb.2MB.rsvd.current", "0\n");
        var s = CgroupStats.Read(_dir);
        Assert.Equal(1_500_000UL, s.Cpu.Usage.Total);
        Assert.Equal(1_000_000UL, s.Cpu.Usage.User);
        Assert.Equal(500_000UL, s.Cpu.Usage.Kernel);
        Assert.Equal(4UL, s.Cpu.Throttling.ThrottledPeriods);
        Assert.Equal(250_000UL, s.Cpu.Throttling.ThrottledTime);
        Assert.Equal(8192UL, s.Memory.Cache);
        Assert.Equal(12288UL, s.Memory.Usage.Usage);
        Assert.Equal(ulong.MaxValue, s.Memory.Usage.Limit);
        Assert.Equal(20000UL, s.Memory.Usage.Max);
        Assert.Equal(3UL, s.Memory.Usage.Failcnt);
        Assert.Equal(12388UL, s.Memory.Swap.Usage);          // memory + swap, as v1 reported it
        Assert.Equal(ulong.MaxValue, s.Memory.Swap.Limit);
        Assert.Equal(2UL, s.Pids.Current);
        Assert.Equal(0UL, s.Pids.Limit);                      // runc: 0 = no limit
        Assert.Equal([("Read", 1024UL), ("Write", 2048UL)], s.Blkio.IoServiceBytesRecursive.Select(e => (e.Op, e.Value)));
        Assert.Equal(8UL, s.Blkio.IoServicedRecursive[0].Major);
        Assert.Equal(["2MB"], s.Hugetlb.Keys);
        Assert.Equal((4194304UL, 8388608UL, 2UL), (s.Hugetlb["2MB"].Usage, s.Hugetlb["2MB"].Max, s.Hugetlb["2MB"].Failcnt));
    }

    [Fact]
    public void Read_MissingControllers_LeaveZeros()
    {
        var s = CgroupStats.Read(_dir);
        Assert.Equal(0UL, s.Cpu.Usage.Total);
        Assert.Null(s.Memory.Raw);
        Assert.Empty(s.Blkio.IoServiceBytesRecursive);
    }

    [Fact]
    public void Event_SerializesWithRuncNames()
    {
        Put("pids.current", "1\n");
        var json = JsonSerializer.Serialize(new CgroupEvent { Id = "box", Data = CgroupStats.Read(_dir) }, StatsJson.Default.CgroupEvent);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("stats", root.GetProperty("type").GetString());
        Assert.Equal("box", root.GetProperty("id").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(1, data.GetProperty("pids").GetProperty("current").GetInt32());
        Assert.True(data.GetProperty("cpu").GetProperty("throttling").TryGetProperty("throttledPeriods", out _));
        Assert.True(data.GetProperty("memory").GetProperty("usage").TryGetProperty("failcnt", out _));
        Assert.True(data.GetProperty("blkio").TryGetProperty("ioServiceBytesRecursive", out _));
        Assert.DoesNotContain('\n', json);  // one event per line
    }
}
