using System.Text.Json;
using Cnr.Diagnostics;
using Xunit;

namespace Cnr.Tests.Diagnostics;

/// <summary>Log and Steps are process-wide: their tests run alone, after the parallel ones, so that no other
/// test's warning or step lands in what they read.</summary>
[CollectionDefinition(nameof(ProcessWide), DisableParallelization = true)]
public sealed class ProcessWide;

[Collection(nameof(ProcessWide))]
public sealed class LogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-log-").FullName;
    private string LogFile => Path.Combine(_dir, "log");

    public void Dispose()
    {
        Log.Configure(null, null, false);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Json_EveryLineIsLevelMsgTime_InThatOrder_AsContainerdsShimReadsIt()
    {
        Log.Configure(LogFile, "json", debug: true);
        Log.Debug("d");
        Log.Info("i");
        Log.Warn("w");
        Log.Error("e");
        var lines = File.ReadAllLines(LogFile);
        Assert.Equal(["debug", "info", "warning", "error"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("level").GetString()));
        foreach (var l in lines)
        {
            var e = JsonDocument.Parse(l).RootElement;
            Assert.Equal(["level", "msg", "time"], e.EnumerateObject().Select(p => p.Name));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", e.GetProperty("time").GetString());
        }
    }

    [Fact]
    public void Json_EscapesQuotesAndControlCharacters_ButKeepsTextReadable()
    {
        Log.Configure(LogFile, "JSON", debug: false);
        Log.Warn("say \"hi\" → <there>\n\tnext");
        var line = File.ReadAllText(LogFile);
        Assert.Contains("\"msg\":\"say \\\"hi\\\" → <there>\\n\\tnext\"", line);
        Assert.Equal("say \"hi\" → <there>\n\tnext", JsonDocument.Parse(line).RootElement.GetProperty("msg").GetString());
    }

    [Fact]
    public void Text_IsLogfmt_WithTheMessageQuoted()
    {
        Log.Configure(LogFile, "text", debug: false);
        Log.Warn("a \"b\"");
        Assert.Matches("^time=\"[^\"]+Z\" level=warning msg=\"a \\\\\"b\\\\\"\"\n$", File.ReadAllText(LogFile));
    }

    [Fact]
    public void Debug_IsDroppedUnlessEnabled()
    {
        Log.Configure(LogFile, "json", debug: false);
        Log.Debug("hidden");
        Log.Info("shown");
        Assert.Single(File.ReadAllLines(LogFile));
        Assert.DoesNotContain("hidden", File.ReadAllText(LogFile));
    }

    [Fact]
    public void Configure_WithoutAFile_StopsWritingTheEarlierOne()
    {
        Log.Configure(LogFile, "json", debug: false);
        Assert.True(Log.HasFile);
        Log.Configure(null, null, false);
        Assert.False(Log.HasFile);
        Assert.False(Log.Json);
        Log.Info("to stderr now");
        Assert.False(File.Exists(LogFile) && File.ReadAllText(LogFile).Contains("to stderr now"));
    }
}

[Collection(nameof(ProcessWide))]
public sealed class StepsTests : IDisposable
{
    public void Dispose() => Steps.SetSink(null);

    [Fact]
    public void Off_UntilASinkIsSet_ThenEveryReportReachesIt_InOrder()
    {
        Assert.False(Steps.On);
        Steps.Report("mount", "ignored: no sink");
        var seen = new List<Step>();
        Steps.SetSink(seen.Add);
        Assert.True(Steps.On);
        Steps.Report("mount", "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID)", "mount -t proc proc /proc");
        Steps.Report("seccomp", "seccomp(SECCOMP_SET_MODE_FILTER)");
        Assert.Equal([new Step("mount", "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID)", "mount -t proc proc /proc"),
            new Step("seccomp", "seccomp(SECCOMP_SET_MODE_FILTER)", null)], seen);
        Steps.SetSink(null);
        Assert.False(Steps.On);
    }
}
