using System.CommandLine;
using System.Text.Json;
using Cnr.Containers;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr list [-f table|json] [-q]`.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "display only container IDs" };
        var cmd = new Command("list", "lists containers started by cnr with the given root") { format, quiet };
        cmd.Aliases.Add("ls");
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            var entries = new List<StateEntry>();
            // Unlocked (see StateCommand), and every claimed id: a create killed half-way shows as "stopped".
            foreach (var id in store.AllIds().Order(StringComparer.Ordinal))
            {
                try
                {
                    entries.Add(StateEntry.Of(Container.Read(store, id)));
                }
                catch (ContainerNotFoundException) { }
            }
            if (r.GetValue(quiet)) { foreach (var e in entries) Console.WriteLine(e.Id); return 0; }
            switch (r.GetValue(format))
            {
                case "json":
                    using (var stdout = Console.OpenStandardOutput())
                    using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Encoder = AsciiJsonEncoder.Instance }))
                    {
                        writer.WriteStartArray();
                        foreach (var e in entries) e.Write(writer);
                        writer.WriteEndArray();
                    }
                    Console.WriteLine();
                    break;
                case "table":
                    var rows = new List<string[]> { new[] { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" } };
                    rows.AddRange(entries.Select(e => new[] { e.Id, e.Pid.ToString(), e.Status, e.Bundle, e.Created.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ"), e.Owner }));
                    Table.Print(rows);
                    break;
                default: throw new UsageException($"--format: \"{r.GetValue(format)}\" is not a format (table, json)");
            }
            return 0;
        });
        return cmd;
    }
}

/// <summary>runc's containerState: what `state` prints and each row of `list --format json`, with its field
/// names and order. Written by hand: the light verbs should not build serializer metadata to print nine fields.</summary>
internal sealed class StateEntry
{
    public string OciVersion { get; set; } = "";
    public string Id { get; set; } = "";
    public int Pid { get; set; }
    public string Status { get; set; } = "";
    public string Bundle { get; set; } = "";
    public string Rootfs { get; set; } = "";
    public DateTime Created { get; set; }
    public string Owner { get; set; } = "";
    public Dictionary<string, string>? Annotations { get; set; }

    public static StateEntry Of(Container c)
    {
        var (record, state) = (c.Record, c.State(c.Status));
        return new StateEntry
        {
            OciVersion = state.OciVersion, Id = state.Id, Pid = state.Pid, Status = state.Status,
            Bundle = state.Bundle, Rootfs = record.Rootfs, Created = record.Created, Owner = record.Owner,
            Annotations = state.Annotations,
        };
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("ociVersion"u8, OciVersion);
        w.WriteString("id"u8, Id);
        w.WriteNumber("pid"u8, Pid);
        w.WriteString("status"u8, Status);
        w.WriteString("bundle"u8, Bundle);
        w.WriteString("rootfs"u8, Rootfs);
        w.WriteString("created"u8, Created);
        w.WriteString("owner"u8, Owner);
        if (Annotations is not null)
        {
            w.WriteStartObject("annotations"u8);
            foreach (var (key, value) in Annotations) w.WriteString(key, value);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}

/// <summary>Left-aligned columns padded like Go's tabwriter with a padding of 6, as runc prints.</summary>
internal static class Table
{
    public static void Print(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            Console.WriteLine(string.Join("", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c] + 6))).TrimEnd());
    }
}
