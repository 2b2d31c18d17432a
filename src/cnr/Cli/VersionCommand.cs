using System.CommandLine;

namespace Cnr.Cli;

/// <summary>`cnr --version` / `cnr version`: runc-style lines.</summary>
internal static class VersionCommand
{
    public const string RuntimeVersion = "0.1.0";
    public const string SpecVersion = "1.2.0";

    public static Command Create()
    {
        var cmd = new Command("version", "print the version") { Hidden = true };
        Verbs.SetAction(cmd, _ => { Print(); return 0; });
        return cmd;
    }

    public static void Print()
    {
        Console.WriteLine($"cnr version {RuntimeVersion}");
        Console.WriteLine($"spec: {SpecVersion}");
        Console.WriteLine($"libseccomp: {Cnr.Seccomp.LibSeccompVersion.Get() ?? "not found"}");
    }
}
