using System.CommandLine;
using Cnr.Containers;

namespace Cnr.Cli;

/// <summary>`cnr start ID`: runs the process of a created container.</summary>
internal static class StartCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var cmd = new Command("start", "execute the user process of a created container") { id };
        Verbs.SetAction(cmd, r =>
        {
            ContainerStart.Start(CommonOptions.Store(r), r.GetValue(id)!);
            return 0;
        });
        return cmd;
    }
}
