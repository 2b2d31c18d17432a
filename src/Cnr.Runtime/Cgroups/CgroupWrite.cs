namespace Cnr.Cgroups;

/// <summary>One value for one cgroup v2 interface file, and the config.json field it comes from.</summary>
/// <param name="File">interface file name, e.g. memory.max</param>
/// <param name="Value">what is written, e.g. 104857600</param>
/// <param name="Source">the JSON path it comes from, e.g. linux.resources.memory.limit (for messages)</param>
/// <param name="Optional">a missing file is not an error (memory.swap.max "max"/"0" without swap accounting)</param>
public readonly record struct CgroupWrite(string File, string Value, string Source, bool Optional = false)
{
    /// <summary>The controller the file belongs to: its name up to the first dot ("cgroup" for core files).</summary>
    public string Controller => File[..File.IndexOf('.')];
}

/// <summary>A cgroup configuration or operation that cannot be carried out; the message names the JSON path
/// or the cgroup file and says what to do.</summary>
public class CgroupException(string message) : Exception(message);
