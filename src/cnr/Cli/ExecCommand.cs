using System.CommandLine;
using Cnr.Containers;

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
            return ContainerExec.Exec(CommonOptions.Store(r), r.GetValue(id)!, new ExecOptions
            {
                Process = new ExecProcessOptions
                {
                    ProcessFile = r.GetValue(processFile),
                    Args = r.GetValue(command) ?? [],
                    Tty = r.GetValue(tty),
                    Cwd = r.GetValue(cwd),
                    Env = r.GetValue(env) ?? [],
                    User = r.GetValue(user),
                    AdditionalGids = [.. (r.GetValue(groups) ?? []).Select(uint.Parse)],
                    Capabilities = r.GetValue(caps) ?? [],
                    NoNewPrivileges = r.GetValue(noNewPrivs),
                    ApparmorProfile = r.GetValue(apparmor),
                    SelinuxLabel = r.GetValue(label),
                },
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
}
