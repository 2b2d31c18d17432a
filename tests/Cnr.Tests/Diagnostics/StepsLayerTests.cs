using System.Text.RegularExpressions;
using Xunit;

namespace Cnr.Tests.Diagnostics;

/// <summary>Issue #10 item 5: the step views (--explain, --explain-script, --debug) come from the wrappers that
/// make the calls (Linux/Sys*.cs), so what they show is what was executed. A mechanism that reports a step itself
/// again fails here, with the file and line.</summary>
public sealed class StepsLayerTests
{
    [Fact]
    public void Steps_AreReportedOnlyByTheSysWrappers()
    {
        var src = Path.Combine(RepoRoot(), "src");
        var pattern = new Regex(@"\bSteps\s*\.\s*(On|Report)\b");
        var offenders = new List<string>();
        int inSys = 0;
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(src, file).Replace('\\', '/');
            if (rel.Contains("/obj/") || rel.Contains("/bin/")) continue;
            bool allowed = Regex.IsMatch(rel, @"^Cnr\.Runtime/(Linux/Sys(\.[A-Za-z]+)?\.cs|Diagnostics/)");
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (pattern.IsMatch(lines[i]))
                {
                    if (allowed) inSys++;
                    else offenders.Add($"{rel}:{i + 1}: {lines[i].Trim()}");
                }
        }
        Assert.True(inSys > 50, $"only {inSys} step reports found in Linux/Sys*.cs: is the source tree where this test looks?");
        Assert.True(offenders.Count == 0, "steps reported outside Linux/Sys*.cs:\n" + string.Join('\n', offenders));
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Runtime.sln"))) return d.FullName;
        throw new InvalidOperationException("Runtime.sln not found above " + AppContext.BaseDirectory);
    }
}
