using System.CommandLine;
using Cnr.Containers;
using Cnr.Signals;

namespace Cnr.Cli;

/// <summary>`cnr kill [--all] ID [SIGNAL]` (names with or without SIG, or numbers; default TERM; 0 only checks
/// that the container's init is alive, as kill(1)).</summary>
internal static class KillCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var signal = new Argument<string>("signal") { Description = "signal name or number (0: only check that the container is running)", DefaultValueFactory = _ => "TERM" };
        var all = new Option<bool>("--all", "-a") { Description = "send the signal to all processes in the container" };
        var explain = CommonOptions.Explain();
        var cmd = new Command("kill", "send a signal to the container's init process") { id, signal, all, explain };
        Verbs.SetAction(cmd, r =>
        {
            int sig = ParseSignal(r.GetValue(signal)!);
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            ContainerKill.Kill(CommonOptions.Store(r), r.GetValue(id)!, sig, r.GetValue(all));
            return 0;
        });
        return cmd;
    }

    /// <summary>A signal for kill(2): 0 sends nothing and reports whether the target exists, which the
    /// container's own signals (STOPSIGNAL, process config) have no use for.</summary>
    internal static int ParseSignal(string text)
    {
        if (text.Trim() == "0") return 0;
        return SignalTable.TryParse(text, out int signal) ? signal
            : throw new UsageException($"kill: \"{text}\" is not a signal (a name like KILL, SIGTERM, RTMIN+1, a number from 1 to {SignalTable.RtMax}, or 0 to check that the container runs)");
    }
}
