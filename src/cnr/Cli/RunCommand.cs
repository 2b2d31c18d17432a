using System.CommandLine;
using Cnr.Container;

namespace Cnr.Cli;

/// <summary>`cnr run [--bundle DIR] [--detach] [--keep] [--pid-file F] [--console-socket S] [--no-pivot] ID`.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var o = new CreateOptionSet();
        var detach = CommonOptions.Detach();
        var keep = new Option<bool>("--keep") { Description = "do not delete the container after it exits (cnr delete ID does)" };
        var cmd = new Command("run", "create and run a container") { detach, keep };
        o.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            bool d = r.GetValue(detach);
            return ContainerRun.Run(o.Read(r, foreground: !d), d, r.GetValue(keep));
        });
        return cmd;
    }
}
