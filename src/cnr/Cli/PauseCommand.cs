using System.CommandLine;
using Cnr.Containers;

namespace Cnr.Cli;

/// <summary>`cnr pause ID` and `cnr resume ID`: cgroup.freeze.</summary>
internal static class PauseCommand
{
    public static Command Create() => Make("pause", "suspend all processes inside the container", pause: true);
    public static Command CreateResume() => Make("resume", "resume all processes that have been previously paused", pause: false);

    private static Command Make(string name, string description, bool pause)
    {
        var id = CommonOptions.Id();
        var explain = CommonOptions.Explain();
        var cmd = new Command(name, description) { id, explain };
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            var store = CommonOptions.Store(r);
            if (pause) ContainerPause.Pause(store, r.GetValue(id)!);
            else ContainerPause.Resume(store, r.GetValue(id)!);
            return 0;
        });
        return cmd;
    }
}
