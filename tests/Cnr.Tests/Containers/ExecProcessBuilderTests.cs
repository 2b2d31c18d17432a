using System.Text.Json;
using Cnr.Containers;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Containers;

/// <summary>How `exec`'s flags shape its process from the container's (runc's getProcess rules).</summary>
public sealed class ExecProcessBuilderTests
{
    private static Cnr.Spec.Process Template() => new()
    {
        Terminal = true,
        Args = ["sh"],
        Env = ["PATH=/usr/bin:/bin", "TERM=xterm", "HOME=/root"],
        Cwd = "/srv",
        User = new User { Uid = 0, Gid = 0, Umask = 0b000_010_010, AdditionalGids = [10, 11] },
        Capabilities = new LinuxCapabilities
        {
            Bounding = ["CAP_CHOWN", "CAP_KILL"], Effective = ["CAP_CHOWN"], Permitted = ["CAP_CHOWN"],
            Inheritable = ["CAP_CHOWN"], Ambient = [],
        },
        Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1024, Hard = 1024 }],
        NoNewPrivileges = false,
        ApparmorProfile = "container-default",
        OomScoreAdj = 100,
    };

    private static Cnr.Spec.Process Build(ExecProcessOptions o, Cnr.Spec.Process? template = null) => ExecProcessBuilder.Build(template ?? Template(), o);

    private static string Json(Cnr.Spec.Process p) => JsonSerializer.Serialize(p, SpecJson.Default.Process);

    [Fact]
    public void Command_ReplacesTheArgs_AndEverythingElseComesFromTheContainersProcess()
    {
        var p = Build(new ExecProcessOptions { Args = ["ls", "-l"] });
        Assert.Equal(["ls", "-l"], p.Args);
        var expected = Template();
        expected.Args = ["ls", "-l"];
        expected.Terminal = false;
        Assert.Equal(Json(expected), Json(p));
    }

    [Fact]
    public void TheContainersConfig_IsNotChanged()
    {
        var template = Template();
        var before = Json(template);
        var p = Build(new ExecProcessOptions
        {
            Args = ["id"], Tty = true, Cwd = "/tmp", Env = ["TERM=dumb", "NEW=1"], User = "1000:1000", AdditionalGids = [12],
            Capabilities = ["NET_ADMIN"], NoNewPrivileges = true, ApparmorProfile = "other", SelinuxLabel = "l",
        }, template);
        Assert.Equal(before, Json(template));
        Assert.NotSame(template.User, p.User);
        Assert.NotSame(template.Capabilities!.Bounding, p.Capabilities!.Bounding);
        Assert.NotSame(template.Rlimits, p.Rlimits);
    }

    [Fact]
    public void Tty_IsTheFlagsOnly()
    {
        Assert.False(Build(new ExecProcessOptions { Args = ["sh"] }).Terminal);   // the container's terminal: true
        Assert.True(Build(new ExecProcessOptions { Args = ["sh"], Tty = true }).Terminal);
    }

    [Fact]
    public void Cwd_ReplacesTheContainers()
    {
        Assert.Equal("/tmp", Build(new ExecProcessOptions { Args = ["sh"], Cwd = "/tmp" }).Cwd);
        Assert.Equal("/srv", Build(new ExecProcessOptions { Args = ["sh"], Cwd = "" }).Cwd);
    }

    [Fact]
    public void Env_ReplacesAVariableInItsPlace_AndAddsNewOnesInOrder()
    {
        var p = Build(new ExecProcessOptions { Args = ["sh"], Env = ["TERM=dumb", "B=2", "A=1", "B=3"] });
        Assert.Equal(["PATH=/usr/bin:/bin", "TERM=dumb", "HOME=/root", "B=3", "A=1"], p.Env);
    }

    [Fact]
    public void Env_WithoutTheContainersEnv_IsTheFlags()
    {
        var template = Template();
        template.Env = null;
        Assert.Equal(["A=1"], Build(new ExecProcessOptions { Args = ["sh"], Env = ["A=1"] }, template).Env);
        Assert.Null(Build(new ExecProcessOptions { Args = ["sh"] }, template).Env);
    }

    [Fact]
    public void User_UidAlone_KeepsTheGidTheAdditionalGidsAndTheUmask()
    {
        var u = Build(new ExecProcessOptions { Args = ["id"], User = "1000" }).User;
        Assert.Equal((1000u, 0u, (uint?)0b000_010_010), (u.Uid, u.Gid, u.Umask));
        Assert.Equal([10u, 11u], u.AdditionalGids);
    }

    [Fact]
    public void User_UidAndGid_SetsBoth()
    {
        var u = Build(new ExecProcessOptions { Args = ["id"], User = "1000:2000" }).User;
        Assert.Equal((1000u, 2000u), (u.Uid, u.Gid));
    }

    [Theory]
    [InlineData("root")]
    [InlineData("1000:staff")]
    [InlineData("1:2:3")]
    [InlineData("-1")]
    public void User_NotNumbers_IsOneLineNamingTheFlag(string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Build(new ExecProcessOptions { Args = ["id"], User = value }));
        Assert.Equal($"--user: \"{value}\" is not UID[:GID] (numbers)", e.Message);
    }

    [Fact]
    public void AdditionalGids_AreAddedToTheContainers_Once()
    {
        var u = Build(new ExecProcessOptions { Args = ["id"], AdditionalGids = [11, 20, 20] }).User;
        Assert.Equal([10u, 11u, 20u], u.AdditionalGids);
    }

    [Fact]
    public void Cap_AddsToBoundingEffectivePermitted_NeverInheritable()
    {
        var caps = Build(new ExecProcessOptions { Args = ["sh"], Capabilities = ["net_admin", "CAP_SYS_ADMIN", "Cap_Kill", "CAP_CHOWN"] }).Capabilities!;
        Assert.Equal(["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"], caps.Bounding);
        Assert.Equal(["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_KILL"], caps.Effective);
        Assert.Equal(["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_KILL"], caps.Permitted);
        Assert.Equal(["CAP_CHOWN"], caps.Inheritable);
        Assert.Empty(caps.Ambient!);
    }

    [Fact]
    public void Cap_WithoutCapabilitiesInTheContainer_MakesTheSets()
    {
        var template = Template();
        template.Capabilities = null;
        var caps = Build(new ExecProcessOptions { Args = ["sh"], Capabilities = ["NET_RAW"] }, template).Capabilities!;
        Assert.Equal(["CAP_NET_RAW"], caps.Bounding);
        Assert.Equal(["CAP_NET_RAW"], caps.Effective);
        Assert.Equal(["CAP_NET_RAW"], caps.Permitted);
        Assert.Null(caps.Inheritable);
    }

    [Fact]
    public void Cap_Unknown_IsOneLineNamingTheFlag()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Build(new ExecProcessOptions { Args = ["sh"], Capabilities = ["FLY"] }));
        Assert.Equal("--cap: \"FLY\" is not a capability", e.Message);
    }

    [Fact]
    public void NoNewPrivs_TurnsItOn_AndItsAbsenceKeepsTheContainers()
    {
        Assert.True(Build(new ExecProcessOptions { Args = ["sh"], NoNewPrivileges = true }).NoNewPrivileges);
        var template = Template();
        template.NoNewPrivileges = true;
        Assert.True(Build(new ExecProcessOptions { Args = ["sh"] }, template).NoNewPrivileges);
    }

    [Fact]
    public void LsmLabels_ReplaceTheContainersWhenGiven()
    {
        var p = Build(new ExecProcessOptions { Args = ["sh"], ApparmorProfile = "unconfined", SelinuxLabel = "system_u:system_r:container_t:s0" });
        Assert.Equal(("unconfined", "system_u:system_r:container_t:s0"), (p.ApparmorProfile, p.SelinuxLabel));
        var kept = Build(new ExecProcessOptions { Args = ["sh"], ApparmorProfile = "", SelinuxLabel = null });
        Assert.Equal(("container-default", (string?)null), (kept.ApparmorProfile, kept.SelinuxLabel));
    }

    [Fact]
    public void ProcessFile_IsTheWholeProcess_AndTheFlagsAreNotLookedAt()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{ "args": ["top"], "cwd": "/", "user": { "uid": 5, "gid": 6 }, "env": ["X=1"] }""");
            var p = Build(new ExecProcessOptions { ProcessFile = file, Args = ["ignored"], Env = ["Y=2"], User = "7", Tty = true });
            Assert.Equal(["top"], p.Args);
            Assert.Equal(["X=1"], p.Env);
            Assert.Equal((5u, 6u), (p.User.Uid, p.User.Gid));
            Assert.False(p.Terminal);
            Assert.Null(p.Capabilities);
        }
        finally { File.Delete(file); }
    }

    /// <summary>Every field of Process set: a field the copy forgets shows in the JSON; a shared object or list
    /// is caught by reference.</summary>
    [Fact]
    public void Copy_IsDeep_AndHasEveryField()
    {
        var t = Template();
        t.ConsoleSize = new Box { Height = 24, Width = 80 };
        t.User.Username = "root";
        t.CommandLine = "sh -l";
        t.Scheduler = new Scheduler { Policy = "SCHED_DEADLINE", Nice = 1, Priority = 2, Flags = ["SCHED_FLAG_RESET_ON_FORK"], Runtime = 3, Deadline = 4, Period = 5 };
        t.SelinuxLabel = "system_u:system_r:container_t:s0";
        t.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 4 };
        t.ExecCPUAffinity = new ExecCpuAffinity { Initial = "0", Final = "0-1" };
        t.NoNewPrivileges = true;
        var json = JsonSerializer.Serialize(t, SpecJson.Default.Process);
        foreach (var property in typeof(Cnr.Spec.Process).GetProperties())
            Assert.True(property.GetValue(t) is not null, $"the template leaves Process.{property.Name} unset: set it here");

        var copy = ExecProcessBuilder.Copy(t);
        Assert.Equal(json, JsonSerializer.Serialize(copy, SpecJson.Default.Process));
        Assert.NotSame(t.User, copy.User);
        Assert.NotSame(t.User.AdditionalGids, copy.User.AdditionalGids);
        Assert.NotSame(t.Args, copy.Args);
        Assert.NotSame(t.Env, copy.Env);
        Assert.NotSame(t.Capabilities, copy.Capabilities);
        Assert.NotSame(t.Capabilities!.Bounding, copy.Capabilities!.Bounding);
        Assert.NotSame(t.Rlimits![0], copy.Rlimits![0]);
        Assert.NotSame(t.Scheduler!.Flags, copy.Scheduler!.Flags);
    }

    [Fact]
    public void ProcessFile_WrongType_NamesTheField()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"args": "sh", "cwd": "/"}""");
            var e = Assert.Throws<InvalidOperationException>(() => Build(new ExecProcessOptions { ProcessFile = file }));
            Assert.StartsWith($"--process {file}: cannot read process.json: args", e.Message);
            File.WriteAllText(file, "[]");
            e = Assert.Throws<InvalidOperationException>(() => Build(new ExecProcessOptions { ProcessFile = file }));
            Assert.Equal($"--process {file}: cannot read process.json: it holds an array, not a JSON object", e.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void ProcessFile_Unreadable_IsOneLineNamingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), "cnr-no-such-process.json");
        var e = Assert.Throws<InvalidOperationException>(() => Build(new ExecProcessOptions { ProcessFile = missing }));
        Assert.StartsWith($"--process {missing}: cannot read process.json: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void NoCommand_AndNoProcessFile_SaysWhatIsNeeded()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Build(new ExecProcessOptions()));
        Assert.Contains("a command is required", e.Message);
        Assert.Contains("--process FILE", e.Message);
    }
}
