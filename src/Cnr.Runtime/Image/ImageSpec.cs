using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Image;

/// <summary>The bundle's config.json: cnr's default spec (the one `cnr spec` writes) with the image's
/// execution parameters applied, as docker and podman apply them: Env, Entrypoint+Cmd, WorkingDir, User.</summary>
public static class ImageSpec
{
    /// <summary>The image reference the bundle was made from (OCI image-spec annotation).</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    /// <summary>The digest that reference resolved to: the manifest or index (registry, OCI layout), the image
    /// config (docker-archive), or the tarball itself (rootfs tarball).</summary>
    public const string DigestAnnotation = "io.github.cnr.image.digest";

    private const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <param name="rootfs">an open O_PATH fd of the unpacked rootfs, for /etc/passwd and /etc/group.</param>
    public static RuntimeSpec Create(ResolvedImage image, SafeFd rootfs, bool rootless)
    {
        var spec = DefaultSpec.Create(rootless);
        var process = spec.Process!;
        process.Terminal = true;
        var config = image.Config;
        if (config is not null)
        {
            var env = new List<string>(config.Env ?? []);
            if (!env.Any(e => e.StartsWith("PATH=", StringComparison.Ordinal))) env.Insert(0, DefaultPath);
            if (!env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal))) env.Add("TERM=xterm");
            process.Env = env;
            List<string> args = [.. config.Entrypoint ?? [], .. config.Cmd ?? []];
            if (args.Count > 0) process.Args = args;
            if (config.WorkingDir is { Length: > 0 } cwd) process.Cwd = cwd.StartsWith('/') ? cwd : "/" + cwd;
            if (config.User is { Length: > 0 } user) process.User = Users.Resolve(user, rootfs, image.Name);
        }
        spec.Annotations ??= [];
        spec.Annotations[RefNameAnnotation] = image.Name;
        spec.Annotations[DigestAnnotation] = image.Digest;
        return spec;
    }
}

/// <summary>The image config's User ("name", "uid", "name:group", "uid:gid") as numeric ids, names looked up in
/// the rootfs's /etc/passwd and /etc/group (read inside the rootfs: a symlinked /etc/passwd cannot point at the host's).</summary>
public static class Users
{
    public static User Resolve(string user, SafeFd rootfs, string image)
        => Resolve(user, ReadInRoot(rootfs, "etc/passwd"), ReadInRoot(rootfs, "etc/group"), image);

    public static User Resolve(string user, string? passwd, string? group, string image)
    {
        var colon = user.IndexOf(':');
        var userPart = colon < 0 ? user : user[..colon];
        var groupPart = colon < 0 ? null : user[(colon + 1)..];
        var passwdEntries = Entries(passwd);
        var groupEntries = Entries(group);

        string[]? pw = uint.TryParse(userPart, out var uid)
            ? passwdEntries.FirstOrDefault(f => f.Length > 3 && f[2] == userPart)
            : passwdEntries.FirstOrDefault(f => f.Length > 3 && f[0] == userPart)
              ?? throw new ImageException($"{image}: the image's User \"{user}\": no user \"{userPart}\" in the rootfs's /etc/passwd");
        if (pw is not null && !uint.TryParse(userPart, out _) && !uint.TryParse(pw[2], out uid))
            throw new ImageException($"{image}: /etc/passwd: user \"{userPart}\" has a bad uid \"{pw[2]}\"");

        uint gid = 0;
        if (groupPart is { Length: > 0 })
        {
            if (!uint.TryParse(groupPart, out gid))
            {
                var gr = groupEntries.FirstOrDefault(f => f.Length > 2 && f[0] == groupPart)
                    ?? throw new ImageException($"{image}: the image's User \"{user}\": no group \"{groupPart}\" in the rootfs's /etc/group");
                if (!uint.TryParse(gr[2], out gid)) throw new ImageException($"{image}: /etc/group: group \"{groupPart}\" has a bad gid \"{gr[2]}\"");
            }
        }
        else if (pw is not null && !uint.TryParse(pw[3], out gid))
            throw new ImageException($"{image}: /etc/passwd: user \"{userPart}\" has a bad gid \"{pw[3]}\"");

        // Supplementary groups as docker sets them: every group that lists the user by name.
        var additional = pw is null ? [] : groupEntries
            .Where(f => f.Length > 3 && f[3].Split(',').Contains(pw[0]) && uint.TryParse(f[2], out var g) && g != gid)
            .Select(f => uint.Parse(f[2])).Distinct().ToList();
        return new User { Uid = uid, Gid = gid, AdditionalGids = additional.Count > 0 ? additional : null };
    }

    private static List<string[]> Entries(string? file)
        => file is null ? [] : file.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(':')).ToList();

    private static string? ReadInRoot(SafeFd rootfs, string path)
    {
        var fd = Libc.openat2(rootfs, path, Libc.O_RDONLY | Libc.O_CLOEXEC, Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS);
        if (fd.IsInvalid) return null;
        using var file = fd.ToStream(FileAccess.Read);
        using var reader = new StreamReader(file);
        return reader.ReadToEnd();
    }
}
