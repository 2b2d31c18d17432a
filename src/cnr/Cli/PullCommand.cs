using System.CommandLine;
using Cnr.Image;

namespace Cnr.Cli;

/// <summary>`cnr pull NAME [DIR]`: the short form of `bundle create` for the lab (`cnr pull alpine` → ./alpine).</summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "the image: " + BundleCommand.SourceHelp };
        var dir = new Argument<string?>("DIR") { Description = "the bundle directory (default: ./ and the image's name, e.g. ./alpine)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("pull", "create a bundle from an image (short for `cnr bundle create DIR --from NAME`)");
        cmd.Arguments.Add(name);
        cmd.Arguments.Add(dir);
        var pull = PullOptionsFlags.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            var source = r.GetValue(name)!;
            return BundleCommand.Run(r.GetValue(dir) ?? DefaultDirectory(source), source, pull.Read(r));
        });
        return cmd;
    }

    /// <summary>The last path component of the repository, without tag, digest or archive suffix.</summary>
    internal static string DefaultDirectory(string source)
    {
        var s = source;
        foreach (var prefix in new[] { "docker://", "docker-archive:", "oci-archive:", "oci:" })
            if (s.StartsWith(prefix, StringComparison.Ordinal)) s = s[prefix.Length..];
        if (s.IndexOf('@') is var at and >= 0) s = s[..at];
        s = s.TrimEnd('/');
        s = s[(s.LastIndexOf('/') + 1)..];
        if (s.IndexOf(':') is var colon and > 0) s = s[..colon];
        foreach (var ext in new[] { ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2", ".tar" })
            if (s.EndsWith(ext, StringComparison.Ordinal)) { s = s[..^ext.Length]; break; }
        return s.Length > 0 ? s : throw new UsageException($"cannot derive a directory name from \"{source}\"; give DIR");
    }
}
