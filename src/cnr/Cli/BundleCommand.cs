using System.CommandLine;
using Cnr.Image;

namespace Cnr.Cli;

/// <summary>`cnr bundle create DIR --from SOURCE`: an OCI bundle (rootfs + config.json) from an image.</summary>
internal static class BundleCommand
{
    public const string SourceHelp =
        "a rootfs tarball (tar, .gz, .xz, .zst, .bz2), docker-archive:PATH, oci-archive:PATH[:TAG], oci:DIR[:TAG], docker://[REGISTRY/]NAME[:TAG|@DIGEST], or NAME[:TAG] from Docker Hub";

    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "the bundle directory to create (must not exist, or be empty)" };
        var from = new Option<string>("--from") { Description = "the image: " + SourceHelp, Required = true };
        var create = new Command("create", "unpack an image into DIR/rootfs and write DIR/config.json with the image's command, environment, working directory and user");
        create.Arguments.Add(dir);
        create.Options.Add(from);
        var pull = PullOptionsFlags.AddTo(create);
        Verbs.SetAction(create, r => Run(r.GetValue(dir)!, r.GetValue(from)!, pull.Read(r)));

        var cmd = new Command("bundle", "create OCI bundles from images");
        cmd.Subcommands.Add(create);
        return cmd;
    }

    public static int Run(string dir, string source, PullOptions options)
    {
        var image = BundleWriter.Create(dir, source, options);
        Console.Error.WriteLine($"Bundle {dir} created from {image.Name} ({image.Digest})");
        return 0;
    }
}

/// <summary>The flags `bundle create` and `pull` share, as podman and skopeo spell them.</summary>
internal sealed class PullOptionsFlags
{
    private readonly Option<string?> _platform = new("--platform") { Description = "OS/ARCH[/VARIANT] to pick from a multi-platform image (default: this host's)" };
    private readonly Option<bool> _plainHttp = new("--plain-http") { Description = "talk to the registry over HTTP instead of HTTPS (a local test registry)" };
    private readonly Option<bool> _tlsVerify = new("--tls-verify") { Description = "verify the registry's TLS certificate (--tls-verify=false to accept a self-signed one)", DefaultValueFactory = _ => true };
    private readonly Option<string?> _store = new("--store") { Description = "blob cache directory (default /var/lib/cnr/blobs as root, else $XDG_CACHE_HOME/cnr/blobs)" };

    public static PullOptionsFlags AddTo(Command cmd)
    {
        var f = new PullOptionsFlags();
        cmd.Options.Add(f._platform);
        cmd.Options.Add(f._plainHttp);
        cmd.Options.Add(f._tlsVerify);
        cmd.Options.Add(f._store);
        return f;
    }

    public PullOptions Read(ParseResult r) => new()
    {
        Platform = r.GetValue(_platform) is { } p ? Platforms.Parse(p) : Platforms.Host,
        PlainHttp = r.GetValue(_plainHttp),
        TlsVerify = r.GetValue(_tlsVerify),
        Store = r.GetValue(_store) ?? PullOptions.DefaultStore,
    };
}
