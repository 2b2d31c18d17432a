using System.CommandLine;
using Cnr.Containers;

namespace Cnr.Cli;

/// <summary>`cnr delete [--force] ID`.</summary>
internal static class DeleteCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var force = new Option<bool>("--force", "-f") { Description = "forcibly delete the container if it is still running (uses SIGKILL)" };
        var explain = CommonOptions.Explain();
        var cmd = new Command("delete", "delete any resources held by the container") { id, force, explain };
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            ContainerDelete.Delete(CommonOptions.Store(r), r.GetValue(id)!, r.GetValue(force));
            return 0;
        });
        return cmd;
    }
}
