using Xunit;

namespace Cnr.IntegrationTests.Harness;

/// <summary>The one way a test waits for something the kernel or a container does asynchronously: poll a
/// condition until a deadline. Never sleep-then-assert: a fixed sleep is too short on a loaded machine and
/// wasted time on an idle one.</summary>
public static class Wait
{
    /// <summary>Long enough for a container step on a machine shared by many builds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Polls CONDITION (every 20 ms unless EVERY says otherwise) until it holds; fails the test
    /// naming WHAT, and what LAST says about the state then, when it does not within TIMEOUT.</summary>
    public static void Until(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? last = null, TimeSpan? every = null)
    {
        if (!For(condition, timeout, every))
            Assert.Fail($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s waiting for {what}{(last is null ? "" : ": " + last())}");
    }

    /// <summary>As <see cref="Until"/>, for a caller that acts on a timeout itself (cleans up first, or
    /// proceeds): false when CONDITION still does not hold at the deadline.</summary>
    public static bool For(Func<bool> condition, TimeSpan? timeout = null, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(every ?? TimeSpan.FromMilliseconds(20));
        }
        return true;
    }
}
