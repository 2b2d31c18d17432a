namespace Cnr.Spec;

/// <summary>Container ids name a directory under the state root, so they are checked before any path is
/// built from them. runc's rule: ^[\w+\-.]+$ (ASCII word characters), not "." or "..", at most 1024 bytes.</summary>
public static class ContainerId
{
    public const int MaxLength = 1024;

    public static void Validate(string id)
    {
        if (!IsValid(id))
            throw new ArgumentException(id.Length == 0
                ? "container id is empty (give one, e.g. `cnr run mybox`)"
                : $"container id \"{id}\" is invalid (use letters, digits, '_', '+', '-', '.'; at most {MaxLength} characters; not \".\" or \"..\")");
    }

    public static bool IsValid(string id)
    {
        if (id.Length is 0 or > MaxLength || id is "." or "..") return false;
        foreach (char c in id)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-' or '.'))
                return false;
        return true;
    }
}
