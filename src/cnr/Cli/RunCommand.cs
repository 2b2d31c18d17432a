using System.CommandLine;
using Cnr.Container;

namespace Cnr.Cli;

/// <summary>`cnr run [--bundle DIR] [--detach] [--pid-file F] [--console-socket S] [--no-pivot] ID`.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var o = new CreateOptionSet();
        var detach = CommonOptions.Detach();
        var cmd = new Command("run", "create and run a container") { detach };
        o.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            bool d = r.GetValue(detach);
            return ContainerRun.Run(o.Read(r, foreground: !d), d);
        });
        return cmd;
    }
}
