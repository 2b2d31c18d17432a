using System.CommandLine;
using Cnr.Demo;

namespace Cnr.Cli;

/// <summary>`cnr demo chroot-escape [--rootfs DIR] [--no-pivot]`: the trainer's one-liner that shows why
/// a container is more than chroot.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var rootfs = new Option<string?>("--rootfs") { Description = "a root filesystem to copy (default: an empty one holding only the static escape program, so the demo runs from any directory)" };
        var program = new Option<string?>("--program") { Description = "the static escape program (default: found next to cnr, or native/build/chroot-escape)" };
        var noPivot = new Option<bool>("--no-pivot") { Description = "also run it under `cnr run --no-pivot` (MS_MOVE + chroot)" };
        var escape = new Command("chroot-escape", "run the classic chroot escape under chroot(2), under cnr, and under cnr without CAP_SYS_CHROOT") { rootfs, program, noPivot };
        Verbs.SetAction(escape, r =>
        {
            var cnr = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find cnr's own path (/proc/self/exe)");
            var result = ChrootEscapeDemo.Run(new ChrootEscapeDemo.Options(cnr, r.GetValue(rootfs),
                r.GetValue(program) ?? FindProgram(cnr), r.GetValue(noPivot)));
            Console.WriteLine($"The host file {result.MarkerPath} holds \"{result.MarkerContent}\".");
            Console.WriteLine($"The same program ({ChrootEscapeDemo.ProgramInRootfs}: mkdir, chroot into it, chdir(\"..\") ×256, chroot(\".\"), read the file) runs each way:");
            Console.WriteLine();
            var rows = new List<string[]> { new[] { "", "RUN UNDER", "RESULT", "WHAT THE PROGRAM PRINTED" } };
            rows.AddRange(result.Outcomes.Select(x => new[] { x.Label, x.Setup, x.Verdict, x.Output }));
            Table.Print(rows);
            Console.WriteLine();
            foreach (var x in result.Outcomes) Console.WriteLine($"{x.Label} {x.Verdict.ToLowerInvariant()}: {x.Why}");
            // Non-zero when a run did not show what it is there to show: the demo is also a check of cnr.
            return result.Outcomes.All(x => x.AsExpected) ? 0 : 1;
        });
        return new Command("demo", "teaching demonstrations") { escape };
    }

    /// <summary>Next to cnr, in PREFIX/libexec/cnr when installed, else in the source tree cnr was built from.</summary>
    private static string FindProgram(string cnr)
    {
        var dir = Path.GetDirectoryName(cnr)!;
        string[] candidates = [Path.Combine(dir, "chroot-escape"), Path.Combine(dir, "..", "libexec", "cnr", "chroot-escape"),
            Path.Combine(dir, "..", "native", "build", "chroot-escape")];
        return Path.GetFullPath(candidates.FirstOrDefault(File.Exists) ?? candidates[0]);
    }
}
