using System.CommandLine;
using Cnr.Container;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr delete [--force] ID`.</summary>
internal static class DeleteCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var force = new Option<bool>("--force", "-f") { Description = "forcibly delete the container if it is still running (uses SIGKILL)" };
        var cmd = new Command("delete", "delete any resources held by the container") { id, force };
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            ContainerRecord record;
            ContainerLock lk;
            try { (record, lk) = store.Open(r.GetValue(id)!); }
            catch (ContainerNotFoundException) when (r.GetValue(force))
            {
                store.RemoveIncomplete(r.GetValue(id)!);
                return 0;
            }
            using (lk) ContainerDelete.Delete(store, record, r.GetValue(force));
            return 0;
        });
        return cmd;
    }
}
