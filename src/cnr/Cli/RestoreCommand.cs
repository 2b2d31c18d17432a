using System.CommandLine;
using Cnr.Checkpoint;

namespace Cnr.Cli;

/// <summary>`cnr restore [flags] ID`: a new container from a checkpoint's images and a bundle (runc's flags).
/// In the foreground the exit status is the restored process's.</summary>
internal static class RestoreCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var f = new CriuFlagSet();
        var bundle = CommonOptions.Bundle();
        var detach = CommonOptions.Detach();
        var pidFile = CommonOptions.PidFile();
        var console = CommonOptions.ConsoleSocket();
        var noSubreaper = new Option<bool>("--no-subreaper") { Description = "disable the use of the subreaper used to reap reparented processes" };
        var noPivot = CommonOptions.NoPivot();
        var cmd = new Command("restore", "restore a container from a previous checkpoint (with CRIU)") { id, bundle, detach, pidFile, console, noSubreaper, noPivot };
        f.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(f.Explain));
            return ContainerRestore.Restore(new RestoreOptions
            {
                Id = r.GetValue(id)!,
                StateRoot = r.GetValue(GlobalOptions.Root)!,
                Bundle = r.GetValue(bundle)!,
                Detach = r.GetValue(detach),
                PidFile = CommonOptions.PidFilePath(r, pidFile),
                ConsoleSocket = r.GetValue(console),
                NoSubreaper = r.GetValue(noSubreaper),
                NoPivot = r.GetValue(noPivot),
                SystemdCgroup = r.GetValue(GlobalOptions.SystemdCgroup),
                ImagePath = f.ImagePath(r),
                WorkPath = r.GetValue(f.WorkPath),
                TcpEstablished = r.GetValue(f.Tcp),
                ExtUnixSk = r.GetValue(f.ExtUnix),
                ShellJob = r.GetValue(f.ShellJob),
                FileLocks = r.GetValue(f.FileLocks),
                LazyPages = r.GetValue(f.LazyPages),
                ManageCgroupsMode = r.GetValue(f.CgroupsMode),
                EmptyNs = r.GetValue(f.EmptyNs),
            });
        });
        return cmd;
    }
}
