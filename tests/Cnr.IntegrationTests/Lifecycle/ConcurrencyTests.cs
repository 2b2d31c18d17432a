using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>Callers run the runtime concurrently (containerd's shims, podman's parallel starts).</summary>
public sealed class ConcurrencyTests
{
    [RootFact]
    public void TenParallelCreates_OfDistinctIds_AllSucceed()
    {
        using var b = new TestBundle("pc").WithArgs("sleep", "100");
        var ids = Enumerable.Range(0, 10).Select(i => $"{b.Id[..20]}-{i}").ToList();
        // A bundle each: each container its own cgroupsPath, as every caller gives them.
        foreach (var id in ids)
        {
            Directory.CreateDirectory(Path.Combine(b.Dir, id));
            b.Spec.Linux!.CgroupsPath = $"/cnr-test/{id}";
            b.Write(Path.Combine(b.Dir, id));
        }
        try
        {
            var results = ids.AsParallel().WithDegreeOfParallelism(10)
                .Select(id => (id, r: b.CnrDetached("create", "--bundle", Path.Combine(b.Dir, id), id))).ToList();
            foreach (var (id, r) in results) Assert.True(r.ExitCode == 0, $"{id}: {r}");
            var listed = b.Cnr("list", "-q").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(ids.Order(), listed.Order());
            foreach (var id in ids) Assert.Equal("created", b.Status(id));
        }
        finally { foreach (var id in ids) b.Cnr("delete", "--force", id); }
    }

    [RootFact]
    public void TwoParallelCreates_OfTheSameId_ExactlyOneWins()
    {
        using var b = new TestBundle("pd").WithArgs("sleep", "100");
        b.Write();
        var results = Enumerable.Range(0, 2).AsParallel().WithDegreeOfParallelism(2)
            .Select(_ => b.CnrDetached("create", "--bundle", b.Dir, b.Id)).ToList();
        Assert.True(results.Count(r => r.ExitCode == 0) == 1, string.Join("\n====\n", results));
        var loser = results.Single(r => r.ExitCode != 0);
        Assert.Equal(1, loser.ExitCode);
        Assert.Contains("exists", loser.Stderr);
        Assert.Equal("created", b.Status());
        Assert.Single(b.Cnr("list", "-q").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
