using System.Text.Json.Serialization;

namespace Cnr.Cli;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<int>))]
internal sealed partial class CliJson : JsonSerializerContext;
