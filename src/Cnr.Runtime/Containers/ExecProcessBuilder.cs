using System.Text.Json;
using Cnr.Capabilities;
using Cnr.Spec;

namespace Cnr.Containers;

/// <summary>The flags of `cnr exec` that make its process, as the user gave them.</summary>
public sealed class ExecProcessOptions
{
    /// <summary>--process: a whole process.json; the flags below are then not looked at (as runc).</summary>
    public string? ProcessFile { get; init; }
    /// <summary>The command and its arguments.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];
    /// <summary>-t: a pty, whatever the container's process has.</summary>
    public bool Tty { get; init; }
    public string? Cwd { get; init; }
    /// <summary>-e NAME=VALUE, in order.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];
    /// <summary>-u UID[:GID].</summary>
    public string? User { get; init; }
    public IReadOnlyList<uint> AdditionalGids { get; init; } = [];
    /// <summary>--cap NAME, with or without CAP_, any case.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public bool NoNewPrivileges { get; init; }
    public string? ApparmorProfile { get; init; }
    public string? SelinuxLabel { get; init; }
}

/// <summary>The process `exec` runs: the container's own process as the template (env, cwd, user,
/// capabilities, rlimits, scheduling…), with the flags applied on a copy by runc's rules — the container's
/// config stays as it was loaded. Its validation is <see cref="Plan.PlanCompiler.Process"/>'s, as for create.</summary>
public static class ExecProcessBuilder
{
    public static Spec.Process Build(Spec.Process template, ExecProcessOptions o)
    {
        if (o.ProcessFile is { } file) return Read(file);
        if (o.Args.Count == 0) throw new InvalidOperationException("exec: a command is required (cnr exec ID COMMAND [ARGS…]) or --process FILE");
        var p = Copy(template);
        p.Args = [.. o.Args];
        p.Terminal = o.Tty;
        if (o.Cwd is { Length: > 0 } cwd) p.Cwd = cwd;
        if (o.Env.Count > 0) p.Env = MergeEnv(p.Env ?? [], o.Env);
        if (o.User is { } user) SetUser(p.User, user);
        foreach (var gid in o.AdditionalGids)
            if (!(p.User.AdditionalGids ??= []).Contains(gid)) p.User.AdditionalGids.Add(gid);
        foreach (var cap in o.Capabilities) AddCapability(p.Capabilities ??= new LinuxCapabilities(), cap);
        if (o.NoNewPrivileges) p.NoNewPrivileges = true;
        if (o.ApparmorProfile is { Length: > 0 } profile) p.ApparmorProfile = profile;
        if (o.SelinuxLabel is { Length: > 0 } label) p.SelinuxLabel = label;
        return p;
    }

    /// <summary>Bound field by field as config.json's "process" is (<see cref="SpecReader"/>): no System.Text.Json
    /// metadata on the exec path (containerd's shim always passes --process).</summary>
    private static Spec.Process Read(string file)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return SpecReader.ReadProcess(document.RootElement);
        }
        catch (SpecReader.TopLevelException e)
        { throw new InvalidOperationException($"--process {file}: cannot read process.json: it holds {e.Found}, not a JSON object"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or SpecException)
        { throw new InvalidOperationException($"--process {file}: cannot read process.json: {e.Message}"); }
    }

    /// <summary>A deep copy: every field, no object or list shared with the template.</summary>
    internal static Spec.Process Copy(Spec.Process t) => new()
    {
        Terminal = t.Terminal,
        ConsoleSize = t.ConsoleSize is { } box ? new Box { Height = box.Height, Width = box.Width } : null,
        User = new User
        {
            Uid = t.User.Uid, Gid = t.User.Gid, Umask = t.User.Umask, Username = t.User.Username,
            AdditionalGids = t.User.AdditionalGids is { } gids ? [.. gids] : null,
        },
        Args = t.Args is { } args ? [.. args] : null,
        CommandLine = t.CommandLine,
        Env = t.Env is { } env ? [.. env] : null,
        Cwd = t.Cwd,
        Capabilities = t.Capabilities is { } c ? new LinuxCapabilities
        {
            Bounding = Clone(c.Bounding), Effective = Clone(c.Effective), Inheritable = Clone(c.Inheritable),
            Permitted = Clone(c.Permitted), Ambient = Clone(c.Ambient),
        } : null,
        Rlimits = t.Rlimits?.Select(r => new PosixRlimit { Type = r.Type, Hard = r.Hard, Soft = r.Soft }).ToList(),
        NoNewPrivileges = t.NoNewPrivileges,
        ApparmorProfile = t.ApparmorProfile,
        OomScoreAdj = t.OomScoreAdj,
        Scheduler = t.Scheduler is { } s ? new Scheduler
        {
            Policy = s.Policy, Nice = s.Nice, Priority = s.Priority, Flags = Clone(s.Flags), Runtime = s.Runtime,
            Deadline = s.Deadline, Period = s.Period,
        } : null,
        SelinuxLabel = t.SelinuxLabel,
        IoPriority = t.IoPriority is { } io ? new IoPriority { Class = io.Class, Priority = io.Priority } : null,
        ExecCPUAffinity = t.ExecCPUAffinity is { } a ? new ExecCpuAffinity { Initial = a.Initial, Final = a.Final } : null,
    };

    private static List<string>? Clone(List<string>? list) => list is null ? null : [.. list];

    /// <summary>-e NAME=VALUE replaces the template's NAME where it has one (in its place), else is added: the
    /// process sees one value per name, the flag's (a duplicate would leave it to the program which one counts).</summary>
    private static List<string> MergeEnv(List<string> env, IReadOnlyList<string> added)
    {
        var merged = new List<string>(env);
        foreach (var entry in added)
        {
            int eq = entry.IndexOf('=');
            var prefix = eq > 0 ? entry[..(eq + 1)] : null;
            int at = prefix is null ? -1 : merged.FindIndex(e => e.StartsWith(prefix, StringComparison.Ordinal));
            if (at >= 0) merged[at] = entry;
            else merged.Add(entry);
        }
        return merged;
    }

    /// <summary>-u UID[:GID] changes only those: the gid stays the template's without ":GID", and the additional
    /// gids and umask stay (runc changes the template's user in place).</summary>
    private static void SetUser(User user, string value)
    {
        var parts = value.Split(':');
        if (parts.Length > 2 || !uint.TryParse(parts[0], out var uid) || (parts.Length > 1 && !uint.TryParse(parts[1], out _)))
            throw new InvalidOperationException($"--user: \"{value}\" is not UID[:GID] (numbers)");
        user.Uid = uid;
        if (parts.Length > 1) user.Gid = uint.Parse(parts[1]);
    }

    /// <summary>--cap adds to the bounding, effective and permitted sets, never the inheritable one (runc's fix
    /// for CVE-2022-29162: an exec'd program must not pass the capability on through execve).</summary>
    private static void AddCapability(LinuxCapabilities caps, string cap)
    {
        var name = cap.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? cap.ToUpperInvariant() : "CAP_" + cap.ToUpperInvariant();
        if (!CapabilityTable.TryParse(name, out _)) throw new InvalidOperationException($"--cap: \"{cap}\" is not a capability");
        foreach (var set in new[] { caps.Bounding ??= [], caps.Effective ??= [], caps.Permitted ??= [] })
            if (!set.Contains(name)) set.Add(name);
    }
}
