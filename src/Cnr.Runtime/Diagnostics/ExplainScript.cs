using System.Text;

namespace Cnr.Diagnostics;

/// <summary>`cnr run --explain-script FILE`: the steps of one run, written as a bash script that builds the same
/// container with util-linux tools (unshare, mount, pivot_root, setpriv, prlimit, hostname…), each step under
/// a comment with the call cnr made. Written when the container's execve is reported, so that the file is
/// there while the container runs.</summary>
public sealed class ExplainScript(string path, string commandLine)
{
    private readonly List<Step> _steps = [];
    private bool _written;

    /// <summary>The host programs the steps after pivot_root run: they are copied before it (see <see cref="ToolsPreamble"/>).</summary>
    private static readonly string[] Tools = ["mount", "umount", "hostname", "domainname", "mkdir", "mknod", "ln", "prlimit", "sysctl", "setpriv", "env"];

    /// <summary>A step sink: collects, and writes the script at the container's own execve.</summary>
    public void Add(Step step)
    {
        _steps.Add(step);
        if (_written || !IsFinalExec(step)) return;
        _written = true;
        try { File.WriteAllText(path, Compose(_steps, commandLine)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warn($"--explain-script {path}: cannot write it: {e.Message}");
        }
    }

    private static bool IsFinalExec(Step s) => s.Mechanism == "exec" && s.Call.StartsWith("execve(", StringComparison.Ordinal);

    /// <summary>The script: a host part (the cgroup steps as comments, unshare), then the same file again inside
    /// the new namespaces, each step in cnr's order; the process attributes become one setpriv line.</summary>
    public static string Compose(IReadOnlyList<Step> steps, string commandLine)
    {
        var host = new StringBuilder();
        var inside = new StringBuilder();
        var setpriv = new List<string>();
        string? finalExec = null;
        bool pivoted = false;
        string? ptySlave = null;
        var sb = host;
        foreach (var s in steps)
        {
            var comment = $"# [{s.Mechanism}] {s.Call}";
            switch (s.Mechanism)
            {
                case "clone":
                    host.AppendLine(comment);
                    host.AppendLine("# Every following line runs in the new namespaces: this same file, again, as pid 1 of the new pid namespace.");
                    host.AppendLine(ReExecInside(s.Shell));
                    sb = inside;
                    continue;
                case "cgroup":
                    sb.AppendLine(comment);
                    if (s.Shell is not null) sb.AppendLine($"#   ≈ {s.Shell}   (left to cnr: nothing in this script would remove it again)");
                    else sb.AppendLine("#   no command-line equivalent: a BPF program attached to the cgroup (bpf(2))");
                    continue;
                case "seccomp":
                    sb.AppendLine(comment);
                    sb.AppendLine("#   no command-line equivalent: a BPF filter cnr builds with libseccomp; this script's process runs without it");
                    continue;
                case "hook":
                    sb.AppendLine(comment);
                    sb.AppendLine("#   this script runs no hooks: a hook gets the container's OCI state on stdin, from a runtime");
                    continue;
                case "terminal":
                    sb.AppendLine(comment);
                    sb.AppendLine("#   this script keeps the terminal it runs in: cnr made a new pseudo-terminal for the container");
                    if (s.Call.IndexOf("slave ", StringComparison.Ordinal) is >= 0 and var at) ptySlave = s.Call[(at + 6)..].Trim();
                    continue;
                case "exec" when IsFinalExec(s):
                    sb.AppendLine(comment);
                    finalExec = s.Shell;
                    continue;
                case "exec":
                    // cnr re-executing itself as the init, or its PATH lookup: execve below does its own.
                    sb.AppendLine(comment);
                    continue;
                case "capabilities" or "user" or "no_new_privs" when s.Shell?.StartsWith("setpriv ", StringComparison.Ordinal) == true:
                    sb.AppendLine(comment);
                    sb.AppendLine("#   setpriv " + s.Shell["setpriv ".Length..].TrimEnd('-', ' ') + "   (one setpriv, last line)");
                    setpriv.Add(s.Shell["setpriv ".Length..].TrimEnd('-', ' '));
                    continue;
                case "capabilities" when s.Shell?.StartsWith("capsh --caps=\"", StringComparison.Ordinal) == true:
                    // capset: setpriv sets the inheritable set; effective and permitted are what execve gives.
                    sb.AppendLine(comment);
                    var inheritable = s.Shell["capsh --caps=\"".Length..].Split('"')[0].Split(' ')
                        .Where(g => g.Split('+') is [_, var flags] && flags.Contains('i'))
                        .SelectMany(g => g.Split('+')[0].Split(','))
                        .Select(n => n.StartsWith("cap_", StringComparison.Ordinal) ? n[4..] : n);
                    var inh = "--inh-caps=-all" + string.Concat(inheritable.Select(n => ",+" + n));
                    sb.AppendLine($"#   setpriv {inh}   (one setpriv, last line; effective and permitted have no setpriv option:");
                    sb.AppendLine("#   execve gives root its bounding set, and any other user its ambient set)");
                    setpriv.Add(inh);
                    continue;
                case "mount" when ptySlave is not null && s.Shell?.StartsWith($"mount --bind {ptySlave} ", StringComparison.Ordinal) == true:
                    sb.AppendLine(comment);
                    sb.AppendLine("#   the console is cnr's pseudo-terminal: this script has none");
                    continue;
                case "pivot_root" when !pivoted && s.Shell?.StartsWith("pivot_root", StringComparison.Ordinal) == true:
                    sb.Append(ToolsPreamble());
                    sb.AppendLine(comment);
                    sb.AppendLine(s.Shell);
                    sb.Append(ToolFunctions());
                    pivoted = true;
                    continue;
            }
            sb.AppendLine(comment);
            sb.AppendLine(s.Shell ?? (s.Mechanism is "user" or "capabilities" ? "#   (the setpriv line at the end does this)" : "#   (no command-line equivalent)"));
        }

        var script = new StringBuilder();
        script.AppendLine("#!/bin/bash");
        script.AppendLine($"# Written by `{commandLine}`: the same container, built step by step with util-linux tools.");
        script.AppendLine("# Each step is cnr's kernel call (the comment) and the command that makes it. Run it as root, beside the");
        script.AppendLine("# container cnr made, and compare: grep Cap /proc/self/status, id, hostname, cat /proc/self/mountinfo,");
        script.AppendLine("# ls -l /proc/self/ns, cat /proc/self/limits.");
        script.AppendLine("set -euo pipefail");
        script.AppendLine("if [[ ${1-} != --inside ]]; then");
        script.AppendLine("(( EUID == 0 )) || { echo \"$0: run it as root\" >&2; exit 1; }");
        script.Append(host);
        script.AppendLine("fi");
        script.Append(inside);
        if (finalExec is not null)
        {
            script.AppendLine("# The process attributes in one exec chain: setpriv (bounding set, ids, inheritable set, no_new_privs), then env");
            script.AppendLine("# (the environment, nothing else) and the container's program, found in its own PATH.");
            script.AppendLine("# fd 3 (the tools' tmpfs) stays open in the process: cnr closes every fd above 2.");
            var program = finalExec.StartsWith("exec ", StringComparison.Ordinal) ? finalExec[5..] : finalExec;
            if (program.StartsWith("env ", StringComparison.Ordinal)) program = "\"${host[@]}\" /proc/self/fd/3/" + program;
            script.AppendLine(setpriv.Count > 0
                ? $"exec \"${{host[@]}}\" /proc/self/fd/3/setpriv {string.Join(' ', setpriv)} -- {program}"
                : $"exec {program}");
        }
        return script.ToString();
    }

    /// <summary>The host part's last line: this file again, --inside, in the clone step's namespaces. unshare's
    /// --propagation unchanged leaves the new mount namespace's propagation to the steps, as cnr does; nsenter alone
    /// (every namespace joined) has no such option, and with neither the file runs again where it is.</summary>
    internal static string ReExecInside(string? namespacesShell) => namespacesShell switch
    {
        null => "exec \"$BASH\" \"$0\" --inside",
        var s when s.StartsWith("unshare ", StringComparison.Ordinal) || s.Contains(" unshare ", StringComparison.Ordinal)
            => $"exec {s} --propagation unchanged -- \"$BASH\" \"$0\" --inside",
        var s => $"exec {s} -- \"$BASH\" \"$0\" --inside",
    };

    /// <summary>After pivot_root the host's programs are out of reach, and the steps after it need some (mount,
    /// hostname, setpriv…): copies of them and of their libraries go into a tmpfs that no path reaches, open as fd 3.</summary>
    private static string ToolsPreamble()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Before pivot_root: the steps after it run host programs (mount, hostname, setpriv…), which pivot_root puts out");
        sb.AppendLine("# of reach. Copies of them and of their libraries go into a tmpfs of this mount namespace that no path reaches,");
        sb.AppendLine("# only fd 3; each then runs through the dynamic loader there. (cnr is one program, loaded before pivot_root.)");
        sb.AppendLine("tools=$(mktemp -d /tmp/cnr-tools.XXXXXX)");
        sb.AppendLine("mount -t tmpfs -o mode=0700 cnr-tools \"$tools\"");
        sb.AppendLine($"for p in {string.Join(' ', Tools)}; do");
        sb.AppendLine("    p=$(command -v \"$p\") || continue");
        sb.AppendLine("    cp \"$p\" \"$tools/\"");
        sb.AppendLine("    ldd \"$p\" | awk '$2 == \"=>\" && $3 ~ /^\\// { print $3 } $1 ~ /^\\// { print $1 }' | xargs -r cp -n -t \"$tools/\"");
        sb.AppendLine("done");
        sb.AppendLine("cp \"$(ldd \"$(command -v mount)\" | awk '$1 ~ /^\\/.*ld-linux/ { print $1 }')\" \"$tools/ld.so\"");
        sb.AppendLine("exec 3<\"$tools\"");
        sb.AppendLine("umount -l \"$tools\"");
        sb.AppendLine("rmdir \"$tools\"");
        sb.AppendLine("host=(/proc/self/fd/3/ld.so --library-path /proc/self/fd/3)");
        return sb.ToString();
    }

    private static string ToolFunctions()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# From here on \"/\" is the container's: the host's programs are the copies behind fd 3.");
        foreach (var tool in Tools.Where(t => t is not ("setpriv" or "env")))
            sb.AppendLine($"{tool}() {{ \"${{host[@]}}\" /proc/self/fd/3/{tool} \"$@\"; }}");
        return sb.ToString();
    }
}
