using System.CommandLine;
using Cnr.Container;

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
            var store = CommonOptions.Store(r);
            var (record, lk) = store.Open(r.GetValue(id)!);
            using (lk) ContainerStart.Start(store, record);
            return 0;
        });
        return cmd;
    }
}
