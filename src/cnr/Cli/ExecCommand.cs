using System.CommandLine;
using System.Text.Json;
using Cnr.Capabilities;
using Cnr.Container;
using Cnr.Spec;

namespace Cnr.Cli;

/// <summary>`cnr exec [--process FILE | flags] ID [COMMAND ARGS…]`.</summary>
internal static class ExecCommand
{
    /// <summary>runc's callers (containerd's shim, Podman's conmon) take 255 as "exec itself failed", any
    /// other status as the process's own.</summary>
    public const int ExecFailed = 255;

    public static Command Create()
    {
        var id = CommonOptions.Id();
        var command = new Argument<string[]>("command") { Description = "the command and its arguments", Arity = ArgumentArity.ZeroOrMore };
        var processFile = new Option<string?>("--process", "-p") { Description = "path to a process.json" };
        var tty = new Option<bool>("--tty", "-t") { Description = "allocate a pseudo-TTY" };
        var console = CommonOptions.ConsoleSocket();
        var detach = CommonOptions.Detach();
        var pidFile = CommonOptions.PidFile();
        var cwd = new Option<string?>("--cwd") { Description = "current working directory in the container" };
        var env = new Option<string[]>("--env", "-e") { Description = "set environment variables (K=V)", AllowMultipleArgumentsPerToken = false };
        var user = new Option<string?>("--user", "-u") { Description = "UID[:GID]" };
        var groups = new Option<string[]>("--additional-gids", "-g") { Description = "additional gids" };
        groups.Validators.Add(r =>
        {
            foreach (var t in r.Tokens)
                if (!uint.TryParse(t.Value, out _)) r.AddError(FlagValues.Error("--additional-gids", t.Value, "a group id (a number)"));
        });
        var caps = new Option<string[]>("--cap", "-c") { Description = "add a capability to the bounding set" };
        var noNewPrivs = new Option<bool>("--no-new-privs") { Description = "set the no new privileges value for the process" };
        var preserve = CommonOptions.PreserveFds();
        var label = new Option<string?>("--process-label") { Description = "set the SELinux label for the process (where SELinux is enabled)" };
        var apparmor = new Option<string?>("--apparmor") { Description = "set the AppArmor profile for the process (where AppArmor is enabled)" };
        var ignorePaused = new Option<bool>("--ignore-paused") { Description = "allow exec in a paused container (the process starts when the container is resumed)" };
        var cgroupOpt = new Option<string[]>("--cgroup") { Description = "run the process in a sub-cgroup of the container's: PATH, or CONTROLLER[,CONTROLLER]:PATH (cgroup v2 has one path for all)", AllowMultipleArgumentsPerToken = false };
        var explain = CommonOptions.Explain();
        var cmd = new Command("exec", "execute new process inside the container")
        {
            id, command, processFile, tty, console, detach, pidFile, cwd, env, user, groups, caps, noNewPrivs, preserve,
            label, apparmor, ignorePaused, cgroupOpt, explain,
        };
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            var store = CommonOptions.Store(r);
            var (record, lk) = store.Open(r.GetValue(id)!);
            Spec.Process process;
            using (lk)
            {
                if (r.GetValue(processFile) is { } file)
                {
                    try { process = JsonSerializer.Deserialize(File.ReadAllBytes(file), SpecJson.Default.Process) ?? throw new InvalidDataException("empty"); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
                    { throw new InvalidOperationException($"--process {file}: cannot read process.json: {e.Message}"); }
                }
                else
                {
                    var args = r.GetValue(command) ?? [];
                    if (args.Length == 0) throw new UsageException("exec: a command is required (cnr exec ID COMMAND [ARGS…]) or --process FILE");
                    process = FromConfig(store.LoadConfig(record).Process!, args);
                    process.Terminal = r.GetValue(tty);
                    if (r.GetValue(cwd) is { } c) process.Cwd = c;
                    process.Env = [.. process.Env ?? [], .. r.GetValue(env) ?? []];
                    if (r.GetValue(user) is { } u) process.User = ParseUser(u, process.User);
                    if (r.GetValue(groups) is { Length: > 0 } g) process.User.AdditionalGids = [.. g.Select(uint.Parse)];
                    if (r.GetValue(noNewPrivs)) process.NoNewPrivileges = true;
                    if (r.GetValue(apparmor) is { Length: > 0 } profile) process.ApparmorProfile = profile;
                    if (r.GetValue(label) is { Length: > 0 } selinux) process.SelinuxLabel = selinux;
                    foreach (var cap in r.GetValue(caps) ?? [])
                    {
                        var name = cap.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? cap.ToUpperInvariant() : "CAP_" + cap.ToUpperInvariant();
                        if (!CapabilityTable.TryParse(name, out _)) throw new UsageException($"--cap: \"{cap}\" is not a capability");
                        process.Capabilities ??= new LinuxCapabilities();
                        foreach (var set in new[] { process.Capabilities.Bounding ??= [], process.Capabilities.Effective ??= [], process.Capabilities.Permitted ??= [] })
                            if (!set.Contains(name)) set.Add(name);
                    }
                }
            }
            return ContainerExec.Exec(store, record, new ExecOptions
            {
                Process = process,
                PidFile = CommonOptions.PidFilePath(r, pidFile),
                ConsoleSocket = r.GetValue(console),
                Detach = r.GetValue(detach),
                PreserveFds = r.GetValue(preserve),
                IgnorePaused = r.GetValue(ignorePaused),
                SubCgroup = SubCgroup(r.GetValue(cgroupOpt) ?? []),
            });
        }, failureStatus: ExecFailed, failurePrefix: "exec failed: ");
        return cmd;
    }

    /// <summary>As runc: the container's process is the template (env, cwd, user, capabilities, rlimits).</summary>
    private static Spec.Process FromConfig(Spec.Process p, string[] args) => new()
    {
        Args = [.. args],
        Env = p.Env is null ? null : [.. p.Env],
        Cwd = p.Cwd,
        User = new User { Uid = p.User.Uid, Gid = p.User.Gid, Umask = p.User.Umask, AdditionalGids = p.User.AdditionalGids },
        Capabilities = p.Capabilities is null ? null : new LinuxCapabilities
        {
            Bounding = p.Capabilities.Bounding?.ToList(), Effective = p.Capabilities.Effective?.ToList(),
            Inheritable = p.Capabilities.Inheritable?.ToList(), Permitted = p.Capabilities.Permitted?.ToList(),
            Ambient = p.Capabilities.Ambient?.ToList(),
        },
        Rlimits = p.Rlimits,
        NoNewPrivileges = p.NoNewPrivileges,
        ApparmorProfile = p.ApparmorProfile,
        SelinuxLabel = p.SelinuxLabel,
        OomScoreAdj = p.OomScoreAdj,
        ExecCPUAffinity = p.ExecCPUAffinity,
    };

    /// <summary>runc's --cgroup forms: one PATH, or any number of CONTROLLER[,CONTROLLER]:PATH. cgroup v2 has a
    /// single hierarchy, so every controller must name the same path.</summary>
    internal static string? SubCgroup(string[] values)
    {
        if (values.Length == 0) return null;
        var paths = new Dictionary<string, string>();
        foreach (var v in values)
        {
            var parts = v.Split(':');
            if (parts.Length > 2) throw new UsageException($"--cgroup: \"{v}\" is not PATH or CONTROLLER:PATH");
            if (parts.Length == 1)
            {
                if (values.Length != 1) throw new UsageException($"--cgroup: \"{v}\" needs a CONTROLLER: prefix when --cgroup is given more than once");
                paths[""] = v;
                continue;
            }
            foreach (var controller in parts[0].Split(','))
            {
                if (controller.Length == 0) throw new UsageException($"--cgroup: \"{v}\" has an empty controller name before ':'");
                if (!paths.TryAdd(controller, parts[1])) throw new UsageException($"--cgroup: controller {controller} is given more than once");
            }
        }
        var distinct = paths.Values.Distinct().ToList();
        if (distinct.Count > 1)
            throw new UsageException($"--cgroup: cnr uses cgroup v2, with one hierarchy for all controllers: give one path (got {string.Join(", ", distinct)})");
        if (distinct[0].Length == 0) throw new UsageException("--cgroup: the path is empty");
        return distinct[0];
    }

    private static User ParseUser(string s, User template)
    {
        var parts = s.Split(':');
        if (!uint.TryParse(parts[0], out var uid) || (parts.Length > 1 && !uint.TryParse(parts[1], out _)))
            throw new UsageException($"--user: \"{s}\" is not UID[:GID] (numbers)");
        return new User { Uid = uid, Gid = parts.Length > 1 ? uint.Parse(parts[1]) : template.Gid, Umask = template.Umask };
    }
}
