using System.CommandLine;
using System.Text.Json;
using Cnr.Containers;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr state ID`: runc's state object (the runtime-spec state plus rootfs, created and owner),
/// indented as runc prints it; the status is derived from the kernel.</summary>
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
            var state = StateEntry.Of(Container.Read(store, r.GetValue(id)!));
            using (var stdout = Console.OpenStandardOutput())
            using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = AsciiJsonEncoder.Instance }))
                state.Write(writer);
            Console.WriteLine();
            return 0;
        });
        return cmd;
    }
}
