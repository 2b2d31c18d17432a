using Cnr.Linux;
using Cnr.Spec;
using static Cnr.Seccomp.SeccompNames;

namespace Cnr.Seccomp;

/// <summary>One seccomp_rule_add: a syscall by name (resolved when compiling, by the installed libseccomp),
/// a libseccomp action value, and conditions that must all hold. <paramref name="Path"/> is the config entry it
/// came from, for error messages.</summary>
internal sealed record SeccompRule(string Syscall, uint Action, LibSeccomp.ScmpArgCmp[] Conditions, string Path);

/// <summary>linux.seccomp translated into the libseccomp calls that build the filter, and the flags for seccomp():
/// pure and checked, so that the parent can reject a bad config before creating anything, and tests can read what
/// will be loaded.</summary>
internal sealed record SeccompProgram(
    uint DefaultAction,
    string DefaultActionText,
    IReadOnlyList<(string Path, string Name)> Architectures,
    uint Flags,
    IReadOnlyList<SeccompRule> Rules,
    IReadOnlyList<string> Names)
{
    /// <summary>runc's rule for the ENOSYS stub: not when the default already allows (nothing to fall back
    /// from) or already answers ENOSYS.</summary>
    /// <summary>Some rule answers SCMP_ACT_NOTIFY: the filter is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER and
    /// its listener fd goes to linux.seccomp.listenerPath.</summary>
    public bool Notify => Rules.Any(r => r.Action == SCMP_ACT_NOTIFY);

    public bool NeedsEnosysStub => DefaultAction is not (SCMP_ACT_ALLOW or SCMP_ACT_LOG) && DefaultAction != (SCMP_ACT_ERRNO | (uint)Error.ENOSYS);

    private const string Root = "linux.seccomp";
    private const uint TsyncFlag = 1;

    public static SeccompProgram Translate(LinuxSeccomp seccomp)
    {
        if (seccomp.DefaultAction == "SCMP_ACT_NOTIFY")
            throw new SpecException($"{Root}.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the runtime's own calls would wait on the listener); use it in linux.seccomp.syscalls");
        uint defaultAction = Action(seccomp.DefaultAction, seccomp.DefaultErrnoRet, Root + ".defaultAction", Root + ".defaultErrnoRet");

        var architectures = new List<(string, string)>();
        for (int i = 0; i < (seccomp.Architectures?.Count ?? 0); i++)
        {
            string arch = seccomp.Architectures![i];
            if (!SeccompNames.Architectures.TryGetValue(arch, out var name))
                throw new SpecException($"{Root}.architectures[{i}]: {SpecException.Show(arch)} is not a seccomp architecture ({List(SeccompNames.Architectures)})");
            architectures.Add(($"{Root}.architectures[{i}]", name));
        }

        uint flags = 0;
        for (int i = 0; i < (seccomp.Flags?.Count ?? 0); i++)
        {
            string flag = seccomp.Flags![i];
            if (!SeccompNames.Flags.TryGetValue(flag, out uint bit))
                throw new SpecException($"{Root}.flags[{i}]: {SpecException.Show(flag)} is not a seccomp filter flag cnr supports ({List(SeccompNames.Flags)})");
            flags |= bit;
        }

        var rules = new List<SeccompRule>();
        var names = new List<string>();
        for (int i = 0; i < (seccomp.Syscalls?.Count ?? 0); i++)
        {
            var call = seccomp.Syscalls![i];
            string path = $"{Root}.syscalls[{i}]";
            if (call.Names is not { Count: > 0 })
                throw new SpecException($"{path}.names: empty; name at least one system call");
            for (int n = 0; n < call.Names.Count; n++)
                if (string.IsNullOrEmpty(call.Names[n]))
                    throw new SpecException($"{path}.names[{n}]: empty; give a system call name such as \"mkdir\"");
            names.AddRange(call.Names);
            uint action = Action(call.Action, call.ErrnoRet, path + ".action", path + ".errnoRet");
            if (action == SCMP_ACT_NOTIFY)
            {
                if (string.IsNullOrEmpty(seccomp.ListenerPath))
                    throw new SpecException($"{path}.action: SCMP_ACT_NOTIFY needs a listener: set linux.seccomp.listenerPath to the unix socket of the agent that answers");
                // The init sends the listener fd (sendmsg) after loading the filter, and reports through write:
                // notifying those would wait on an agent that has no fd yet (runc refuses write too).
                if (call.Names.FirstOrDefault(n => n is "write" or "sendmsg") is { } own)
                    throw new SpecException($"{path}.action: SCMP_ACT_NOTIFY cannot be used for {own}, which the runtime needs to hand the listener over");
                if ((flags & TsyncFlag) != 0)
                    throw new SpecException($"{Root}.flags: SECCOMP_FILTER_FLAG_TSYNC cannot be combined with SCMP_ACT_NOTIFY (the kernel refuses a listener for a synchronised filter)");
            }
            var conditions = new LibSeccomp.ScmpArgCmp[call.Args?.Count ?? 0];
            for (int a = 0; a < conditions.Length; a++)
                conditions[a] = Condition(call.Args![a], $"{path}.args[{a}]");

            // libseccomp refuses a rule that repeats the default action (EACCES); runc drops it, and so do we.
            if (action == defaultAction) continue;
            foreach (var conditionSet in ConditionSets(conditions))
                foreach (var name in call.Names)
                    rules.Add(new SeccompRule(name, action, conditionSet, path));
        }
        return new SeccompProgram(defaultAction, ActionText(seccomp.DefaultAction, defaultAction), architectures, flags, rules, names);
    }

    /// <summary>runc's rule: conditions on different arguments are AND-ed in one rule; as soon as two conditions
    /// test the same argument (which libseccomp cannot AND), every condition becomes a rule of its own (OR).</summary>
    private static IEnumerable<LibSeccomp.ScmpArgCmp[]> ConditionSets(LibSeccomp.ScmpArgCmp[] conditions)
    {
        bool repeatsAnArgument = conditions.Select(c => c.Arg).Distinct().Count() < conditions.Length;
        return repeatsAnArgument ? conditions.Select(c => new[] { c }) : [conditions];
    }

    private static uint Action(string name, uint? errnoRet, string actionPath, string errnoPath)
    {
        if (!Actions.TryGetValue(name ?? "", out uint action))
            throw new SpecException($"{actionPath}: {SpecException.Show(name)} is not a seccomp action ({List(Actions)})");
        bool returnsErrno = action is SCMP_ACT_ERRNO or SCMP_ACT_TRACE;
        if (errnoRet is uint errno)
        {
            if (!returnsErrno)
                throw new SpecException($"{errnoPath}: {name} returns no errno; drop it or use SCMP_ACT_ERRNO");
            if (errno > MaxErrno)
                throw new SpecException($"{errnoPath}: {errno} is not an errno (0–{MaxErrno})");
        }
        return returnsErrno ? action | (errnoRet ?? (uint)Error.EPERM) : action;
    }

    private static LibSeccomp.ScmpArgCmp Condition(LinuxSeccompArg arg, string path)
    {
        if (arg.Index > 5)
            throw new SpecException($"{path}.index: {arg.Index} is not a system call argument (0–5)");
        if (!Ops.TryGetValue(arg.Op ?? "", out int op))
            throw new SpecException($"{path}.op: {SpecException.Show(arg.Op)} is not a seccomp comparison ({List(Ops)})");
        // For SCMP_CMP_MASKED_EQ the spec's value is the mask and valueTwo the datum, as libseccomp takes them.
        return new LibSeccomp.ScmpArgCmp
        {
            Arg = arg.Index, Op = op, DatumA = arg.Value, DatumB = op == SCMP_CMP_MASKED_EQ ? arg.ValueTwo : 0,
        };
    }

    /// <summary>"SCMP_ACT_ERRNO(EPERM)", "SCMP_ACT_KILL_PROCESS": for the steps view.</summary>
    private static string ActionText(string name, uint action)
        => (action & 0xffff0000) is SCMP_ACT_ERRNO or SCMP_ACT_TRACE ? $"{name}({Errno.Name((Error)(action & 0xffff))})" : name;
}
