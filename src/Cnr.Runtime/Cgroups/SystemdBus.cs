using System.Collections.Concurrent;
using Cnr.Namespaces;
using Tmds.DBus.Protocol;

namespace Cnr.Cgroups;

/// <summary>A D-Bus error reply from systemd, kept with its name (e.g. org.freedesktop.systemd1.UnitExists).</summary>
public sealed class SystemdException(string errorName, string message) : CgroupException(message)
{
    /// <summary>StartTransientUnit's answer when a unit of that name is loaded: failed, or someone's live one.</summary>
    public const string UnitExists = "org.freedesktop.systemd1.UnitExists";

    public string ErrorName { get; } = errorName;
}

/// <summary>The few calls of org.freedesktop.systemd1.Manager the systemd cgroup driver makes, over
/// Tmds.DBus.Protocol: root talks to the system instance, anyone else to their own user instance. cnr is
/// synchronous, so each call waits for its reply (and a job for its JobRemoved signal) with a timeout.</summary>
public sealed class SystemdBus : IDisposable
{
    /// <summary>By ref: MessageWriter is a struct, and a copy's writes do not count in the message's length.</summary>
    private delegate void BodyWriter(ref MessageWriter w);

    private const string Service = "org.freedesktop.systemd1", ManagerPath = "/org/freedesktop/systemd1";
    private const string Manager = "org.freedesktop.systemd1.Manager";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly DBusConnection _conn;
    private readonly ConcurrentDictionary<string, string> _finishedJobs = new();
    private readonly SemaphoreSlim _jobEvent = new(0);
    private IDisposable? _jobWatch;

    public string Address { get; }

    private SystemdBus(DBusConnection conn, string address)
    {
        _conn = conn;
        Address = address;
    }

    /// <summary>The system bus for root, the user's session bus ($DBUS_SESSION_BUS_ADDRESS, else
    /// $XDG_RUNTIME_DIR/bus) for anyone else.</summary>
    public static string AddressFor(bool userInstance)
    {
        if (!userInstance)
            return Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS") is { Length: > 0 } sys ? sys : "unix:path=/run/dbus/system_bus_socket";
        if (Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS") is { Length: > 0 } session) return session;
        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } d ? d : $"/run/user/{Rootless.HostUid}";
        return $"unix:path={runtimeDir}/bus";
    }

    public static SystemdBus Connect(bool userInstance) => Connect(AddressFor(userInstance), userInstance);

    internal static SystemdBus Connect(string address, bool userInstance)
    {
        var conn = new DBusConnection(new HostUidOptions(address));
        try
        {
            Wait(conn.ConnectAsync().AsTask(), $"connect to {address}");
            var bus = new SystemdBus(conn, address);
            bus.WatchJobs();
            return bus;
        }
        catch (CgroupException)
        {
            conn.Dispose();
            throw;
        }
        catch (Exception e)
        {
            conn.Dispose();
            throw new CgroupException($"--systemd-cgroup: cannot talk to systemd over D-Bus at {address}: {e.Message}" +
                (userInstance ? " (a non-root user needs their systemd user instance: log in through systemd-logind, or set DBUS_SESSION_BUS_ADDRESS)" : ""));
        }
    }

    /// <summary>EXTERNAL authentication names the uid the bus daemon sees (SO_PEERCRED, in its own user
    /// namespace): under rootless Podman cnr is uid 0 of Podman's user namespace, and the user's bus would
    /// refuse "0" from the user's socket.</summary>
    private sealed class HostUidOptions(string address) : DBusConnectionOptions(address)
    {
        protected override async ValueTask<SetupResult> SetupAsync(CancellationToken cancellationToken)
        {
            var result = await base.SetupAsync(cancellationToken).ConfigureAwait(false);
            result.UserId = Rootless.HostUid.ToString();
            return result;
        }
    }

    /// <summary>A connection that watches no jobs (Subscribe would need systemd on the bus): for tests of
    /// the messages against a private dbus-daemon.</summary>
    internal static SystemdBus ConnectForTest(string address)
    {
        var conn = new DBusConnection(address);
        Wait(conn.ConnectAsync().AsTask(), $"connect to {address}");
        return new SystemdBus(conn, address);
    }

    /// <summary>JobRemoved tells how a job ended; systemd sends its signals only once a client has
    /// called Subscribe (dropped when this connection closes).</summary>
    private void WatchJobs()
    {
        var rule = new MatchRule { Type = MessageType.Signal, Path = ManagerPath, Interface = Manager, Member = "JobRemoved" };
        _jobWatch = Wait(_conn.AddMatchAsync(rule,
            static (Message m, object? _) =>
            {
                var r = m.GetBodyReader();
                r.ReadUInt32();
                var job = r.ReadObjectPathAsString();
                r.ReadString();
                return (Job: job, Result: r.ReadString());
            },
            (Notification<(string Job, string Result)> n) =>
            {
                if (!n.HasValue) return;
                _finishedJobs[n.Value.Job] = n.Value.Result;
                _jobEvent.Release();
            },
            emitOnCapturedContext: false, flags: ObserverFlags.None).AsTask(), "watch JobRemoved");
        Call(Manager, "Subscribe", "", (ref MessageWriter _) => { }, ManagerPath);
    }

    /// <summary>StartTransientUnit(name, "fail", properties, []) and the job's end; throws with systemd's
    /// error name and message, or the job's result when it did not end "done".</summary>
    public void StartTransientUnit(string unit, IReadOnlyList<SystemdProperty> properties)
    {
        var job = CallForJob("StartTransientUnit", "ssa(sv)a(sa(sv))", (ref MessageWriter w) =>
        {
            w.WriteString(unit);
            w.WriteString("fail");
            WriteProperties(ref w, properties);
            var aux = w.WriteArrayStart(DBusType.Struct);
            w.WriteArrayEnd(aux);
        });
        WaitJob(job, $"start {unit}");
    }

    /// <summary>StopUnit and its job's end; a unit that is already gone is fine.</summary>
    public void StopUnit(string unit)
    {
        string job;
        try { job = CallForJob("StopUnit", "ss", (ref MessageWriter w) => { w.WriteString(unit); w.WriteString("replace"); }); }
        catch (SystemdException e) when (e.ErrorName == "org.freedesktop.systemd1.NoSuchUnit") { return; }
        WaitJob(job, $"stop {unit}");
    }

    /// <summary>Forgets a failed unit (systemd keeps failed units listed until then); false when systemd
    /// refused (typically: the unit is not failed, or already gone).</summary>
    public bool ResetFailedUnit(string unit)
    {
        try { Call(Manager, "ResetFailedUnit", "s", (ref MessageWriter w) => w.WriteString(unit), ManagerPath); return true; }
        catch (SystemdException) { return false; }
    }

    public void SetUnitProperties(string unit, IReadOnlyList<SystemdProperty> properties)
    {
        if (properties.Count == 0) return;
        Call(Manager, "SetUnitProperties", "sba(sv)", (ref MessageWriter w) =>
        {
            w.WriteString(unit);
            w.WriteBool(true);  // runtime: gone with the unit, like the unit itself
            WriteProperties(ref w, properties);
        }, ManagerPath);
    }

    /// <summary>The unit's cgroup, relative to the cgroup2 root (its ControlGroup property).</summary>
    public string ControlGroup(string unit)
    {
        var path = Wait(_conn.CallMethodAsync(Message(Manager, "GetUnit", "s", (ref MessageWriter w) => w.WriteString(unit), ManagerPath),
            static (Message m, object? _) => m.GetBodyReader().ReadObjectPathAsString(), null), $"GetUnit {unit}");
        return Wait(_conn.CallMethodAsync(Message("org.freedesktop.DBus.Properties", "Get", "ss", (ref MessageWriter w) =>
            {
                w.WriteString("org.freedesktop.systemd1.Scope");
                w.WriteString("ControlGroup");
            }, path),
            static (Message m, object? _) => m.GetBodyReader().ReadVariantValue().GetString(), null), $"ControlGroup of {unit}");
    }

    private string CallForJob(string method, string signature, BodyWriter body)
        => Wait(_conn.CallMethodAsync(Message(Manager, method, signature, body, ManagerPath),
            static (Message m, object? _) => m.GetBodyReader().ReadObjectPathAsString(), null), method);

    private void Call(string iface, string method, string signature, BodyWriter body, string path)
        => Wait(_conn.CallMethodAsync(Message(iface, method, signature, body, path)), method);

    private void WaitJob(string job, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        string? result;
        while (!_finishedJobs.TryGetValue(job, out result))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_jobEvent.Wait(left))
                throw new CgroupException($"systemd: the job to {what} ({job}) did not finish within {Timeout.TotalSeconds:0} s");
        }
        if (result != "done")
            throw new SystemdException("job:" + result, $"systemd: the job to {what} ended \"{result}\" (journalctl -u {what.Split(' ')[^1]} says why)");
    }

    private MessageBuffer Message(string iface, string method, string signature, BodyWriter body, string path)
    {
        var w = _conn.GetMessageWriter();
        try
        {
            w.WriteMethodCallHeader(destination: Service, path: path, @interface: iface, member: method,
                signature: signature.Length > 0 ? signature : null);
            body(ref w);
            return w.CreateMessage();
        }
        finally { w.Dispose(); }
    }

    private static void WriteProperties(ref MessageWriter w, IReadOnlyList<SystemdProperty> properties)
    {
        var array = w.WriteArrayStart(DBusType.Struct);
        foreach (var p in properties)
        {
            w.WriteStructureStart();
            w.WriteString(p.Name);
            switch (p.Value)
            {
                case ulong u: w.WriteVariantUInt64(u); break;
                case bool b: w.WriteVariantBool(b); break;
                case string s: w.WriteVariantString(s); break;
                case uint[] a: w.WriteVariant(new Array<uint>(a)); break;
                case byte[] bytes: w.WriteVariant(new Array<byte>(bytes)); break;
                case SystemdDeviceAllow[] devices:
                    // a variant is its signature, then the value
                    w.WriteSignature("a(ss)");
                    var list = w.WriteArrayStart(DBusType.Struct);
                    foreach (var d in devices)
                    {
                        w.WriteStructureStart();
                        w.WriteString(d.Path);
                        w.WriteString(d.Access);
                    }
                    w.WriteArrayEnd(list);
                    break;
                default: throw new ArgumentException($"systemd property {p.Name}: no D-Bus type for {p.Value.GetType().Name}");
            }
        }
        w.WriteArrayEnd(array);
    }

    private static void Wait(Task t, string what) => Wait(Task.Run(async () => { await t; return 0; }), what);

    private static T Wait<T>(Task<T> t, string what)
    {
        try
        {
            if (!t.Wait(Timeout)) throw new CgroupException($"systemd: no answer to {what} over D-Bus within {Timeout.TotalSeconds:0} s");
            return t.Result;
        }
        catch (AggregateException ae) when (ae.InnerException is DBusErrorReplyException e)
        {
            throw new SystemdException(e.ErrorName, $"{e.ErrorName}: {e.ErrorMessage}");
        }
        catch (AggregateException ae) when (ae.InnerException is { } inner)
        {
            throw new CgroupException($"systemd: {what} over D-Bus failed: {inner.Message}");
        }
    }

    public void Dispose()
    {
        _jobWatch?.Dispose();
        _conn.Dispose();
        _jobEvent.Dispose();
    }
}
