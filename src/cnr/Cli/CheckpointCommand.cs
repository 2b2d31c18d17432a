using System.CommandLine;
using Cnr.Checkpoint;

namespace Cnr.Cli;

/// <summary>`cnr checkpoint [flags] ID`: runc's flags, CRIU through its RPC (src/Cnr.Runtime/Checkpoint).</summary>
internal static class CheckpointCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var f = new CriuFlagSet();
        var parent = new Option<string?>("--parent-path") { Description = "path for previous criu image files in pre-dump (relative to --image-path)" };
        var leave = new Option<bool>("--leave-running") { Description = "leave the process running after checkpointing" };
        var preDump = new Option<bool>("--pre-dump") { Description = "dump container's memory information only, leave the container running after this" };
        var dedup = new Option<bool>("--auto-dedup") { Description = "enable auto deduplication of memory images" };
        var cmd = new Command("checkpoint", "checkpoint a running container (with CRIU)") { id, parent, leave, preDump, dedup };
        f.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(f.Explain));
            var store = CommonOptions.Store(r);
            var (record, lk) = store.Open(r.GetValue(id)!);
            using (lk)
                ContainerCheckpoint.Checkpoint(store, record, new CheckpointOptions
                {
                    ImagePath = f.ImagePath(r),
                    WorkPath = r.GetValue(f.WorkPath),
                    ParentPath = r.GetValue(parent),
                    LeaveRunning = r.GetValue(leave),
                    PreDump = r.GetValue(preDump),
                    AutoDedup = r.GetValue(dedup),
                    TcpEstablished = r.GetValue(f.Tcp),
                    ExtUnixSk = r.GetValue(f.ExtUnix),
                    ShellJob = r.GetValue(f.ShellJob),
                    FileLocks = r.GetValue(f.FileLocks),
                    LazyPages = r.GetValue(f.LazyPages),
                    ManageCgroupsMode = r.GetValue(f.CgroupsMode),
                    EmptyNs = r.GetValue(f.EmptyNs),
                });
            return 0;
        });
        return cmd;
    }
}

/// <summary>The flags `checkpoint` and `restore` share (runc's names and descriptions).</summary>
internal sealed class CriuFlagSet
{
    public readonly Option<string?> Image = new("--image-path") { Description = "path for saving criu image files (default: ./checkpoint)" };
    public readonly Option<string?> WorkPath = new("--work-path") { Description = "path for saving work files and logs (default: the image path)" };
    public readonly Option<bool> Tcp = new("--tcp-established") { Description = "allow open tcp connections" };
    public readonly Option<bool> ExtUnix = new("--ext-unix-sk") { Description = "allow external unix sockets" };
    public readonly Option<bool> ShellJob = new("--shell-job") { Description = "allow shell jobs" };
    public readonly Option<bool> FileLocks = new("--file-locks") { Description = "handle file locks, for safety" };
    public readonly Option<bool> LazyPages = new("--lazy-pages") { Description = "use userfaultfd to lazily restore memory pages" };
    public readonly Option<string?> CgroupsMode = new("--manage-cgroups-mode") { Description = "cgroups mode: soft|full|strict|ignore (default: soft)" };
    public readonly Option<string?> EmptyNs = new("--empty-ns") { Description = "create a namespace, but don't restore its properties (network)" };
    public readonly Option<bool> Explain = CommonOptions.Explain();

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Image, WorkPath, Tcp, ExtUnix, ShellJob, FileLocks, LazyPages, CgroupsMode, EmptyNs, Explain })
            cmd.Options.Add(o);
    }

    /// <summary>runc's default: ./checkpoint.</summary>
    public string ImagePath(ParseResult r) => r.GetValue(Image) is { Length: > 0 } p ? p : "checkpoint";
}
