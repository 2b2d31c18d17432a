using System.CommandLine;
using Cnr.Container;
using Cnr.Signals;

namespace Cnr.Cli;

/// <summary>`cnr kill [--all] ID [SIGNAL]` (names with or without SIG, or numbers; default TERM).</summary>
internal static class KillCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var signal = new Argument<string>("signal") { Description = "signal name or number", DefaultValueFactory = _ => "TERM" };
        var all = new Option<bool>("--all", "-a") { Description = "send the signal to all processes in the container" };
        var cmd = new Command("kill", "send a signal to the container's init process") { id, signal, all };
        Verbs.SetAction(cmd, r =>
        {
            int sig = SignalTable.Parse(r.GetValue(signal)!);
            var store = CommonOptions.Store(r);
            var (record, lk) = store.Open(r.GetValue(id)!);
            using (lk) ContainerKill.Kill(store, record, sig, r.GetValue(all));
            return 0;
        });
        return cmd;
    }
}
