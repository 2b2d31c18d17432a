using System.CommandLine;
using Cnr.Containers;

namespace Cnr.Cli;

/// <summary>`cnr create --bundle DIR --pid-file F [--console-socket S] ID`: everything but the user's process.</summary>
internal static class CreateCommand
{
    public static Command Create()
    {
        var o = new CreateOptionSet();
        var cmd = new Command("create", "create a container (start runs its process)");
        o.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            using var c = ContainerCreate.Create(o.Read(r, foreground: false));
            return 0;
        });
        return cmd;
    }
}

/// <summary>The flags `create` and `run` share, and what they become.</summary>
internal sealed class CreateOptionSet
{
    private readonly Argument<string> _id = CommonOptions.Id();
    private readonly Option<string> _bundle = CommonOptions.Bundle();
    private readonly Option<string?> _pidFile = CommonOptions.PidFile();
    private readonly Option<string?> _console = CommonOptions.ConsoleSocket();
    private readonly Option<bool> _noPivot = CommonOptions.NoPivot();
    private readonly Option<bool> _keyring = CommonOptions.NoNewKeyring();
    private readonly Option<int> _preserve = CommonOptions.PreserveFds();
    private readonly Option<bool> _explain = CommonOptions.Explain();

    public void AddTo(Command cmd)
    {
        cmd.Arguments.Add(_id);
        foreach (var option in new Option[] { _bundle, _pidFile, _console, _noPivot, _keyring, _preserve, _explain })
            cmd.Options.Add(option);
    }

    public CreateOptions Read(ParseResult r, bool foreground)
    {
        CommonOptions.ConfigureSteps(r.GetValue(_explain));
        return new CreateOptions
        {
            Id = r.GetValue(_id)!,
            Bundle = r.GetValue(_bundle)!,
            StateRoot = r.GetValue(GlobalOptions.Root)!,
            PidFile = CommonOptions.PidFilePath(r, _pidFile),
            ConsoleSocket = r.GetValue(_console),
            NoPivot = r.GetValue(_noPivot),
            PreserveFds = r.GetValue(_preserve),
            SystemdCgroup = r.GetValue(GlobalOptions.SystemdCgroup),
            Foreground = foreground,
        };
    }
}
