using Cnr.Linux;
using Cnr.Plan;

namespace Cnr.Process;

/// <summary>The payload of <see cref="SyncMessage.Error"/>: a failed system call crosses as its parts (call,
/// errno, detail, where), so that the parent rethrows the same <see cref="SyscallException"/> and the user sees
/// one format whichever process failed; anything else crosses as its one-line message. Encoded with the
/// plan's <see cref="PlanWriter"/>.</summary>
public static class InitError
{
    public static byte[] Encode(Exception e)
    {
        var w = new PlanWriter();
        if (w.Has(e as SyscallException))
        {
            var s = (SyscallException)e;
            w.String(s.Call);
            w.Int((int)s.Number);
            w.String(s.Detail);
            w.String(s.Where);
        }
        else w.String(e.Message);
        return w.ToArray();
    }

    /// <summary>The exception the init threw, as the parent rethrows it.</summary>
    public static Exception Decode(byte[] payload)
    {
        try
        {
            var r = new PlanReader(payload);
            Exception e = r.Bool()
                ? new SyscallException(r.String()!, (Error)r.Int(), r.String(), r.String())
                : new InitFailedException(r.String()!);
            r.End();
            return e;
        }
        catch (InvalidDataException bad) { return new InitFailedException($"container init failed, and its error message was damaged ({bad.Message})"); }
    }
}
