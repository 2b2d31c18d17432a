using Cnr.Cgroups;
using Cnr.Linux;
using Cnr.Plan;
using Cnr.Seccomp;

namespace Cnr.Spec;

/// <summary>Everything `create` derives from config.json before it makes anything: the validated spec, the
/// seccomp profile compiled to BPF, the checked resources and cgroup path, and the init's
/// <see cref="LaunchPlan"/> (<see cref="PlanCompiler"/>). One place, so that the config fuzzer
/// (tests/Cnr.Tests/Spec/ConfigFuzzTests.cs) exercises exactly what `create` runs, and every refusal is a
/// <see cref="SpecException"/> naming the file and the field.</summary>
public sealed class SpecPlan
{
    public required RuntimeSpec Spec { get; init; }
    public required Process Process { get; init; }
    public CompiledFilter? Seccomp { get; init; }
    /// <summary>What the init will execute; `create` adds what its command line decides (fifo, --no-pivot…).</summary>
    public required LaunchPlan Launch { get; init; }
    /// <summary>The config.json bytes it was compiled from: the state directory keeps them for later verbs.</summary>
    public byte[] Json { get; private set; } = [];

    public static SpecPlan Compile(string bundleDir, string containerId)
        => Compile(SpecLoader.ReadConfig(bundleDir), bundleDir, containerId);

    /// <summary><see cref="Compile(string, string)"/> for config.json bytes already read (the fuzzer's entry).</summary>
    internal static SpecPlan Compile(byte[] json, string bundleDir, string containerId)
    {
        var file = Path.Combine(bundleDir, SpecLoader.ConfigFile);
        var plan = Derive(SpecLoader.Load(json, file, bundleDir), containerId, file);
        plan.Json = json;
        return plan;
    }

    /// <summary>The checks that need more than the validator: the container id (for the default cgroup path),
    /// libseccomp, and the cgroup conversions.</summary>
    internal static SpecPlan Derive(RuntimeSpec spec, string containerId, string file)
    {
        try
        {
            var process = spec.Process ?? throw new SpecException("process", "missing", "a container needs a process to run, e.g. {\"args\": [\"sh\"], \"cwd\": \"/\"}");
            CgroupManager.ResolvePath(containerId, spec.Linux?.CgroupsPath);
            CgroupManager.Validate(spec.Linux?.Resources);
            var seccomp = spec.Linux?.Seccomp is { } profile ? SeccompFilter.Compile(profile) : null;
            var launch = PlanCompiler.Container(spec, Path.GetDirectoryName(file)!, containerId);
            launch.Seccomp = seccomp;
            return new SpecPlan { Spec = spec, Process = process, Seccomp = seccomp, Launch = launch };
        }
        catch (SpecException e) { throw e.InFile(file); }
        catch (CgroupException e) { throw new SpecException(e.Message).InFile(file); }
        // A rule the translation let through but this libseccomp cannot build (its message names the rule).
        catch (SyscallException e) when (e.Call.StartsWith("seccomp_", StringComparison.Ordinal))
        {
            throw new SpecException($"linux.seccomp: libseccomp {LibSeccompVersion.Get()} refused it: {e.Message}").InFile(file);
        }
    }
}
