using System.CommandLine;
using System.Text.Json;
using Cnr.Cgroups;
using Cnr.Containers;
using Cnr.Spec;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr update [--resources -|FILE] [--memory N] [--pids-limit N] … ID`: new limits applied live
/// (Docker's `docker update` sends `--resources -` with linux.resources JSON on stdin).</summary>
internal static class UpdateCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var resources = new Option<string?>("--resources", "-r") { Description = "path to a file with linux.resources JSON, or - for stdin" };
        var memory = FlagValues.Size("--memory", "memory limit in bytes (64m, 1g; -1 for unlimited)");
        var memoryReservation = FlagValues.Size("--memory-reservation", "memory reservation (soft limit) in bytes (k, m, g)");
        var memorySwap = FlagValues.Size("--memory-swap", "total memory plus swap in bytes (k, m, g; -1 for unlimited)");
        var cpuShares = FlagValues.UInt64("--cpu-shares", "CPU shares (relative weight)");
        cpuShares.Aliases.Add("--cpu-share");  // runc's spelling
        var cpuQuota = FlagValues.Int64("--cpu-quota", "CPU CFS quota in microseconds per period (-1 for unlimited)", "a number of microseconds, or -1 for unlimited");
        var cpuPeriod = FlagValues.UInt64("--cpu-period", "CPU CFS period in microseconds", "a number of microseconds");
        var cpusetCpus = new Option<string?>("--cpuset-cpus") { Description = "CPUs to use (0-3, 0,1)" };
        var cpusetMems = new Option<string?>("--cpuset-mems") { Description = "memory nodes to use" };
        var pids = FlagValues.Int64("--pids-limit", "maximum number of pids (-1 for unlimited)", "a number of processes, or -1 for unlimited");
        var blkioWeight = FlagValues.UInt16("--blkio-weight", "block IO weight (10..1000)", "a weight from 10 to 1000");
        var explain = CommonOptions.Explain();
        // runc's four flags for what cnr cannot manage: taken, so that a caller passing them gets the reason, not
        // "unknown flag" (see Unsupported)
        var cpuRtPeriod = FlagValues.UInt64("--cpu-rt-period", "CPU real-time period in microseconds (cgroup v1's cpu.rt_period_us: refused, cnr manages cgroup v2)", "a number of microseconds");
        var cpuRtRuntime = FlagValues.Int64("--cpu-rt-runtime", "CPU real-time runtime in microseconds per period (cgroup v1's cpu.rt_runtime_us: refused, cnr manages cgroup v2)", "a number of microseconds, or -1 for unlimited");
        var l3CacheSchema = new Option<string?>("--l3-cache-schema") { Description = "Intel RDT/CAT L3 cache schema (linux.intelRdt: not supported by cnr)" };
        var memBwSchema = new Option<string?>("--mem-bw-schema") { Description = "Intel RDT/MBA memory bandwidth schema (linux.intelRdt: not supported by cnr)" };
        var cmd = new Command("update", "update container resource constraints")
        {
            id, resources, memory, memoryReservation, memorySwap, cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, pids, blkioWeight,
            cpuRtPeriod, cpuRtRuntime, l3CacheSchema, memBwSchema, explain,
        };
        Verbs.SetAction(cmd, r =>
        {
            CommonOptions.ConfigureSteps(r.GetValue(explain));
            var store = CommonOptions.Store(r);
            using (var c = Container.Load(store, r.GetValue(id)!))
            {
                if (c.Status is ContainerStatus.Stopped) throw new InvalidOperationException("container not running");
                Unsupported(r.GetValue(cpuRtPeriod), r.GetValue(cpuRtRuntime), r.GetValue(l3CacheSchema), r.GetValue(memBwSchema));
                LinuxResources res;
                if (r.GetValue(resources) is { } src)
                {
                    var bytes = src == "-" ? ReadAll(Console.OpenStandardInput()) : File.ReadAllBytes(src);
                    try { res = JsonSerializer.Deserialize(bytes, SpecJson.Default.LinuxResources) ?? new LinuxResources(); }
                    catch (JsonException e) { throw new UsageException($"--resources: not valid linux.resources JSON: {e.Message}"); }
                }
                else res = new LinuxResources();
                if (r.GetValue(memory) is { } m) (res.Memory ??= new()).Limit = m;
                if (r.GetValue(memoryReservation) is { } mr) (res.Memory ??= new()).Reservation = mr;
                if (r.GetValue(memorySwap) is { } ms) (res.Memory ??= new()).Swap = ms;
                if (r.GetValue(cpuShares) is { } cs) (res.Cpu ??= new()).Shares = cs;
                if (r.GetValue(cpuQuota) is { } cq) (res.Cpu ??= new()).Quota = cq;
                if (r.GetValue(cpuPeriod) is { } cp) (res.Cpu ??= new()).Period = cp;
                if (r.GetValue(cpusetCpus) is { } cc) (res.Cpu ??= new()).Cpus = cc;
                if (r.GetValue(cpusetMems) is { } cm) (res.Cpu ??= new()).Mems = cm;
                if (r.GetValue(pids) is { } p) (res.Pids ??= new()).Limit = p;
                if (r.GetValue(blkioWeight) is { } bw) (res.BlockIO ??= new()).Weight = bw;
                var config = c.Config;
                if (res.Cpu is { } cpu) KeepOtherCpuHalf(cpu, config.Linux?.Resources?.Cpu);
                CgroupManager.Validate(res);
                c.Cgroup.SetResources(res);
                Merge(config, res);
                store.SaveConfig(c.Record, config);
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>cpu.max holds quota and period together: given one of them (non-zero), the other keeps its value
    /// in force, from the recorded config, as runc does; else `--cpu-period P` alone would write "max P" and drop
    /// the quota.</summary>
    internal static void KeepOtherCpuHalf(LinuxCpu update, LinuxCpu? recorded)
    {
        bool quota = update.Quota is not (null or 0), period = update.Period is not (null or 0);
        if (quota && !period && recorded?.Period is { } p and not 0) update.Period = p;
        else if (period && !quota && recorded?.Quota is { } q and not 0) update.Quota = q;
    }

    /// <summary>Refuses, before anything is changed, runc's flags whose target cnr does not manage: the real-time
    /// period and runtime (runc: linux.resources.cpu.realtimePeriod/realtimeRuntime) are cgroup v1's
    /// cpu.rt_period_us/cpu.rt_runtime_us, which cgroup v2 does not have (runc's v2 manager drops them without a
    /// word; cnr says so, as it does for the same fields in config.json); the schemas (runc:
    /// linux.intelRdt.l3CacheSchema/memBwSchema) need resctrl, which cnr does not drive. A zero period or runtime
    /// and an empty schema ask for nothing, as in runc, and pass.</summary>
    internal static void Unsupported(ulong? rtPeriod, long? rtRuntime, string? l3CacheSchema, string? memBwSchema)
    {
        const string NoRealtime = "real-time CPU bandwidth does not exist in cgroup v2, which cnr manages; leave the flag out";
        const string NoRdt = "Intel RDT (resctrl, linux.intelRdt) is not supported by cnr; leave the flag out";
        if (rtPeriod is not (null or 0)) throw new UsageException($"--cpu-rt-period: {NoRealtime}");
        if (rtRuntime is not (null or 0)) throw new UsageException($"--cpu-rt-runtime: {NoRealtime}");
        if (!string.IsNullOrEmpty(l3CacheSchema)) throw new UsageException($"--l3-cache-schema: {NoRdt}");
        if (!string.IsNullOrEmpty(memBwSchema)) throw new UsageException($"--mem-bw-schema: {NoRdt}");
    }

    private static byte[] ReadAll(Stream s) { using var ms = new MemoryStream(); s.CopyTo(ms); return ms.ToArray(); }

    /// <summary>Keeps the recorded config in step, so `events`/`inspect` show the limits in force.</summary>
    private static void Merge(RuntimeSpec config, LinuxResources update)
    {
        var linux = config.Linux ??= new Cnr.Spec.Linux();
        var current = linux.Resources ??= new LinuxResources();
        if (update.Memory is not null) current.Memory = update.Memory;
        if (update.Cpu is { } cpu)
        {
            // field by field: `update --cpu-period P` changes the period, not the recorded shares or cpuset
            var c = current.Cpu ??= new LinuxCpu();
            c.Shares = cpu.Shares ?? c.Shares; c.Quota = cpu.Quota ?? c.Quota; c.Period = cpu.Period ?? c.Period;
            c.Burst = cpu.Burst ?? c.Burst; c.Cpus = cpu.Cpus ?? c.Cpus; c.Mems = cpu.Mems ?? c.Mems; c.Idle = cpu.Idle ?? c.Idle;
        }
        if (update.Pids is not null) current.Pids = update.Pids;
        if (update.BlockIO is not null) current.BlockIO = update.BlockIO;
        if (update.HugepageLimits is not null) current.HugepageLimits = update.HugepageLimits;
        if (update.Unified is not null) current.Unified = update.Unified;
        if (update.Devices is not null) current.Devices = update.Devices;
    }
}
