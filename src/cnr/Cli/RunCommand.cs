using System.CommandLine;
using Cnr.Container;

namespace Cnr.Cli;

/// <summary>`cnr run [--bundle DIR] [--detach] [--pid-file F] [--console-socket S] [--no-pivot] ID`.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var bundle = CommonOptions.Bundle();
        var pidFile = CommonOptions.PidFile();
        var console = CommonOptions.ConsoleSocket();
        var noPivot = CommonOptions.NoPivot();
        var keyring = CommonOptions.NoNewKeyring();
        var preserve = CommonOptions.PreserveFds();
        var detach = CommonOptions.Detach();
        var explain = CommonOptions.Explain();
        var cmd = new Command("run", "create and run a container") { id, bundle, pidFile, console, noPivot, keyring, preserve, detach, explain };
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            bool d = r.GetValue(detach);
            return ContainerRun.Run(new CreateOptions
            {
                Id = r.GetValue(id)!,
                Bundle = r.GetValue(bundle)!,
                StateRoot = r.GetValue(GlobalOptions.Root)!,
                PidFile = r.GetValue(pidFile),
                ConsoleSocket = r.GetValue(console),
                NoPivot = r.GetValue(noPivot),
                PreserveFds = r.GetValue(preserve),
                Foreground = !d,
            }, d);
        });
        return cmd;
    }
}
