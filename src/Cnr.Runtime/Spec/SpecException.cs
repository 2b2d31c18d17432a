namespace Cnr.Spec;

/// <summary>A config.json that cnr cannot run. The message is one line for the user: where (a JSON path
/// such as <c>linux.namespaces[2].type</c>, or the file), what is wrong, and in parentheses how to fix it.</summary>
public sealed class SpecException : Exception
{
    /// <summary>The JSON path of the offending value ("process.args"), or null for file-level errors.</summary>
    public string? JsonPath { get; }

    public SpecException(string message) : base(message) { }

    public SpecException(string jsonPath, string problem, string fix) : this($"{jsonPath}: {problem} ({fix})", jsonPath) { }

    private SpecException(string message, string? jsonPath) : base(message) => JsonPath = jsonPath;

    /// <summary>The same error, prefixed with the file it was found in.</summary>
    public SpecException InFile(string file) => new($"{file}: {Message}", JsonPath);
}
