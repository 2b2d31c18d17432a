using System.CommandLine;
using System.Text.Json;
using Cnr.Container;
using Cnr.Spec;

namespace Cnr.Cli;

/// <summary>`cnr state ID`: the runtime-spec state JSON, status derived from the kernel.</summary>
internal static class StateCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var cmd = new Command("state", "output the state of a container") { id };
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            // Unlocked: `state` must answer while a create holds the lock (status "creating"), and never hang.
            var record = store.Read(r.GetValue(id)!);
            var state = store.ToState(record, store.StatusOf(record, ContainerDelete.IsFrozen));
            Console.WriteLine(JsonSerializer.Serialize(state, SpecJson.Default.ContainerState));
            return 0;
        });
        return cmd;
    }
}
