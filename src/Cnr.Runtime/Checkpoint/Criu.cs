using Cnr.Checkpoint.Rpc;
using Cnr.Linux;
using Cnr.Namespaces;
using Cnr.Process;

namespace Cnr.Checkpoint;

/// <summary>CRIU the way runc drives it: `criu swrk 3`, one criu_req / criu_resp per datagram over a
/// SOCK_SEQPACKET socketpair (CRIU's RPC, rpc.proto), with CRIU's notify callbacks answered on the way.
/// CRIU opens images_dir_fd and work_dir_fd as /proc/(our pid)/fd/N, so those stay with cnr; the fds CRIU must
/// itself hold (inherit_fd: the restored process's pipes, a joined namespace) are its 0-2 and 4….</summary>
internal sealed class Criu : IDisposable
{
    /// <summary>runc 1.1 asks for 3.0; cnr's containers use cgroup v2 only, which CRIU freezes from 3.14.</summary>
    public const int MinVersion = 31400;

    private readonly SyncSocket _socket;
    public int Pid { get; }
    public string LogPath { get; }

    private Criu(SyncSocket socket, int pid, string logPath) => (_socket, Pid, LogPath) = (socket, pid, logPath);

    /// <summary>CRIU's path once it is there, new enough and its own `criu check` passes; else one line saying
    /// which, for <paramref name="verb"/>, before anything is touched.</summary>
    public static string Require(string verb)
    {
        var path = IdMaps.FindHelper("criu")
            ?? throw new InvalidOperationException($"{verb}: CRIU is not installed (no criu on PATH): install Debian's criu package (apt-get install criu)");
        var answer = Sys.RunProgram(path, ["--version"]);
        var version = ParseVersion(answer.Output);
        if (answer.Status != 0 || version is null)
            throw new InvalidOperationException($"{verb}: {path} --version did not report a CRIU version ({FirstLine(answer.Output)})");
        if (version < MinVersion)
            throw new InvalidOperationException($"{verb}: CRIU {FormatVersion(version.Value)} is too old: cnr needs CRIU {FormatVersion(MinVersion)} or newer (Debian 12's criu package has 3.17)");
        var check = Sys.CriuCheck(path);
        if (check.Status != 0)
            throw new InvalidOperationException($"{verb}: CRIU cannot work on this host: `criu check` fails: {CheckError(check.Output)}");
        return path;
    }

    /// <summary>"Version: 3.17.1" → 31701 (major·10000 + minor·100 + sublevel, as runc compares).</summary>
    internal static int? ParseVersion(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            if (!line.StartsWith("Version:", StringComparison.Ordinal)) continue;
            var parts = line["Version:".Length..].Trim().Split('.');
            if (parts.Length < 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out int minor)) return null;
            int sub = parts.Length > 2 && int.TryParse(parts[2], out int s) ? s : 0;
            return major * 10000 + minor * 100 + sub;
        }
        return null;
    }

    private static string FormatVersion(int v) => $"{v / 10000}.{v / 100 % 100}.{v % 100}";

    /// <summary>The first "Error (file:line): what" of CRIU's output, as "what"; else its first line.</summary>
    internal static string CheckError(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            int i = line.IndexOf("Error (", StringComparison.Ordinal);
            if (i < 0) continue;
            int close = line.IndexOf("): ", i, StringComparison.Ordinal);
            return close < 0 ? line[i..].Trim() : line[(close + 3)..].Trim();
        }
        return FirstLine(output);
    }

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "no output";

    /// <summary>Starts `criu swrk 3`; <paramref name="extraFds"/> become its fds 4, 5, … (for inherit_fd).
    /// <paramref name="logPath"/> is where CRIU's log will be (work dir + log_file), for errors.</summary>
    public static Criu Start(string criuPath, IReadOnlyList<SafeFd> extraFds, string logPath)
    {
        var (parent, child) = SyncSocket.CreatePair();
        using (child)
        {
            // Sources are moved above every target first, so that no dup2 overwrites a later source.
            var sources = new List<SafeFd>();
            try
            {
                foreach (var fd in extraFds.Prepend(child.Handle))
                    sources.Add(SafeFd.Check(Libc.DupCloexec(fd, 64), "fcntl", "F_DUPFD_CLOEXEC"));
                int pid = Sys.SpawnCriuService(criuPath, sources);
                return new Criu(parent, pid, logPath);
            }
            catch
            {
                parent.Dispose();
                throw;
            }
            finally
            {
                foreach (var s in sources) s.Dispose();
            }
        }
    }


    /// <summary>Sends <paramref name="request"/> and answers CRIU's notifications with
    /// <paramref name="onNotify"/> (script name, pid, the fd that came with it) until the final response; a
    /// failed request becomes one line with CRIU's own error and its log's path.</summary>
    public criu_resp Call(criu_req request, Action<string, int, SafeFd?>? onNotify = null)
    {
        Sys.SendCriuRequest(_socket, request);
        while (true)
        {
            var data = _socket.ReceiveRaw(out var fd);
            if (data is null)
                throw new InvalidOperationException($"CRIU {request.Type.ToString().ToLowerInvariant()} failed: criu exited without an answer{LogHint()}");
            criu_resp resp;
            using (fd)
            {
                resp = criu_resp.Parser.ParseFrom(data);
                if (resp.Type != criu_req_type.Notify)
                {
                    if (!resp.Success)
                        throw new InvalidOperationException($"CRIU {request.Type.ToString().ToLowerInvariant()} failed: {Failure(resp)}{LogHint()}");
                    return resp;
                }
                var script = resp.Notify?.Script ?? "";
                int pid = resp.Notify?.Pid ?? 0;
                Sys.AnswerCriuNotify(_socket, script, pid, () => onNotify?.Invoke(script, pid, fd));
            }
        }
    }

    private string Failure(criu_resp resp)
    {
        // The log names the cause; cr_errmsg is often only the request type and errno.
        if (FirstLogError() is { } fromLog) return fromLog;
        if (resp.HasCrErrmsg && resp.CrErrmsg.Length > 0) return resp.CrErrmsg;
        return resp.HasCrErrno && resp.CrErrno != 0 ? $"{Errno.Name((Error)resp.CrErrno)} ({Errno.Describe((Error)resp.CrErrno)})" : "no reason given";
    }

    /// <summary>The first "Error (…): what" of CRIU's log: the cause, before the errors that follow from it.</summary>
    private string? FirstLogError()
    {
        try
        {
            if (!File.Exists(LogPath)) return null;
            var error = CheckError(File.ReadAllText(LogPath));
            return error == "no output" ? null : error;
        }
        catch (IOException) { return null; }
    }

    private string LogHint() => File.Exists(LogPath) ? $" (CRIU's log: {LogPath})" : "";

    /// <summary>Reaps criu swrk (it exits once it answered).</summary>
    public void Dispose()
    {
        _socket.Dispose();
        while (Libc.waitpid(Pid, out _, 0) < 0 && Errno.Last == Error.EINTR) { }
    }
}
