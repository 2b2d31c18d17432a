namespace Cnr.Spec;

/// <summary>Container ids name a directory under the state root (and the default cgroup), so they are checked
/// before any path is built from them. runc's characters: ^[\w+\-.]+$ (ASCII word characters), not "." or "..".
/// runc sets no length limit and fails at mkdir with ENAMETOOLONG past 255; cnr says so first.</summary>
public static class ContainerId
{
    /// <summary>NAME_MAX: the longest file name Linux filesystems take, so the longest state directory name.</summary>
    public const int MaxLength = 255;

    public static void Validate(string id)
    {
        if (id.Length == 0)
            throw new ArgumentException("container id is empty (give one, e.g. `cnr run mybox`)");
        if (id.Length > MaxLength)
            throw new ArgumentException($"container id \"{id[..20]}…\" is {id.Length} characters long (at most {MaxLength}: the id names a directory under --root, and a file name is at most {MaxLength} bytes)");
        if (!IsValid(id))
            throw new ArgumentException($"container id {SpecException.Show(id)} is invalid (use letters, digits, '_', '+', '-', '.'; not \".\" or \"..\")");
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
