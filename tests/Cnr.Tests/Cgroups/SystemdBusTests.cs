using System.Diagnostics;
using Cnr.Cgroups;
using Xunit;

namespace Cnr.Tests.Cgroups;

/// <summary>The messages SystemdBus writes, checked by a real dbus-daemon (a private one, started here):
/// the daemon disconnects a client whose message does not match its signature, and answers a well-formed
/// call to a name nobody owns with ServiceUnknown.</summary>
public sealed class SystemdBusTests : IDisposable
{
    private readonly System.Diagnostics.Process? _daemon;
    private readonly string _address = "";
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-dbus-").FullName;

    public SystemdBusTests()
    {
        if (!File.Exists("/usr/bin/dbus-daemon")) return;
        var config = Path.Combine(_dir, "bus.conf");
        File.WriteAllText(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig><type>session</type><listen>unix:path={_dir}/bus</listen><auth>EXTERNAL</auth>
            <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
            """);
        var psi = new ProcessStartInfo("/usr/bin/dbus-daemon", ["--config-file=" + config, "--nofork", "--print-address"]) { RedirectStandardOutput = true };
        _daemon = System.Diagnostics.Process.Start(psi)!;
        _address = _daemon.StandardOutput.ReadLine()!.Trim();
    }

    public sealed class DBusDaemonFactAttribute : FactAttribute
    {
        public DBusDaemonFactAttribute() { if (!File.Exists("/usr/bin/dbus-daemon")) Skip = "no /usr/bin/dbus-daemon on this host (Debian: dbus-daemon)"; }
    }

    [DBusDaemonFact]
    public void Connect_SubscribeIsAWellFormedMessage()
    {
        // Connect's Subscribe goes to org.freedesktop.systemd1, which nobody owns on this bus
        var e = Assert.Throws<SystemdException>(() => SystemdBus.Connect(_address, false));
        Assert.Equal("org.freedesktop.DBus.Error.ServiceUnknown", e.ErrorName);
    }

    [DBusDaemonFact]
    public void ManagerCalls_AreWellFormedMessages()
    {
        using var bus = SystemdBus.ConnectForTest(_address);
        // every D-Bus type the driver writes, DeviceAllow's a(ss) included
        var props = SystemdProperties.ForNewScope("box", "system.slice", 1, new Cnr.Spec.Linux
        {
            Resources = new()
            {
                Memory = new() { Limit = 1 << 25 }, Pids = new() { Limit = 64 },
                Cpu = new() { Shares = 1024, Quota = 50000, Period = 100000, Cpus = "0", Mems = "0" },
                Devices = [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rw" }],
            },
        });
        Assert.Contains(props, p => p.Value is SystemdDeviceAllow[] { Length: > 0 });
        var e = Assert.Throws<SystemdException>(() => bus.StartTransientUnit("cnr-box.scope", props));
        Assert.Equal("org.freedesktop.DBus.Error.ServiceUnknown", e.ErrorName);
        e = Assert.Throws<SystemdException>(() => bus.SetUnitProperties("cnr-box.scope", SystemdProperties.ForResources(new() { Pids = new() { Limit = 5 } })));
        Assert.Equal("org.freedesktop.DBus.Error.ServiceUnknown", e.ErrorName);
        e = Assert.Throws<SystemdException>(() => bus.StopUnit("cnr-box.scope"));
        Assert.Equal("org.freedesktop.DBus.Error.ServiceUnknown", e.ErrorName);
        Assert.False(bus.ResetFailedUnit("cnr-box.scope"));
    }

    public void Dispose()
    {
        if (_daemon is { HasExited: false }) { _daemon.Kill(); _daemon.WaitForExit(); }
        Directory.Delete(_dir, true);
    }
}
