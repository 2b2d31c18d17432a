using Cnr.Image;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Image;

/// <summary>Layers made by GNU tar (and, for the malicious ones, Python's tarfile) unpacked by the library and
/// checked with stat(1): what a rootfs must keep, whiteouts across layers, and entries that try to escape.</summary>
public sealed class TarExtractorTests
{
    private static string Stat(string format, string path) => ImageTools.Must("stat", "-c", format, path).Stdout.Trim();

    private static void Unpack(string rootfs, params string[] layers)
    {
        using var x = new TarExtractor(rootfs);
        for (var i = 0; i < layers.Length; i++)
        {
            using var tar = Compression.OpenDecompressed(layers[i]);
            x.Apply(tar, $"layer {i + 1}");
        }
    }

    private static string Tar(string dir, string output, params string[] extra)
    {
        ImageTools.Must("tar", [.. extra, "--numeric-owner", "-C", dir, "-cf", output, "."]);
        return output;
    }

    /// <summary>Runs a Python script that writes a crafted tarball (GNU tar will not write these).</summary>
    private static string Craft(string output, string body)
    {
        ImageTools.Must("python3", "-c", "import io, tarfile, time\n" + $"t = tarfile.open({Py(output)}, 'w')\n" + """
def add(name, type=tarfile.REGTYPE, data=b'', link=''):
    i = tarfile.TarInfo(name); i.type = type; i.size = len(data); i.linkname = link; i.mode = 0o644; i.mtime = time.time()
    t.addfile(i, io.BytesIO(data) if data else None)

""" + body + "\nt.close()\n");
        return output;
    }

    private static string Py(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    [Fact]
    public void Unpack_GnuTarLayer_KeepsTypesModesOwnersTimesAndLinks()
    {
        using var s = new Scratch();
        var src = Directory.CreateDirectory(s["src"]).FullName;
        var sh = $"""
            cd {src} && mkdir -p bin etc tmp dev && echo data > bin/tool && chmod 4755 bin/tool && ln bin/tool bin/hard &&
            ln -s /etc/abs etc/abs-link && ln -s ../bin/tool etc/rel-link && chmod 1777 tmp && mkfifo dev/fifo &&
            echo g > etc/sgid && (chown 1234:5678 etc/sgid || true) && chmod 2750 etc/sgid &&
            touch -h -d '2001-02-03 04:05:06' etc/rel-link etc/sgid && (mknod dev/null c 1 3 || true) && touch -d '2002-01-01' etc
            """;
        ImageTools.Must("sh", "-c", sh);
        var root = s["rootfs"];

        Unpack(root, Tar(src, s["l.tar"]));

        Assert.Equal("regular file 4755 data", Stat("%F %a", $"{root}/bin/tool") + " " + File.ReadAllText($"{root}/bin/tool").Trim());
        Assert.Equal(Stat("%i", $"{root}/bin/tool"), Stat("%i", $"{root}/bin/hard"));
        Assert.Equal("/etc/abs", new FileInfo($"{root}/etc/abs-link").LinkTarget);
        Assert.Equal("../bin/tool", new FileInfo($"{root}/etc/rel-link").LinkTarget);
        Assert.Equal("directory 1777", Stat("%F %a", $"{root}/tmp"));
        Assert.Equal("fifo", Stat("%F", $"{root}/dev/fifo"));
        Assert.Equal("2750", Stat("%a", $"{root}/etc/sgid"));
        Assert.Equal(Stat("%Y", $"{src}/etc/rel-link"), Stat("%Y", $"{root}/etc/rel-link"));
        Assert.Equal(Stat("%Y", $"{src}/etc/sgid"), Stat("%Y", $"{root}/etc/sgid"));
        Assert.Equal(Stat("%Y", $"{src}/etc"), Stat("%Y", $"{root}/etc"));
        if (Host.IsRoot)
        {
            Assert.Equal("character special file 1,3", Stat("%F %t,%T", $"{root}/dev/null"));
            Assert.Equal("1234:5678", Stat("%u:%g", $"{root}/etc/sgid"));
        }
    }

    /// <summary>A fact that needs user.* xattrs on the scratch filesystem; skipped, saying so, where it has none.</summary>
    public sealed class UserXattrFactAttribute : FactAttribute
    {
        public UserXattrFactAttribute()
        {
            using var s = new Scratch();
            File.WriteAllText(s["probe"], "");
            var r = Harness.Cnr.Exec("python3", ["-c", $"import os; os.setxattr({Py(s["probe"])}, 'user.cnr', b'probe')"]);
            if (r.ExitCode != 0) Skip = $"the scratch filesystem ({Repo.Scratch}) takes no user.* xattrs: {r.Stderr.Trim().Split('\n')[^1]}";
        }
    }

    [UserXattrFact]
    public void Unpack_PaxXattrs_AreRestored()
    {
        using var s = new Scratch();
        var src = Directory.CreateDirectory(s["src"]).FullName;
        File.WriteAllText($"{src}/f", "x");
        ImageTools.Must("python3", "-c", $"import os; os.setxattr({Py(src + "/f")}, 'user.cnr', b'hello')");
        var root = s["rootfs"];

        Unpack(root, Tar(src, s["l.tar"], "--xattrs", "--xattrs-include=user.*"));

        Assert.Equal("b'hello'", ImageTools.Must("python3", "-c", $"import os; print(os.getxattr({Py(root + "/f")}, 'user.cnr'))").Stdout.Trim());
    }

    [Fact]
    public void Unpack_SecondLayerWhiteouts_RemoveAndHideLowerContents()
    {
        using var s = new Scratch();
        ImageTools.Must("sh", "-c", $"""
            mkdir -p {s["l1"]}/a {s["l1"]}/d/q {s["l2"]}/a {s["l2"]}/d && cd {s["l1"]} && echo x > a/x && echo y > a/y && echo p > d/p && echo r > d/q/r &&
            echo old > gone && cd {s["l2"]} && touch a/.wh.x d/.wh..wh..opq .wh.gone && echo new > d/new
            """);
        var root = s["rootfs"];

        Unpack(root, Tar(s["l1"], s["1.tar"]), Tar(s["l2"], s["2.tar"], "--gzip"));

        Assert.False(File.Exists($"{root}/a/x"));
        Assert.True(File.Exists($"{root}/a/y"));
        Assert.False(File.Exists($"{root}/gone"));
        Assert.Equal(["new"], Directory.EnumerateFileSystemEntries($"{root}/d").Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root, ".wh.*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Unpack_FileUnderRelativeSymlink_LandsInsideTheRootfs()
    {
        using var s = new Scratch();
        var root = s["rootfs"];
        var tar = Craft(s["t.tar"], "add('usr/lib/x', data=b'1')\nadd('a/lib', tarfile.SYMTYPE, link='../usr/lib')\nadd('a/lib/new/deep/f', data=b'2')");

        Unpack(root, tar);

        Assert.Equal("2", File.ReadAllText($"{root}/usr/lib/new/deep/f"));
    }

    [Theory]
    [InlineData("dotdot", "add('../../../OUTSIDE', data=b'pwned')", "leads outside the rootfs")]
    [InlineData("absolute", "add('OUTSIDE_ABS', data=b'pwned')", "absolute path")]
    [InlineData("symlink", "add('esc', tarfile.SYMTYPE, link='OUTSIDE_DIR')\nadd('esc/pwned', data=b'pwned')", "symlink that leads outside")]
    [InlineData("relsymlink", "add('esc', tarfile.SYMTYPE, link='../../../../../../../../OUTSIDE_DIR')\nadd('esc/pwned', data=b'pwned')", "symlink that leads outside")]
    [InlineData("hardlink", "add('passwd', tarfile.LNKTYPE, link='/etc/passwd')", "hardlink to \"/etc/passwd\"")]
    [InlineData("hardlinkdotdot", "add('passwd', tarfile.LNKTYPE, link='../../../../../etc/passwd')", "outside the rootfs")]
    [InlineData("hardlinksymlink", "add('esc', tarfile.SYMTYPE, link='/etc')\nadd('passwd', tarfile.LNKTYPE, link='esc/passwd')", "symlink that leads outside")]
    public void Unpack_EntryEscapingTheRootfs_IsRefusedAndNothingIsWrittenOutside(string name, string entries, string error)
    {
        using var s = new Scratch();
        var outsideDir = Directory.CreateDirectory(s["outside"]).FullName;
        var root = Directory.CreateDirectory(s["deep/er/rootfs"]).FullName;
        var tar = Craft(s[name + ".tar"], entries
            .Replace("OUTSIDE_DIR", outsideDir)
            .Replace("OUTSIDE_ABS", outsideDir + "/abs")
            .Replace("../../../OUTSIDE", "../../../outside/dotdot"));

        var e = Assert.Throws<ImageException>(() => Unpack(root, tar));

        Assert.Contains(error, e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outsideDir));
        Assert.False(File.Exists(Path.Combine(root, "passwd")));
    }

    [ImageFact]
    public void BundleCreate_FromMaliciousTarball_FailsAndLeavesNoBundle()
    {
        using var s = new Scratch();
        var outsideDir = Directory.CreateDirectory(s["outside"]).FullName;
        var tar = Craft(s["evil.tar"], $"add('ok', data=b'fine')\nadd('esc', tarfile.SYMTYPE, link='{outsideDir}')\nadd('esc/pwned', data=b'pwned')");

        var r = Harness.Cnr.Run(["bundle", "create", s["bundle"], "--from", tar]);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("\"esc/pwned\"", r.Stderr);
        Assert.False(Directory.Exists(s["bundle"]));
        Assert.Equal(["evil.tar", "outside"], Directory.EnumerateFileSystemEntries(s.Dir).Select(Path.GetFileName).Order());
        Assert.Empty(Directory.EnumerateFileSystemEntries(outsideDir));
    }
}
