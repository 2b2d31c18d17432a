using System.CommandLine;
using Cnr.Container;

namespace Cnr.Cli;

/// <summary>`cnr create --bundle DIR --pid-file F [--console-socket S] ID`: everything but the user's process.</summary>
internal static class CreateCommand
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
        var explain = CommonOptions.Explain();
        var cmd = new Command("create", "create a container (start runs its process)") { id, bundle, pidFile, console, noPivot, keyring, preserve, explain };
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            using var c = ContainerCreate.Create(new CreateOptions
            {
                Id = r.GetValue(id)!,
                Bundle = r.GetValue(bundle)!,
                StateRoot = r.GetValue(GlobalOptions.Root)!,
                PidFile = r.GetValue(pidFile),
                ConsoleSocket = r.GetValue(console),
                NoPivot = r.GetValue(noPivot),
                PreserveFds = r.GetValue(preserve),
            });
            return 0;
        });
        return cmd;
    }
}
