using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cnr.Linux;

namespace Cnr.Network;

/// <summary>A CNI failure: a configuration that cannot be used, or a plugin that reported an error.</summary>
public sealed class CniException(string message) : Exception(message);

/// <summary>A CNI network as libcni reads one: a configuration list (name, cniVersion, plugins) or a single
/// network configuration (a .conf: one plugin, its name and cniVersion at its own top level).</summary>
public sealed class CniNetwork
{
    public required string Name { get; init; }
    public required string CniVersion { get; init; }
    public required IReadOnlyList<JsonObject> Plugins { get; init; }

    public static CniNetwork Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException($"--conf {path}: cannot read it ({(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}): "
                + "give the network's .conflist (a relative path is taken from the bundle directory)");
        }
        return Parse(text, path);
    }

    public static CniNetwork Parse(string json, string file)
    {
        JsonObject top;
        try { top = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }) as JsonObject
                    ?? throw new CniException($"{file}: is not a JSON object (a CNI .conflist: {{\"cniVersion\", \"name\", \"plugins\": […]}})"); }
        catch (JsonException e) { throw new CniException($"{file}: is not valid JSON: {e.Message}"); }
        string name = Text(top, "name", file, "the network's name, e.g. \"cnr\"");
        string version = Text(top, "cniVersion", file, "the CNI spec version the plugins speak, e.g. \"1.0.0\"");
        List<JsonObject> plugins = [];
        if (top["plugins"] is JsonArray list)
        {
            for (int i = 0; i < list.Count; i++)
                plugins.Add(list[i] as JsonObject ?? throw new CniException($"{file}: plugins[{i}] is not an object (each plugin is {{\"type\": …, …}})"));
        }
        else if (top.ContainsKey("plugins"))
            throw new CniException($"{file}: plugins is not a list (plugins: [{{\"type\": \"bridge\", …}}, …])");
        else plugins.Add(top);  // a single-plugin .conf
        if (plugins.Count == 0) throw new CniException($"{file}: plugins is empty (list at least one plugin, e.g. {{\"type\": \"bridge\"}})");
        for (int i = 0; i < plugins.Count; i++)
        {
            var type = Text(plugins[i], "type", file, "the plugin's program name, e.g. \"bridge\"", $"plugins[{i}].");
            // The type names a program in CNI_PATH, nothing else: no path may come from it.
            if (type.Contains('/') || type is "." or "..")
                throw new CniException($"{file}: plugins[{i}].type \"{type}\" is not a plugin name (a program name in the plugin directories, without a path)");
        }
        return new CniNetwork { Name = name, CniVersion = version, Plugins = plugins };
    }

    private static string Text(JsonObject o, string key, string file, string what, string prefix = "")
        => o[key] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0
            ? s
            : throw new CniException($"{file}: {prefix}{key} is missing or not a string ({what})");
}

/// <summary>Where and for whom the plugins run: the CNI_* environment of one ADD or DEL.</summary>
/// <param name="Netns">the container's network namespace file; null on a DEL whose namespace is gone</param>
/// <param name="PluginDirs">CNI_PATH: the directories searched for each plugin's type</param>
public sealed record CniRuntime(string ContainerId, string? Netns, string IfName, IReadOnlyList<string> PluginDirs);

/// <summary>Runs a network's plugin chain the way libcni does: each plugin is the program its type names in
/// CNI_PATH, started with the CNI_* environment and its configuration (the list's name and cniVersion, and the
/// previous plugin's result as prevResult) on stdin; its stdout is the result, or the error on a non-zero exit.</summary>
public static class CniRunner
{
    /// <summary>ADD through the chain; the last plugin's result. A failure deletes what the chain did so far.</summary>
    public static JsonNode Add(CniNetwork net, CniRuntime rt)
    {
        JsonNode? result = null;
        for (int i = 0; i < net.Plugins.Count; i++)
        {
            try
            {
                result = Invoke("ADD", net, i, rt, result)
                    ?? throw new CniException($"{Who(net, i)} ADD printed no result");
            }
            catch (CniException)
            {
                // A half-made network (an address leased, a veth created) is undone, as nothing may be left behind.
                try { Del(net, rt, result); } catch (CniException) { }
                throw;
            }
        }
        return result!;
    }

    /// <summary>DEL through the chain in reverse, each with the ADD's result as prevResult (null when none was
    /// recorded). Every plugin runs even after one fails, so that the others release what they hold; the first
    /// failure is thrown.</summary>
    public static void Del(CniNetwork net, CniRuntime rt, JsonNode? addResult)
    {
        CniException? first = null;
        for (int i = net.Plugins.Count - 1; i >= 0; i--)
        {
            try { Invoke("DEL", net, i, rt, addResult); }
            catch (CniException e) { first ??= e; }
        }
        if (first is not null) throw first;
    }

    private static string Who(CniNetwork net, int i) => $"CNI plugin {net.Plugins[i]["type"]} (network {net.Name}, plugins[{i}])";

    private static JsonNode? Invoke(string command, CniNetwork net, int index, CniRuntime rt, JsonNode? prevResult)
    {
        var type = (string)net.Plugins[index]["type"]!;
        var conf = (JsonObject)net.Plugins[index].DeepClone();
        conf["cniVersion"] = net.CniVersion;
        conf["name"] = net.Name;
        conf.Remove("prevResult");
        if (prevResult is not null) conf["prevResult"] = prevResult.DeepClone();

        var program = rt.PluginDirs.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists)
            ?? throw new CniException($"{Who(net, index)}: no program {type} in {string.Join(':', rt.PluginDirs)} "
                                      + "(install Debian's containernetworking-plugins, or give --cni-path)");
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_CONTAINERID"] = rt.ContainerId;
        psi.Environment["CNI_NETNS"] = rt.Netns ?? "";
        psi.Environment["CNI_IFNAME"] = rt.IfName;
        psi.Environment["CNI_PATH"] = string.Join(':', rt.PluginDirs);
        psi.Environment.Remove("CNI_ARGS");
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(conf.ToJsonString());
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new CniException($"{Who(net, index)} {command} failed: {ErrorText(stdout, stderr.Result, p.ExitCode)}");
        if (command == "DEL" || stdout.Trim().Length == 0) return null;
        try { return JsonNode.Parse(stdout); }
        catch (JsonException e) { throw new CniException($"{Who(net, index)} {command} printed a result that is not JSON: {e.Message}"); }
    }

    /// <summary>The plugin's error object ({"code", "msg", "details"} on stdout), else what it wrote at all.</summary>
    private static string ErrorText(string stdout, string stderr, int exit)
    {
        try
        {
            if (JsonNode.Parse(stdout) is JsonObject e && e["msg"] is JsonValue msg)
                return msg + (e["details"] is JsonValue d && d.ToString().Length > 0 ? $": {d}" : "") + (e["code"] is { } c ? $" (CNI error code {c})" : "");
        }
        catch (JsonException) { }
        var text = (stdout + stderr).Trim();
        return text.Length > 0 ? text : $"exit status {exit}";
    }
}

/// <summary>What an ADD left, recorded for its DEL and for `cnr inspect`: libcni's cache file
/// (DIR/results/NETWORK-CONTAINERID-IFNAME, kind cniCacheV1, the same field names), plus the network
/// namespace the ADD ran in, so that a DEL enters it only while it is still that namespace.</summary>
public sealed class CniRecord
{
    public string ContainerId { get; init; } = "";
    public string NetworkName { get; init; } = "";
    public string IfName { get; init; } = "";
    /// <summary>The namespace file the ADD used: /proc/PID/ns/net, or the path the config names.</summary>
    public string Netns { get; init; } = "";
    /// <summary>That file's device and inode when the ADD ran ("dev:ino"), the namespace's identity.</summary>
    public string NetnsIdentity { get; init; } = "";
    public JsonNode? Result { get; init; }

    public static string PathOf(string cacheDir, string network, string containerId, string ifName)
        => Path.Combine(cacheDir, "results", $"{network}-{containerId}-{ifName}");

    /// <summary>"dev:ino" of a namespace file, null when it is gone.</summary>
    public static string? IdentityOf(string netns)
        => Libc.fstatat(SafeFd.AtCwd, netns, out var st, 0) == 0 ? $"{st.Dev}:{st.Ino}" : null;

    public void Write(string path)
    {
        var o = new JsonObject
        {
            ["kind"] = "cniCacheV1",
            ["containerId"] = ContainerId,
            ["ifName"] = IfName,
            ["networkName"] = NetworkName,
            ["netns"] = Netns,
            ["netnsIdentity"] = NetnsIdentity,
            ["result"] = Result?.DeepClone(),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The record at PATH; null when there is none (never added, or deleted already).</summary>
    public static CniRecord? Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        JsonObject o;
        try { o = JsonNode.Parse(text) as JsonObject ?? throw new CniException($"{path}: is not a CNI result record (a JSON object)"); }
        catch (JsonException e) { throw new CniException($"{path}: is not a CNI result record: {e.Message}"); }
        return new CniRecord
        {
            ContainerId = Str(o, "containerId"),
            NetworkName = Str(o, "networkName"),
            IfName = Str(o, "ifName"),
            Netns = Str(o, "netns"),
            NetnsIdentity = Str(o, "netnsIdentity"),
            Result = o["result"]?.DeepClone(),
        };
    }

    private static string Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue(out string? s) ? s : "";

    /// <summary>The result's interfaces and addresses, as `cnr inspect` shows them: the container's (those with
    /// a sandbox) and the host's (the veth's host end and the bridge, which the bridge plugin names first).</summary>
    public IEnumerable<(string Name, string? Sandbox, string Mac)> Interfaces()
    {
        if (Result?["interfaces"] is not JsonArray list) yield break;
        foreach (var i in list.OfType<JsonObject>())
            yield return (Str(i, "name"), i["sandbox"] is JsonValue s && s.TryGetValue(out string? sb) && sb.Length > 0 ? sb : null, Str(i, "mac"));
    }

    /// <summary>(address/prefix, gateway, interface name) of each ips[] entry.</summary>
    public IEnumerable<(string Address, string? Gateway, string? Interface)> Addresses()
    {
        if (Result?["ips"] is not JsonArray list) yield break;
        var interfaces = Interfaces().ToList();
        foreach (var ip in list.OfType<JsonObject>())
        {
            string? iface = ip["interface"] is JsonValue v && v.TryGetValue(out int idx) && idx >= 0 && idx < interfaces.Count ? interfaces[idx].Name : null;
            yield return (Str(ip, "address"), Str(ip, "gateway") is { Length: > 0 } g ? g : null, iface);
        }
    }
}
