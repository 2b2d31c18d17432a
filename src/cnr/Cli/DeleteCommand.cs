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
            // --force must finish: a lock held longer than this is broken (see ContainerLock.Take).
            TimeSpan? lockWait = r.GetValue(force) ? TimeSpan.FromSeconds(2) : null;
            try { (record, lk) = store.Open(r.GetValue(id)!, lockWait); }
            catch (ContainerNotFoundException)
            {
                // A directory without state.json: a create killed right after it claimed the id.
                if (store.RemoveIncomplete(r.GetValue(id)!, lockWait) || r.GetValue(force)) return 0;
                throw;
            }
            using (lk) ContainerDelete.Delete(store, record, r.GetValue(force));
            return 0;
        });
        return cmd;
    }
}
